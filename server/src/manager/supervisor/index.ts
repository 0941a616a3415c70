/** The supervisor's door. */
export { createSupervisor } from './supervisor';
export type { Supervisor, SupervisorOptions } from './supervisor';
export { backoffDelay } from './backoff';
export type { BackoffOptions } from './backoff';
export { probeGateway } from './probe';
export { createSleeper } from './sleeper';
export type { Sleeper, SleeperOptions, SleepingService } from './sleeper';

/**
 * The CLI's door: the `autoclaw` entry point and the Node client of a
 * gateway (device-authenticated tRPC over WebSocket), which benchmarks and
 * end-to-end tests use too.
 */
export { main } from './main';
export { connectAsDevice, deviceAuthParams, fetchChallenge } from './gateway-client';
export type { ConnectOptions, GatewayConnection } from './gateway-client';

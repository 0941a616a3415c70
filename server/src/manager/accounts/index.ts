/** The accounts part's door. */
export { createAccountService } from './service';
export type { AccountService, AccountServiceOptions, AddressLimiter, SignedIn, SignInLimits } from './service';
export { DEFAULT_SESSION_TIMINGS } from './sessions';
export type { RevokeReason, SessionTimings } from './sessions';
export { hashPassword, verifyPassword } from './passwords';
export { SETUP_LINK_TTL_MS } from './setup-link';
export { ACCOUNTS_MIGRATIONS } from './schema';

/**
 * The manager's accounts contract: sign-up modes, users, sessions, invites,
 * the one-time setup link and the audit log, as the desktop app, the
 * WebChat renderer and the CLI see them. Inputs are validated by these
 * schemas on the server; emails are compared lowercase.
 */
import { z } from 'zod';

/** How new accounts come to be: only by the operator, with an owner's invite, or by anyone. */
export const SIGNUP_MODES = ['closed', 'invite', 'open'] as const;
export const SignupModeSchema = z.enum(SIGNUP_MODES);
export type SignupMode = z.infer<typeof SignupModeSchema>;

export const USER_ROLES = ['owner', 'member'] as const;
export const UserRoleSchema = z.enum(USER_ROLES);
export type UserRole = z.infer<typeof UserRoleSchema>;

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;
export const EMAIL_MAX_CHARS = 254;

/** Opaque tokens (sessions, setup links, invites): base64url with a short prefix. */
const TOKEN_RE = /^[a-z]{2,4}_[A-Za-z0-9_-]{20,100}$/;

export const EmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, 'email is too short')
  .max(EMAIL_MAX_CHARS, `email is longer than ${EMAIL_MAX_CHARS} characters`)
  // One @, something on each side, a dot in the domain, no spaces or control characters.
  .regex(/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u, 'not a valid email address');

export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_CHARS, `password needs at least ${PASSWORD_MIN_CHARS} characters`)
  .max(PASSWORD_MAX_CHARS, `password is longer than ${PASSWORD_MAX_CHARS} characters`)
  .refine((p) => p.trim().length > 0, 'password cannot be only spaces');

export const OpaqueTokenSchema = z.string().max(128).regex(TOKEN_RE, 'not a valid token');

export const ManagerUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: UserRoleSchema,
  createdAt: z.number().int(),
});
export type ManagerUser = z.infer<typeof ManagerUserSchema>;

/** What sign-in, sign-up, setup and refresh answer. */
export const AuthResultSchema = z.object({
  /** Send as `Authorization: Bearer <token>` (HTTP) or connectionParams `{ token }` (WebSocket). */
  token: z.string(),
  /** When this token stops working unless refreshed (ms since epoch). */
  expiresAt: z.number().int(),
  /** When the session ends for good, refreshes or not. */
  sessionExpiresAt: z.number().int(),
  user: ManagerUserSchema,
});
export type AuthResult = z.infer<typeof AuthResultSchema>;

export const SetupStatusSchema = z.object({
  /** No account exists yet, so a setup link can create the owner. */
  open: z.boolean(),
  /** Whether the token asked about is valid now (null when none was given). */
  tokenValid: z.boolean().nullable(),
  signup: SignupModeSchema,
});
export type SetupStatus = z.infer<typeof SetupStatusSchema>;

export const InviteSchema = z.object({
  id: z.string(),
  /** Only in the answer of invites.create; stored hashed. */
  code: z.string().optional(),
  email: z.string().nullable(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  usedAt: z.number().int().nullable(),
});
export type Invite = z.infer<typeof InviteSchema>;

export const AuditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.number().int(),
  /** `user:<id>`, `operator` (the CLI) or `system`. */
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditVerifyResultSchema = z.object({
  ok: z.boolean(),
  /** Entries in the table. */
  count: z.number().int(),
  /** Entries the signed head vouches for (null when the head is missing or unreadable). */
  signedCount: z.number().int().nullable(),
  /** The first entry that is not as it was written (seq), or null. */
  firstBadSeq: z.number().int().nullable(),
  problem: z.string().nullable(),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResultSchema>;

/** connectionParams of a manager WebSocket (none for a signed-out socket). */
export interface ManagerConnectionParams {
  token: string;
  [key: string]: string;
}

/** WebSocket close code when the session token is unknown, expired or revoked. */
export const MANAGER_WS_CLOSE_UNAUTHORIZED = 4401;

/**
 * The nonce a device already paired with the account's instance signs to
 * prove itself at sign-in (authPayload(SIGNIN_PROOF_NONCE, deviceId,
 * timestamp), the same signer as a gateway's challenge): such a sign-in
 * skips the throttling of unknown clients. A gateway's nonces are random, so
 * a proof is never a gateway's answer (nor one the other way round); the
 * manager checks that the key was paired with this account's instance.
 */
export const SIGNIN_PROOF_NONCE = 'autoclaw-signin-v1';

/** A paired device's proof at sign-in (see SIGNIN_PROOF_NONCE). */
export const SignInDeviceProofSchema = z
  .object({
    publicKey: z.string().max(64),
    timestamp: z.number().int().nonnegative(),
    signature: z.string().max(128),
  })
  .strict();
export type SignInDeviceProof = z.infer<typeof SignInDeviceProofSchema>;

export const ManagerInputs = {
  signUp: z.object({ email: EmailSchema, password: PasswordSchema, inviteCode: OpaqueTokenSchema.optional() }).strict(),
  signIn: z.object({ email: EmailSchema, password: z.string().min(1).max(PASSWORD_MAX_CHARS), device: SignInDeviceProofSchema.optional() }).strict(),
  refresh: z.object({ token: OpaqueTokenSchema }).strict(),
  changePassword: z
    .object({ currentPassword: z.string().min(1).max(PASSWORD_MAX_CHARS), newPassword: PasswordSchema })
    .strict(),
  setupStatus: z.object({ token: OpaqueTokenSchema.optional() }).strict().optional(),
  completeSetup: z.object({ token: OpaqueTokenSchema, email: EmailSchema, password: PasswordSchema }).strict(),
  invitesCreate: z
    .object({ email: EmailSchema.optional(), ttlHours: z.number().int().min(1).max(24 * 30).optional() })
    .strict()
    .optional(),
  auditList: z
    .object({ afterSeq: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(500).optional() })
    .strict()
    .optional(),
  operatorCreateUser: z.object({ email: EmailSchema, password: PasswordSchema, role: UserRoleSchema.optional() }).strict(),
  operatorResetPassword: z.object({ email: EmailSchema, password: PasswordSchema }).strict(),
} as const;

/**
 * Instances as the manager shows them: the lifecycle states, the instance
 * view, its event log (every transition and supervisor action, persisted and
 * shown to the user), the instances.* procedure inputs and the gateway's
 * admin.* procedures that only the manager device may call.
 */
import { z } from 'zod';
import { EmailSchema } from './manager-accounts';
import { Id } from './schemas';

/** The lifecycle (the transition table is in server/src/manager/instances/state-machine.ts). */
export const INSTANCE_STATES = [
  'provisioning',
  'starting',
  'running',
  'degraded',
  'stopping',
  'stopped',
  'deleting',
  'failed',
  /** Reserved for release channels (a later issue). */
  'updating',
  /** Reserved for backups (a later issue). */
  'restoring',
  /** Idle (no client, no turn, no channel that needs a live process): its process is gone; the next connect wakes it. */
  'sleeping',
] as const;
export const InstanceState = z.enum(INSTANCE_STATES);
export type InstanceState = z.infer<typeof InstanceState>;

export const INSTANCE_DRIVERS = ['local', 'kubernetes'] as const;
export const InstanceDriverKind = z.enum(INSTANCE_DRIVERS);
export type InstanceDriverKind = z.infer<typeof InstanceDriverKind>;

export const InstanceSchema = z.object({
  id: Id,
  /** The owner's e-mail (an account has one primary instance, and may have others). */
  owner: z.string(),
  state: InstanceState,
  driver: InstanceDriverKind,
  /** Where the gateway listens (null before it first started). */
  url: z.string().nullable(),
  /** Local driver: the gateway's pid and port. */
  pid: z.number().int().optional(),
  port: z.number().int().optional(),
  memoryLimitMb: z.number().int(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Why the instance last failed (for `failed`: the crash loop's last log lines). */
  lastError: z.string().optional(),
  /** Restarts made by the supervisor since the instance was created. */
  restarts: z.number().int(),
  /** Channels that keep it awake (they need a long-lived connection), as its gateway last said; absent when none. */
  keepAwake: z.array(z.string()).optional(),
  /** false for an account's other instances (e.g. a backup restored into a new one); absent on its primary. */
  primary: z.literal(false).optional(),
});
export type Instance = z.infer<typeof InstanceSchema>;

export const INSTANCE_EVENT_KINDS = [
  /** A state change (from → to). */
  'transition',
  /** Health probes failed or recovered. */
  'health',
  /** The gateway process exited on its own. */
  'crash',
  /** The supervisor restarted the gateway (with its backoff). */
  'restart',
  /** After a manager restart, a live gateway was taken over instead of restarted. */
  'adopted',
  /** Memory passed the limit: drained and restarted between turns. */
  'memory',
  /** A device was paired (ticket issued) or revoked. */
  'device',
  /** An update's step (backup, trial start, switch, health) or its rollback. */
  'update',
  /** A backup was taken or restored. */
  'backup',
  /** Put to sleep when idle, or woken (by whom). */
  'sleep',
] as const;
export const InstanceEventKind = z.enum(INSTANCE_EVENT_KINDS);
export type InstanceEventKind = z.infer<typeof InstanceEventKind>;

export const InstanceEventSchema = z.object({
  /** Increasing per manager; the tracked id of instances.events. */
  id: z.number().int(),
  instanceId: Id,
  at: z.number(),
  kind: InstanceEventKind,
  from: InstanceState.nullable(),
  to: InstanceState.nullable(),
  message: z.string(),
  /** Last lines the gateway wrote (crashes, crash loops). */
  logLines: z.array(z.string()).optional(),
});
export type InstanceEvent = z.infer<typeof InstanceEventSchema>;

/** A device's raw Ed25519 public key, base64url without padding. */
export const DevicePublicKeySchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a base64url raw Ed25519 public key');
export const PairDeviceNameSchema = z
  .string()
  .trim()
  .min(1, 'deviceName is empty')
  .max(80)
  .regex(/^\P{Cc}+$/u, 'deviceName has control characters');

export const InstanceRef = z.object({ instanceId: Id }).strict();

export const InstanceInputs = {
  start: InstanceRef,
  stop: InstanceRef,
  delete: InstanceRef,
  devices: InstanceRef,
  events: z.object({ instanceId: Id, lastEventId: z.string().max(32).nullish() }).strict(),
  pairDevice: z.object({ instanceId: Id, publicKey: DevicePublicKeySchema, deviceName: PairDeviceNameSchema }).strict(),
  revokeDevice: z.object({ instanceId: Id, deviceId: Id }).strict(),
  doorPass: InstanceRef,
  /** The operator CLI (`autoclaw instances …`) through a running manager. */
  operatorCreate: z.object({ owner: EmailSchema }).strict(),
  operatorRef: InstanceRef,
  /** instances.setPrimary: the account uses this instance from now on (the door, instances.mine). */
  setPrimary: InstanceRef,
} as const;

/** instances.pairDevice: the ticket the device presents at POST /auth/ticket of `gatewayUrl`. */
export const PairDeviceResultSchema = z.object({
  instanceId: Id,
  ticket: z.string(),
  gatewayUrl: z.string(),
  /** The instance behind the manager's one door (`/i/<instanceId>`): a signed-in app talks to it at `<manager origin><doorPath>`. */
  doorPath: z.string(),
  expiresAt: z.number(),
});
export type PairDeviceResult = z.infer<typeof PairDeviceResultSchema>;

/**
 * instances.doorPass: a short-lived proof that the caller is signed in as the
 * instance's owner, sent with each connect through the door as the
 * `door_pass` query parameter (a browser's WebSocket cannot send headers).
 */
export const DoorPassSchema = z.object({ pass: z.string(), expiresAt: z.number() });
export type DoorPass = z.infer<typeof DoorPassSchema>;
export const DOOR_PASS_PARAM = 'door_pass';
/** Where an instance answers behind the manager's one door. */
export const doorPathOf = (instanceId: string): string => `/i/${instanceId}`;

/** Body of the gateway's POST /auth/ticket. */
export interface TicketPairRequest {
  ticket: string;
  publicKey: string;
  nonce: string;
  timestamp: number;
  signature: string;
}

/* ---------- the gateway's admin.* procedures (manager device only) ---------- */

export const GatewayAdminInputs = {
  drain: z.object({ timeoutMs: z.number().int().min(0).max(600_000) }).strict(),
  /** A notice from the manager to the user (e.g. an update rolled back). */
  notify: z.object({ kind: z.enum(['update', 'backup', 'system']), level: z.enum(['info', 'warning', 'error']), title: z.string().min(1).max(200), body: z.string().max(4_000), key: z.string().max(200).optional() }).strict(),
} as const;

/** admin.selfCheck: store, migrations and agent wiring, exercised without a provider call. */
export const SelfCheckSchema = z.object({
  ok: z.boolean(),
  version: z.string(),
  schemaVersion: z.number().int(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
});
export type SelfCheck = z.infer<typeof SelfCheckSchema>;

/** admin.activity: what keeps a gateway awake (the manager lets an idle one sleep). */
export const GatewayActivitySchema = z.object({
  busySessions: z.number().int(),
  /** Authenticated client sockets, the manager's own not counted. */
  clients: z.number().int(),
  /** Enabled channels that need a long-lived connection (long poll, gateway socket, socket mode); webhook-mode ones are not here. */
  keepAwake: z.array(z.string()),
});
export type GatewayActivity = z.infer<typeof GatewayActivitySchema>;

export const GatewayHealthSchema = z.object({
  rssMb: z.number(),
  uptimeMs: z.number(),
  busySessions: z.number().int(),
  draining: z.boolean(),
});
export type GatewayHealth = z.infer<typeof GatewayHealthSchema>;

export const DrainResultSchema = z.object({ drained: z.boolean(), busySessions: z.number().int() });
export type DrainResult = z.infer<typeof DrainResultSchema>;

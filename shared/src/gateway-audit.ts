/**
 * The gateway's audit log: who changed what and when (settings, endpoints,
 * device roles, revocations). Append-only; never holds a secret — a key
 * change is recorded as set or cleared, an endpoint by its host.
 */
import { z } from 'zod';
import { Id } from './schemas';

export const GATEWAY_AUDIT_ACTIONS = [
  'settings.set',
  'settings.clear',
  'settings.endpoint',
  'devices.revoke',
  'devices.role',
  'budget.set',
  'budget.plan',
  'channels.enable',
  'channels.disable',
  'channels.approve',
  'channels.deny',
  'channels.revoke',
] as const;
export const GatewayAuditAction = z.enum(GATEWAY_AUDIT_ACTIONS);
export type GatewayAuditAction = z.infer<typeof GatewayAuditAction>;

export const GatewayAuditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.number(),
  /** The device that made the change; null for the local CLI working on the data directory itself. */
  deviceId: Id.nullable(),
  action: GatewayAuditAction,
  /** A setting key, a device id, a channel, or `<channel>:<sender id>`. */
  target: z.string(),
  /** Before and after: an endpoint's host (`default` for the provider's own), a model, a role; null for secrets. */
  oldValue: z.string().nullable(),
  newValue: z.string().nullable(),
  /** E.g. "anthropic.apiKey cleared". */
  detail: z.string().nullable(),
});
export type GatewayAuditEntry = z.infer<typeof GatewayAuditEntrySchema>;

export const GatewayAuditPageSchema = z.object({ entries: z.array(GatewayAuditEntrySchema), nextCursor: z.string().nullable() });
export type GatewayAuditPage = z.infer<typeof GatewayAuditPageSchema>;

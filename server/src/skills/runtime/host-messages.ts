/** Checks every message a skill's process sends before the gateway acts on it (the child is not trusted). */
import { z } from 'zod';
import type { FromHost } from './protocol';

const Bytes = z.instanceof(Uint8Array);
const HeaderPairs = z.array(z.tuple([z.string().max(256), z.string().max(16_384)])).max(200);

const Request = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('fetch'),
    req: z.object({
      url: z.string().max(8_192),
      method: z.string().regex(/^[A-Za-z]{1,16}$/),
      headers: HeaderPairs,
      body: Bytes.nullable(),
      redirect: z.enum(['follow', 'manual', 'error']),
    }),
  }),
  z.object({ kind: z.literal('index-put'), path: z.string().min(1).max(512), text: z.string().max(1024 * 1024) }),
  z.object({ kind: z.literal('index-delete'), path: z.string().min(1).max(512) }),
  z.object({ kind: z.literal('index-search'), query: z.string().max(1_000), limit: z.number().int().min(1).max(50) }),
  z.object({ kind: z.literal('exec'), command: z.string().min(1).max(4_000), timeoutMs: z.number().int().min(100).max(600_000) }),
  z.object({ kind: z.literal('save-secret'), name: z.string().max(64), value: z.string().min(1).max(8_192) }),
]);

const Id = z.number().int().nonnegative();

const Message = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready') }),
  z.object({ t: z.literal('init-failed'), message: z.string().max(2_000) }),
  z.object({ t: z.literal('result'), id: Id, ok: z.boolean(), content: z.string().max(2 * 1024 * 1024) }),
  z.object({ t: z.literal('request'), id: Id, call: Id, request: Request }),
  z.object({ t: z.literal('cancel-request'), id: Id }),
]);

/** The message, or null when it is not one the protocol knows. */
export function parseHostMessage(raw: unknown): FromHost | null {
  const parsed = Message.safeParse(raw);
  return parsed.success ? (parsed.data as FromHost) : null;
}

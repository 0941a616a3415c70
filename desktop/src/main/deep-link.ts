/**
 * `autoclaw://` links. Only two shapes exist and everything else is refused:
 *   autoclaw://pair?code=ABCD-EFGH[&instance=ID]
 *   autoclaw://pair?ticket=PAYLOAD.SIGNATURE[&instance=ID]
 *   autoclaw://open?session=ID
 * A link can never name a gateway or manager URL (unknown parameters are
 * refused), so a crafted link cannot send this device's handshake elsewhere.
 * Links reach us from other programs (the OS, a browser, a second instance's
 * argv), so the raw text is checked before the URL parser, which would
 * silently drop tabs and newlines and trim spaces.
 */
import { Id } from '@autoclaw/shared';
import type { DeepLink } from '../preload/api';

export const DEEP_LINK_SCHEME = 'autoclaw';
const MAX_LINK_CHARS = 2048;
/** Printable ASCII only: no spaces, controls or look-alike Unicode. */
const PRINTABLE = /^[\x21-\x7e]+$/;
/** Crockford base32 as the gateway issues it: ABCD-EFGH (dash optional, any case). */
const PAIRING_CODE = /^[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4}$/i;
/** base64url(JSON payload) "." base64url(64-byte Ed25519 signature). */
const TICKET = /^[A-Za-z0-9_-]{16,1500}\.[A-Za-z0-9_-]{86}$/;

export type DeepLinkResult = { ok: true; link: DeepLink } | { ok: false; reason: string };

function refuse(reason: string): DeepLinkResult {
  return { ok: false, reason };
}

/** Query parameters as a map; null when a name repeats. */
function uniqueParams(url: URL): Map<string, string> | null {
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (params.has(name)) return null;
    params.set(name, value);
  }
  return params;
}

function onlyKnown(params: Map<string, string>, allowed: readonly string[]): string | null {
  for (const name of params.keys()) if (!allowed.includes(name)) return name;
  return null;
}

function parsePair(params: Map<string, string>): DeepLinkResult {
  const unknown = onlyKnown(params, ['code', 'ticket', 'instance']);
  if (unknown !== null) return refuse(`unknown parameter "${unknown.slice(0, 32)}"`);
  const code = params.get('code') ?? null;
  const ticket = params.get('ticket') ?? null;
  if ((code === null) === (ticket === null)) return refuse('a pair link carries exactly one of code or ticket');
  if (code !== null && !PAIRING_CODE.test(code)) return refuse('malformed pairing code');
  if (ticket !== null && !TICKET.test(ticket)) return refuse('malformed pairing ticket');
  const instance = params.get('instance') ?? null;
  if (instance !== null && !Id.safeParse(instance).success) return refuse('malformed instance id');
  return {
    ok: true,
    link: { kind: 'pair', code: code === null ? null : code.toUpperCase(), ticket, instanceId: instance },
  };
}

function parseOpen(params: Map<string, string>): DeepLinkResult {
  const unknown = onlyKnown(params, ['session']);
  if (unknown !== null) return refuse(`unknown parameter "${unknown.slice(0, 32)}"`);
  const session = params.get('session');
  if (session === undefined || !Id.safeParse(session).success) return refuse('missing or malformed session id');
  return { ok: true, link: { kind: 'open', sessionId: session } };
}

/** Validates one link from outside; never throws. */
export function parseDeepLink(raw: unknown): DeepLinkResult {
  if (typeof raw !== 'string') return refuse('not a string');
  if (raw.length > MAX_LINK_CHARS) return refuse('too long');
  if (!PRINTABLE.test(raw)) return refuse('contains spaces, control or non-ASCII characters');
  if (!raw.startsWith(`${DEEP_LINK_SCHEME}://`)) return refuse('not an autoclaw:// link');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not a URL');
  }
  if (url.username !== '' || url.password !== '' || url.port !== '') return refuse('credentials or port in link');
  if (url.hash !== '') return refuse('fragment in link');
  if (url.pathname !== '' && url.pathname !== '/') return refuse('unexpected path');
  const params = uniqueParams(url);
  if (params === null) return refuse('repeated parameter');
  if (url.host === 'pair') return parsePair(params);
  if (url.host === 'open') return parseOpen(params);
  return refuse('unknown action');
}

/**
 * The link in a command line (first launch on Windows/Linux, or a second
 * instance's argv): the first argument that starts with the scheme. A switch
 * with a link inside (`--x=autoclaw://…`) does not count.
 */
export function findDeepLinkInArgv(argv: readonly string[]): string | null {
  for (const arg of argv) if (arg.startsWith(`${DEEP_LINK_SCHEME}://`)) return arg;
  return null;
}


/**
 * How to reach the local tailscaled's LocalAPI. It is plain HTTP whose Host
 * header must be `local-tailscaled.sock`; only the carrier differs by
 * platform:
 * * Linux and the open-source macOS tailscaled: a Unix socket.
 * * Windows: a named pipe (Node's `socketPath` speaks both).
 * * The macOS standalone app ("macsys"): a loopback TCP port plus a token sent
 *   as the password of HTTP Basic auth, found through
 *   `/Library/Tailscale/ipnport` (a symlink whose target is the port) and
 *   `/Library/Tailscale/sameuserproof-PORT` (the token).
 * The sandboxed Mac App Store variant hides its port behind `lsof` of the
 * IPNExtension process; we do not shell out for it (callers may pass the
 * port and token explicitly).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export const LOCALAPI_HOST = 'local-tailscaled.sock';
export const LINUX_SOCKET_PATH = '/var/run/tailscale/tailscaled.sock';
export const MACOS_OSS_SOCKET_PATH = '/var/run/tailscaled.socket';
export const WINDOWS_PIPE_PATH = '\\\\.\\pipe\\ProtectedPrefix\\Administrators\\Tailscale\\tailscaled';
export const MACSYS_DIR = '/Library/Tailscale';

export type LocalApiTransport =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'pipe'; pipePath: string }
  /** The token is a credential: never log it. */
  | { kind: 'tcp'; port: number; token: string; host?: string };

export interface ResolveTransportOptions {
  platform?: NodeJS.Platform;
  /** Explicit socket (or, on Windows, pipe) path; wins over discovery. */
  socketPath?: string;
  /** Where the macOS standalone app keeps `ipnport` and `sameuserproof-*` (tests point it at a temp dir). */
  macsysDir?: string;
}

/** Reads the macOS standalone app's port and token, or null when they are not there. */
export function readMacsysPortAndToken(dir: string = MACSYS_DIR): { port: number; token: string } | null {
  let portText: string;
  try {
    portText = readlinkSync(join(dir, 'ipnport'));
  } catch {
    return null;
  }
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65_535) return null;
  let token: string;
  try {
    token = readFileSync(join(dir, `sameuserproof-${portText}`), 'utf8').trim();
  } catch {
    return null;
  }
  return token === '' ? null : { port, token };
}

/** Picks the transport for this platform (see the file comment). */
export function resolveLocalApiTransport(opts: ResolveTransportOptions = {}): LocalApiTransport {
  const platform = opts.platform ?? process.platform;
  if (opts.socketPath !== undefined && opts.socketPath !== '') {
    return platform === 'win32' ? { kind: 'pipe', pipePath: opts.socketPath } : { kind: 'unix', socketPath: opts.socketPath };
  }
  switch (platform) {
    case 'win32':
      return { kind: 'pipe', pipePath: WINDOWS_PIPE_PATH };
    case 'darwin': {
      const macsys = readMacsysPortAndToken(opts.macsysDir);
      if (macsys) return { kind: 'tcp', port: macsys.port, token: macsys.token };
      return { kind: 'unix', socketPath: MACOS_OSS_SOCKET_PATH };
    }
    default:
      return { kind: 'unix', socketPath: LINUX_SOCKET_PATH };
  }
}

/** A log-safe description (no token). */
export function describeTransport(t: LocalApiTransport): string {
  switch (t.kind) {
    case 'unix':
      return `unix:${t.socketPath}`;
    case 'pipe':
      return `pipe:${t.pipePath}`;
    case 'tcp':
      return `tcp:${t.host ?? '127.0.0.1'}:${t.port}`;
  }
}

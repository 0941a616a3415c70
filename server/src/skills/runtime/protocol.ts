/**
 * The tiny protocol between the gateway and a skill's process, over Node's
 * IPC channel (advanced serialization, so bodies travel as bytes). The
 * gateway trusts nothing the child sends: runtime/host-messages.ts checks
 * every message with zod before acting on it.
 */
import type { EgressRequest, EgressResponse } from '../egress/egress-fetch';

export interface HostInit {
  t: 'init';
  skill: string;
  folder: string;
  entry: string;
  /** The vetted SHA-256 of every file; the host checks them again before import. */
  files: Record<string, string>;
  /** Absolute folder of the skill's workspace scope, or null. */
  scopeDir: string | null;
  access: 'read' | 'read-write' | null;
  /** Chromium the skill may start, and the proxy it must use. */
  chromium: { path: string; proxy: string } | null;
}

export interface HostCall {
  t: 'call';
  id: number;
  tool: string;
  input: unknown;
  /** Only the secrets the skill declared, only while it is enabled. */
  secrets: Record<string, string>;
  settings: Record<string, string | null>;
  oauthToken: string | null;
}

export type ToHost =
  | HostInit
  | HostCall
  | { t: 'abort'; id: number }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; message: string };

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  output: string;
  truncated: boolean;
  timedOut: boolean;
}

export interface IndexHit {
  path: string;
  snippet: string;
}

/** What the host asks the gateway for, on behalf of the call `call`. */
export type HostRequest =
  | { kind: 'fetch'; req: EgressRequest }
  | { kind: 'index-put'; path: string; text: string }
  | { kind: 'index-delete'; path: string }
  | { kind: 'index-search'; query: string; limit: number }
  | { kind: 'exec'; command: string; timeoutMs: number }
  | { kind: 'save-secret'; name: string; value: string };

export interface HostReplies {
  fetch: EgressResponse;
  'index-put': null;
  'index-delete': null;
  'index-search': IndexHit[];
  exec: ExecResult;
  'save-secret': null;
}

export type FromHost =
  | { t: 'ready' }
  | { t: 'init-failed'; message: string }
  | { t: 'result'; id: number; ok: boolean; content: string }
  | { t: 'request'; id: number; call: number; request: HostRequest }
  | { t: 'cancel-request'; id: number };

/**
 * How the `autoclaw` CLI talks to the manager running on a data directory:
 * finds it by its runtime file and /healthz, then calls tRPC over HTTP as
 * the operator (`Authorization: Operator <DIR/operator.key>`). Over HTTPS it
 * pins the exact certificate the manager was started with (read from the
 * path in the runtime file), so a self-signed certificate works and nothing
 * is sent to any other server. Plain node:http(s), no client library.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { AppError, isErrorCode } from '@autoclaw/shared';
import { readSecretFile } from '../security';
import { operatorKeyPath } from './paths';
import { findRunningManager } from './runtime-file';
import type { ManagerRuntimeInfo } from './runtime-file';

interface HttpAnswer {
  status: number;
  body: string;
}

function send(runtime: ManagerRuntimeInfo, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | null, timeoutMs: number): Promise<HttpAnswer> {
  const url = new URL(path, runtime.url);
  const https = url.protocol === 'https:';
  let pinned: string | null = null;
  if (https) {
    if (!runtime.tlsCertPath) return Promise.reject(new AppError('FORBIDDEN', 'the manager serves HTTPS but its runtime file names no certificate'));
    pinned = new X509Certificate(readFileSync(runtime.tlsCertPath)).fingerprint256;
  }
  const allHeaders = { ...headers, ...(body === null ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) };
  return new Promise<HttpAnswer>((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const options = { method, headers: allHeaders, timeout: timeoutMs, agent: false as const };
    const req: ClientRequest = https
      ? // The certificate is checked by fingerprint below, before anything is sent.
        httpsRequest(url, { ...options, rejectUnauthorized: false }, onResponse)
      : httpRequest(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(AppError.is(err) ? err : new AppError('NOT_FOUND', `cannot reach the manager at ${runtime.url}: ${err.message}`)));
    if (!https) {
      req.end(body ?? undefined);
      return;
    }
    req.on('socket', (socket) => {
      const tls = socket as TLSSocket;
      const check = () => {
        if (tls.getPeerCertificate().fingerprint256 !== pinned) {
          req.destroy(new AppError('FORBIDDEN', `the server at ${runtime.url} does not present the manager's certificate`));
          return;
        }
        req.end(body ?? undefined);
      };
      // agent: false, so this is always a fresh socket still shaking hands.
      tls.once('secureConnect', check);
    });
  });
}

/** Whether the manager answers its health check (at most `timeoutMs`). */
export async function managerAnswers(runtime: ManagerRuntimeInfo, timeoutMs = 1_500): Promise<boolean> {
  try {
    const res = await send(runtime, 'GET', '/healthz', {}, null, timeoutMs);
    return res.status === 200 && (JSON.parse(res.body) as { service?: unknown }).service === 'autoclaw-manager';
  } catch {
    return false;
  }
}

/** The manager running on `dataDir` and answering, or null. */
export async function findLiveManager(dataDir: string): Promise<ManagerRuntimeInfo | null> {
  const runtime = findRunningManager(dataDir);
  return runtime && (await managerAnswers(runtime)) ? runtime : null;
}

export interface OperatorClient {
  readonly url: string;
  query<T>(path: string, input?: unknown): Promise<T>;
  mutation<T>(path: string, input?: unknown): Promise<T>;
}

function answerOf<T>(res: HttpAnswer): T {
  let json: { result?: { data?: unknown }; error?: { message?: unknown; data?: { appCode?: unknown; details?: unknown } } };
  try {
    json = JSON.parse(res.body) as typeof json;
  } catch {
    throw new AppError('INTERNAL', `the manager answered HTTP ${res.status} with something that is not JSON`);
  }
  if (json.error) {
    const code = json.error.data?.appCode;
    const details = json.error.data?.details;
    throw new AppError(isErrorCode(code) ? code : 'INTERNAL', typeof json.error.message === 'string' ? json.error.message : 'the manager refused', {
      ...(details && typeof details === 'object' ? { details: details as Record<string, unknown> } : {}),
    });
  }
  return json.result?.data as T;
}

/** A tRPC client of the running manager, authenticated as the operator of `dataDir`. */
export function operatorClient(dataDir: string, runtime: ManagerRuntimeInfo, timeoutMs = 30_000): OperatorClient {
  const headers = { authorization: `Operator ${readSecretFile(operatorKeyPath(dataDir)).toString('base64url')}` };
  return {
    url: runtime.url,
    async query<T>(path: string, input?: unknown) {
      const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
      return answerOf<T>(await send(runtime, 'GET', `/trpc/${path}${qs}`, headers, null, timeoutMs));
    },
    async mutation<T>(path: string, input?: unknown) {
      return answerOf<T>(await send(runtime, 'POST', `/trpc/${path}`, headers, JSON.stringify(input ?? null), timeoutMs));
    },
  };
}

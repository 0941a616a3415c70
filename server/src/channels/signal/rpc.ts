/**
 * signal-cli's HTTP JSON-RPC interface: `POST /api/v1/rpc` (one JSON-RPC 2.0
 * request per call) and the Server-Sent Events of `GET /api/v1/events`
 * (`event:receive` with `data:{envelope, account}`, `:` keep-alives every
 * 15 s, an `id:` per event that `Last-Event-ID` resumes after).
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppError } from '@autoclaw/shared';
import type { HttpClient } from '../http-client';
import { platformError } from '../platform-error';

export interface RpcClient {
  call<T>(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<T>;
}

/** JSON-RPC errors: the protocol's own codes (-32xxx) are bad requests; signal-cli's rate limit waits; the rest is retried. */
export function rpcError(error: { code?: number; message?: string }): AppError {
  const message = error.message ?? 'unknown error';
  const code = error.code ?? 0;
  if (/rate ?limit/i.test(message)) return platformError('Signal', 429, message);
  if (code === -32602 && /account does not exist/i.test(message)) return new AppError('NOT_FOUND', `Signal: ${message}`);
  if (code <= -32600 && code >= -32700) return platformError('Signal', 400, message);
  return platformError('Signal', 502, message);
}

export function createRpcClient(base: string, http: HttpClient): RpcClient {
  let next = 1;
  return {
    async call<T>(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<T> {
      const id = next++;
      let res;
      try {
        res = await http.fetch(`${base}/api/v1/rpc`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
          signal,
        });
      } catch (err) {
        throw platformError('Signal', null, `signal-cli is not reachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      if (!res.ok) throw platformError('Signal', res.status, `signal-cli answered HTTP ${res.status}`);
      const body = (await res.json()) as { result?: T; error?: { code?: number; message?: string } };
      if (body.error) throw rpcError(body.error);
      return body.result as T;
    },
  };
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface EventStreamHandlers {
  /** Any bytes from the daemon (events and keep-alives) prove it alive. */
  onActivity(): void;
  onEvent(event: SseEvent): void;
  /** The stream ended or failed. */
  onEnd(err: Error): void;
}

/** Opens `GET /api/v1/events`; resolves once the daemon answered 200, rejects otherwise. */
export function openEventStream(url: string, lastEventId: string | null, signal: AbortSignal, handlers: EventStreamHandlers): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const req = (target.protocol === 'https:' ? httpsRequest : request)(target, { headers, signal });
    req.once('error', (err) => {
      reject(err);
      handlers.onEnd(err);
    });
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        const err = platformError('Signal', res.statusCode ?? 502, `signal-cli refused the event stream (HTTP ${res.statusCode})`);
        reject(err);
        return;
      }
      resolve();
      res.setEncoding('utf8');
      let buffer = '';
      let current: SseEvent = { id: null, event: 'message', data: '' };
      let hasData = false;
      res.on('data', (chunk: string) => {
        handlers.onActivity();
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (hasData) handlers.onEvent(current);
            current = { id: null, event: 'message', data: '' };
            hasData = false;
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') current.id = value;
          else if (field === 'event') current.event = value;
          else if (field === 'data') {
            current.data = hasData ? `${current.data}\n${value}` : value;
            hasData = true;
          }
        }
      });
      res.once('end', () => handlers.onEnd(new Error('signal-cli ended the event stream')));
      res.once('error', (err) => handlers.onEnd(err));
    });
    req.end();
  });
}

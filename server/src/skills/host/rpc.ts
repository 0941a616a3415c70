/** The host's side of the IPC channel: requests to the gateway and their replies. */
import type { FromHost, HostReplies, HostRequest, ToHost } from '../runtime/protocol';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

export interface HostRpc {
  send(message: FromHost): void;
  request<K extends HostRequest['kind']>(call: number, request: Extract<HostRequest, { kind: K }>, signal?: AbortSignal): Promise<HostReplies[K]>;
  /** Handles a reply; false when the message was not one. */
  handle(message: ToHost): boolean;
}

export function createHostRpc(send: (message: FromHost) => void): HostRpc {
  const pending = new Map<number, Pending>();
  let next = 1;
  return {
    send,
    request(call, request, signal) {
      const id = next++;
      return new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(new DOMException('This operation was aborted', 'AbortError'));
          return;
        }
        const onAbort = () => {
          pending.delete(id);
          send({ t: 'cancel-request', id });
          reject(new DOMException('This operation was aborted', 'AbortError'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        pending.set(id, {
          resolve: (value) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(value as never);
          },
          reject: (err) => {
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        });
        send({ t: 'request', id, call, request });
      });
    },
    handle(message) {
      if (message.t !== 'reply') return false;
      const waiting = pending.get(message.id);
      if (!waiting) return true;
      pending.delete(message.id);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new Error(message.message));
      return true;
    },
  };
}

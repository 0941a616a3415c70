/**
 * Runs the device handshake in the page with the key this browser keeps in
 * IndexedDB (non-extractable, so only the page can sign with it), against a
 * gateway at another origin, and reports how the gateway answered: the close
 * code of the socket, or "open" when it accepted the device.
 */
import type { Page } from 'playwright-core';

export async function handshakeWithStoredKey(page: Page, gatewayUrl: string): Promise<string> {
  return page.evaluate(async (gateway) => {
    const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('autoclaw', 1);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const pair = await new Promise<CryptoKeyPair>((resolve, reject) => {
      const get = db.transaction('device').objectStore('device').get('key-pair');
      get.onsuccess = () => resolve(get.result as CryptoKeyPair);
      get.onerror = () => reject(get.error);
    });
    db.close();
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const deviceId = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', raw))).slice(0, 22);
    const { nonce } = (await (await fetch(`${gateway}/auth/challenge`, { cache: 'no-store' })).json()) as { nonce: string };
    const timestamp = Date.now();
    const payload = new TextEncoder().encode(`autoclaw-auth/v1\n${nonce}\n${deviceId}\n${timestamp}`);
    const signature = b64url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, payload)));
    const ws = new WebSocket(`${gateway.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    return new Promise<string>((resolve) => {
      ws.onopen = () => {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { deviceId, nonce, timestamp: String(timestamp), signature } }));
        // An accepted device answers a query; a refused one is closed.
        ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'sessions.list', input: undefined } }));
      };
      ws.onmessage = (event) => {
        if (String(event.data).includes('"id":1')) {
          resolve(String(event.data).includes('"result"') ? 'open' : `error:${String(event.data).slice(0, 200)}`);
          ws.close();
        }
      };
      ws.onclose = (event) => resolve(`closed:${event.code}`);
    });
  }, gatewayUrl);
}

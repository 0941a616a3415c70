/**
 * baileys' AuthenticationState kept in the channel's encrypted state (the
 * gateway store, sealed with the data key) — never in loose files: the creds
 * under one secret, each Signal key (pre-keys, sessions, sender keys, app
 * state keys, LID mappings…) under its own. Writes are synchronous SQLite
 * writes, so a key baileys was told is stored is on disk.
 */
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from 'baileys';
import type * as BaileysModule from 'baileys';
import type { ChannelStateStore } from '../types';

type Baileys = typeof BaileysModule;

const CREDS = 'creds';
/** The server the creds were linked with: other creds are never sent to another server. */
const CREDS_URL = 'credsUrl';
const keyName = (type: string, id: string) => `key:${type}:${id}`;

export interface StoredAuth {
  state: AuthenticationState;
  /** The creds belong to a linked device (else the next connection shows a QR code). */
  linked(): boolean;
  saveCreds(): void;
  /** Forgets the link (logged out on the phone): the next start links anew. */
  clear(): void;
}

export function loadAuthState(store: ChannelStateStore, b: Baileys, url: string): StoredAuth {
  const { BufferJSON, initAuthCreds, proto } = b;
  const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text, BufferJSON.reviver) as T));
  const write = (key: string, value: unknown) => store.setSecret(key, value === null || value === undefined ? null : JSON.stringify(value, BufferJSON.replacer));
  /** The ids of every stored key, so a re-link can drop them all. */
  const index = new Set<string>(parse<string[]>(store.getSecret('keys')) ?? []);
  const saveIndex = () => store.setSecret('keys', JSON.stringify([...index]));

  let creds: AuthenticationCreds | null = store.get(CREDS_URL) === url ? parse<AuthenticationCreds>(store.getSecret(CREDS)) : null;
  if (!creds) {
    // None yet, or linked with another server: start afresh (the old keys go).
    for (const k of index) store.setSecret(k, null);
    index.clear();
    saveIndex();
    store.setSecret(CREDS, null);
    creds = initAuthCreds();
  }
  const state: AuthenticationState = {
    creds,
    keys: {
      get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
        const out: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const id of ids) {
          let value = parse<SignalDataTypeMap[T]>(store.getSecret(keyName(type, id)));
          if (value === null) continue;
          if (type === 'app-state-sync-key') value = proto.Message.AppStateSyncKeyData.fromObject(value as object) as unknown as SignalDataTypeMap[T];
          out[id] = value;
        }
        return out;
      },
      set: async (data: SignalDataSet) => {
        let grew = false;
        for (const [type, entries] of Object.entries(data)) {
          for (const [id, value] of Object.entries(entries ?? {})) {
            const k = keyName(type, id);
            write(k, value);
            if (value === null || value === undefined) grew = index.delete(k) || grew;
            else if (!index.has(k)) {
              index.add(k);
              grew = true;
            }
          }
        }
        if (grew) saveIndex();
      },
    },
  };
  return {
    state,
    linked: () => !!state.creds.me?.id,
    saveCreds() {
      write(CREDS, state.creds);
      store.set(CREDS_URL, url);
    },
    clear() {
      for (const k of index) store.setSecret(k, null);
      index.clear();
      saveIndex();
      store.setSecret(CREDS, null);
      store.set(CREDS_URL, null);
    },
  };
}

/**
 * The contacts of the WhatsApp test server (whatsapp-server.ts): each one a
 * libsignal party of its own (baileys' Signal repository over an in-memory
 * key store) that encrypts what it writes to the linked device and decrypts
 * what the device sends it.
 */
import type { SignalAuthState, SignalDataTypeMap, SignalKeyStore, proto as Proto } from 'baileys';
import type * as BaileysModule from 'baileys';

type Baileys = typeof BaileysModule;

export const S_WHATSAPP_NET = 's.whatsapp.net';

export interface WhatsAppContact {
  /** The phone number (digits). */
  number: string;
  name: string;
}

/** The pre-key bundle the linked device uploaded. */
export interface Bundle {
  registrationId: number;
  identity: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: Array<{ keyId: number; publicKey: Buffer }>;
}

export interface Linked {
  noiseKey: Buffer;
  jid: string;
  bundle: Bundle | null;
}

export interface ContactSession {
  contact: WhatsAppContact;
  jid: string;
  repo: ReturnType<Baileys['DEFAULT_CONNECTION_CONFIG']['makeSignalRepository']>;
  auth: SignalAuthState;
  /** The device's session was set up from its bundle. */
  started: boolean;
}

export const silentLogger = {
  level: 'silent',
  child() {
    return silentLogger;
  },
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** An in-memory Signal key store for one contact's libsignal repository. */
function memoryKeys(b: Baileys): SignalKeyStore {
  // Kept as JSON (as a real store keeps them): libsignal changes the objects it loaded.
  const data = new Map<string, string>();
  return {
    get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = data.get(`${type}:${id}`);
        if (v !== undefined) out[id] = JSON.parse(v, b.BufferJSON.reviver) as SignalDataTypeMap[T];
      }
      return out;
    },
    set: async (d) => {
      for (const [type, entries] of Object.entries(d)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          if (value === null || value === undefined) data.delete(`${type}:${id}`);
          else data.set(`${type}:${id}`, JSON.stringify(value, b.BufferJSON.replacer));
        }
      }
    },
  };
}

export interface Contacts {
  /** The contact with this number (by a jid's user part), if it wrote before. */
  byUser(user: string): ContactSession | undefined;
  /** The contact's session, made on first use. */
  session(contact: WhatsAppContact): ContactSession;
  /** The contact's encryption of `message` to the linked device. */
  encrypt(c: ContactSession, linked: Linked | null, message: Proto.IMessage): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }>;
}

export const userOf = (jid: string): string => jid.split('@')[0]!.split(':')[0]!;

export function createContacts(b: Baileys): Contacts {
  const contacts = new Map<string, ContactSession>();
  return {
    byUser: (user) => contacts.get(user),
    session(contact) {
      let c = contacts.get(contact.number);
      if (!c) {
        const creds = b.initAuthCreds();
        const auth: SignalAuthState = { creds, keys: b.addTransactionCapability(memoryKeys(b), silentLogger as never, { maxCommitRetries: 1, delayBetweenTriesMs: 1 }) };
        c = { contact, jid: `${contact.number}@${S_WHATSAPP_NET}`, auth, repo: b.DEFAULT_CONNECTION_CONFIG.makeSignalRepository(auth, silentLogger as never), started: false };
        contacts.set(contact.number, c);
      }
      return c;
    },
    async encrypt(c, linked, message) {
      if (!linked?.bundle) throw new Error('the device has not uploaded its keys yet');
      if (!c.started) {
        const bundle = linked.bundle;
        const preKey = bundle.preKeys.shift();
        await c.repo.injectE2ESession({
          jid: linked.jid,
          session: {
            registrationId: bundle.registrationId,
            identityKey: b.generateSignalPubKey(bundle.identity),
            signedPreKey: { keyId: bundle.signedPreKey.keyId, publicKey: b.generateSignalPubKey(bundle.signedPreKey.publicKey), signature: bundle.signedPreKey.signature },
            ...(preKey ? { preKey: { keyId: preKey.keyId, publicKey: b.generateSignalPubKey(preKey.publicKey) } } : {}),
          },
        });
        c.started = true;
      }
      return c.repo.encryptMessage({ jid: linked.jid, data: b.encodeWAMessage(message) });
    },
  };
}

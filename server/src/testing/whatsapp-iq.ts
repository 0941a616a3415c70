/**
 * The iq requests of the WhatsApp test server (whatsapp-server.ts): what
 * baileys asks after login — pre-key count and upload, digest, contacts'
 * pre-key bundles, usync device lists, a group's metadata (`w:g2`: its
 * subject and participants, phone-number addressed), the media hosts
 * (`w:m` `media_conn`: hostnames and the upload auth) — answered as WhatsApp
 * does; any other iq gets an empty result.
 */
import type { BinaryNode } from 'baileys';
import type * as BaileysModule from 'baileys';
import { S_WHATSAPP_NET, userOf, type Contacts, type Linked } from './whatsapp-contacts';

type Baileys = typeof BaileysModule;

/** A group the server knows: its members' numbers (the owner's among them). */
export interface WaGroup {
  subject: string;
  members: Set<string>;
}

export interface IqState {
  b: Baileys;
  phone: string;
  contacts: Contacts;
  groups: Map<string, WaGroup>;
  /** The media host `media_conn` names. */
  media: { hostname: string; auth: string };
  linked(): Linked | null;
}

export async function answerIq(s: IqState, conn: { send(node: BinaryNode): void }, node: BinaryNode): Promise<void> {
  const { b, contacts, phone } = s;
  const linked = s.linked();
  const { Curve } = b;
  const { id, xmlns, type } = node.attrs;
  const children = Array.isArray(node.content) ? node.content : [];
  const first = children[0];
  const result = (content?: BinaryNode[]) => conn.send({ tag: 'iq', attrs: { id: id ?? '', type: 'result', from: S_WHATSAPP_NET }, ...(content ? { content } : {}) });
  if (type === 'result' || type === 'error') return;
  if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'count') return result([{ tag: 'count', attrs: { value: String(linked?.bundle?.preKeys.length ?? 0) } }]);
  if (xmlns === 'encrypt' && type === 'set' && linked) {
    const child = (n: BinaryNode, t: string) => b.getBinaryNodeChild(n, t);
    const bytes = (n: BinaryNode | undefined) => Buffer.from((n?.content as Uint8Array | undefined) ?? []);
    const list = child(node, 'list');
    const skey = child(node, 'skey');
    const prior = linked.bundle;
    linked.bundle = {
      registrationId: bytes(child(node, 'registration')).readUInt32BE(0),
      identity: bytes(child(node, 'identity')),
      signedPreKey: { keyId: bytes(child(skey!, 'id')).readUIntBE(0, 3), publicKey: bytes(child(skey!, 'value')), signature: bytes(child(skey!, 'signature')) },
      preKeys: [
        ...(prior?.preKeys ?? []),
        ...b.getBinaryNodeChildren(list!, 'key').map((k) => ({ keyId: bytes(child(k, 'id')).readUIntBE(0, 3), publicKey: bytes(child(k, 'value')) })),
      ],
    };
    return result();
  }
  if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'digest') return result([{ tag: 'digest', attrs: {} }]);
  if (xmlns === 'encrypt' && type === 'get' && first?.tag === 'key') {
    // Pre-key bundles of contacts (the device starts a session with them).
    const users = b.getBinaryNodeChildren(first, 'user');
    const list: BinaryNode[] = [];
    for (const u of users) {
      const jid = u.attrs.jid ?? '';
      const c = contacts.byUser(userOf(jid));
      if (!c) continue;
      const creds = c.auth.creds;
      const preKeyPair = Curve.generateKeyPair();
      const preKeyId = 1_000 + list.length;
      await c.auth.keys.set({ 'pre-key': { [preKeyId]: preKeyPair } });
      const id3 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
      const reg = Buffer.alloc(4);
      reg.writeUInt32BE(creds.registrationId);
      list.push({
        tag: 'user',
        attrs: { jid },
        content: [
          { tag: 'registration', attrs: {}, content: reg },
          { tag: 'type', attrs: {}, content: Buffer.from([5]) },
          { tag: 'identity', attrs: {}, content: creds.signedIdentityKey.public },
          { tag: 'key', attrs: {}, content: [{ tag: 'id', attrs: {}, content: id3(preKeyId) }, { tag: 'value', attrs: {}, content: preKeyPair.public }] },
          {
            tag: 'skey',
            attrs: {},
            content: [
              { tag: 'id', attrs: {}, content: id3(creds.signedPreKey.keyId) },
              { tag: 'value', attrs: {}, content: creds.signedPreKey.keyPair.public },
              { tag: 'signature', attrs: {}, content: creds.signedPreKey.signature },
            ],
          },
        ],
      });
    }
    return result([{ tag: 'list', attrs: {}, content: list }]);
  }
  if (xmlns === 'w:m' && first?.tag === 'media_conn') {
    return result([
      {
        tag: 'media_conn',
        attrs: { auth: s.media.auth, ttl: '300', auth_ttl: '21600', max_buckets: '12' },
        content: [{ tag: 'host', attrs: { hostname: s.media.hostname, maxContentLengthBytes: String(100 * 1024 * 1024) } }],
      },
    ]);
  }
  if (xmlns === 'w:g2' && type === 'get' && first?.tag === 'query') {
    const jid = node.attrs.to ?? '';
    const group = s.groups.get(jid);
    if (!group) return conn.send({ tag: 'iq', attrs: { id: id ?? '', type: 'error', from: jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] });
    return result([
      {
        tag: 'group',
        attrs: { id: jid.split('@')[0]!, subject: group.subject, s_t: '0', creation: '0', addressing_mode: 'pn', size: String(group.members.size) },
        content: [...group.members].map((n) => ({ tag: 'participant', attrs: { jid: `${n}@${S_WHATSAPP_NET}` } })),
      },
    ]);
  }
  if (xmlns === 'usync') {
    // Each user has one device (the phone, device 0); our own account has this device only.
    const usync = b.getBinaryNodeChild(node, 'usync');
    const listNode = b.getBinaryNodeChild(usync!, 'list');
    const users = b.getBinaryNodeChildren(listNode!, 'user').map((u) => u.attrs.jid ?? '');
    const me = linked?.jid ?? '';
    const meDevice = Number(me.split('@')[0]!.split(':')[1] ?? 0);
    return result([
      {
        tag: 'usync',
        attrs: { sid: usync?.attrs.sid ?? '', mode: 'query', last: 'true', index: '0', context: usync?.attrs.context ?? 'message' },
        content: [
          {
            tag: 'list',
            attrs: {},
            content: users.map((jid) => {
              const own = jid.split('@')[0]!.split(':')[0] === phone;
              const devices = own ? [meDevice] : [0];
              return {
                tag: 'user',
                attrs: { jid },
                content: [
                  {
                    tag: 'devices',
                    attrs: {},
                    content: [{ tag: 'device-list', attrs: {}, content: devices.map((d) => ({ tag: 'device', attrs: { id: String(d), 'key-index': String(d) } })) }],
                  },
                ],
              };
            }),
          },
        ],
      },
    ]);
  }
  return result();
}

/** Who may talk to the assistant through a channel: approved senders and pending pairings. */
import { AppError, type ApprovedSender, type ChannelName, type PendingPairing } from '@autoclaw/shared';
import type { ChannelStore } from './channel-types';
import { checkChannelName } from './channels';
import type { StoreContext } from './context';
import { checkText, checkTime } from './validate';

export type ChannelAccessQueries = Pick<
  ChannelStore,
  'approveSender' | 'revokeSender' | 'isApprovedSender' | 'listApprovedSenders' | 'addPairing' | 'listPairings' | 'takePairing'
>;

interface SenderRow {
  channel: string;
  sender_id: string;
  sender_name: string;
  approved_at: number;
}

interface PairingRow {
  channel: string;
  sender_id: string;
  sender_name: string;
  code: string;
  route: string;
  created_at: number;
  expires_at: number;
}

const toSender = (row: SenderRow): ApprovedSender => ({
  channel: row.channel as ChannelName,
  senderId: row.sender_id,
  senderName: row.sender_name,
  approvedAt: row.approved_at,
});

const toPairing = (row: PairingRow): PendingPairing & { route: string } => ({
  channel: row.channel as ChannelName,
  code: row.code,
  senderId: row.sender_id,
  senderName: row.sender_name,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  route: row.route,
});

const publicPairing = ({ route: _route, ...pairing }: PendingPairing & { route: string }): PendingPairing => pairing;

const senderId = (value: unknown) => checkText(value, 'sender id', 200);
const senderName = (value: unknown) => checkText(value, 'sender name', 200, { allowEmpty: true });

export function channelAccessQueries({ db, now }: StoreContext): ChannelAccessQueries {
  const putSender = db.prepare<[string, string, string, number]>(
    `INSERT INTO channel_senders (channel, sender_id, sender_name, approved_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(channel, sender_id) DO UPDATE SET sender_name = excluded.sender_name`,
  );
  const sender = db.prepare<[string, string], SenderRow>('SELECT * FROM channel_senders WHERE channel = ? AND sender_id = ?');
  const senders = db.prepare<[string], SenderRow>('SELECT * FROM channel_senders WHERE channel = ? ORDER BY approved_at, sender_id');
  const removeSender = db.prepare<[string, string]>('DELETE FROM channel_senders WHERE channel = ? AND sender_id = ?');
  const pairingOf = db.prepare<[string, string], PairingRow>('SELECT * FROM channel_pairings WHERE channel = ? AND sender_id = ?');
  const pairingByCode = db.prepare<[string, string], PairingRow>('SELECT * FROM channel_pairings WHERE channel = ? AND code = ?');
  const pairings = db.prepare<[string, number], PairingRow>(
    'SELECT * FROM channel_pairings WHERE channel = ? AND expires_at > ? ORDER BY created_at, sender_id',
  );
  const expired = db.prepare<[string, number]>('DELETE FROM channel_pairings WHERE channel = ? AND expires_at <= ?');
  const insertPairing = db.prepare<[string, string, string, string, string, number, number]>(
    `INSERT INTO channel_pairings (channel, sender_id, sender_name, code, route, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const removePairing = db.prepare<[string, string]>('DELETE FROM channel_pairings WHERE channel = ? AND sender_id = ?');

  const approve = db.transaction((channel: string, id: string, name: string): ApprovedSender => {
    putSender.run(channel, id, name, now());
    removePairing.run(channel, id);
    return toSender(sender.get(channel, id) as SenderRow);
  });

  const add = db.transaction((p: { channel: string; senderId: string; senderName: string; code: string; route: string; expiresAt: number }, at: number) => {
    expired.run(p.channel, at);
    const existing = pairingOf.get(p.channel, p.senderId);
    if (existing) return { pairing: toPairing(existing), created: false };
    if (pairingByCode.get(p.channel, p.code)) throw new AppError('CONFLICT', 'this pairing code is in use; make another');
    insertPairing.run(p.channel, p.senderId, p.senderName, p.code, p.route, at, p.expiresAt);
    return { pairing: toPairing(pairingOf.get(p.channel, p.senderId) as PairingRow), created: true };
  });

  const take = db.transaction((channel: string, code: string, at: number) => {
    const row = pairingByCode.get(channel, code);
    if (!row || row.expires_at <= at) return null;
    removePairing.run(channel, row.sender_id);
    return toPairing(row);
  });

  return {
    approveSender: (channel, id, name) => approve.immediate(checkChannelName(channel), senderId(id), senderName(name)),
    revokeSender: (channel, id) => removeSender.run(checkChannelName(channel), senderId(id)).changes > 0,
    isApprovedSender: (channel, id) => sender.get(channel, id) !== undefined,
    listApprovedSenders: (channel) => senders.all(checkChannelName(channel)).map(toSender),
    addPairing(pairing, at) {
      return add.immediate(
        {
          channel: checkChannelName(pairing.channel),
          senderId: senderId(pairing.senderId),
          senderName: senderName(pairing.senderName),
          code: checkText(pairing.code, 'pairing code', 20),
          route: checkText(pairing.route, 'route', 10_000),
          expiresAt: checkTime(pairing.expiresAt, 'expiresAt'),
        },
        checkTime(at, 'now'),
      );
    },
    listPairings: (channel, at) => pairings.all(checkChannelName(channel), at).map(toPairing).map(publicPairing),
    takePairing: (channel, code, at) => take.immediate(checkChannelName(channel), checkText(code, 'pairing code', 20), checkTime(at, 'now')),
  };
}

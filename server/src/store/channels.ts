/** Chat channels' enabled flag, state with its history, and small per-channel values. */
import { AppError, ChannelState, type ChannelStateChange } from '@autoclaw/shared';
import type { ChannelRecord, ChannelStore } from './channel-types';
import type { StoreContext } from './context';
import { checkLimit, checkText } from './validate';

export type ChannelStateQueries = Pick<
  ChannelStore,
  'getChannel' | 'listChannels' | 'setChannelEnabled' | 'setChannelState' | 'touchChannelInbound' | 'channelHistory' | 'getChannelValue' | 'setChannelValue'
>;

interface ChannelRow {
  name: string;
  enabled: number;
  state: string;
  since: number | null;
  last_inbound_at: number | null;
  last_error: string | null;
}

/** History rows kept per channel. */
const HISTORY_KEPT = 200;
const ERROR_CHARS = 500;

export function checkChannelName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(name)) {
    throw new AppError('BAD_REQUEST', 'a channel name is 1–32 lowercase letters, digits or dashes');
  }
  return name;
}

function toRecord(row: ChannelRow): ChannelRecord {
  return {
    name: row.name,
    enabled: row.enabled === 1,
    state: row.state as ChannelRecord['state'],
    since: row.since,
    lastInboundAt: row.last_inbound_at,
    lastError: row.last_error,
  };
}

function shortError(error: string | null): string | null {
  if (error === null) return null;
  return error.length > ERROR_CHARS ? `${error.slice(0, ERROR_CHARS - 1)}…` : error;
}

export function channelStateQueries({ db, now }: StoreContext): ChannelStateQueries {
  const byName = db.prepare<[string], ChannelRow>('SELECT * FROM channels WHERE name = ?');
  const all = db.prepare<[], ChannelRow>('SELECT * FROM channels ORDER BY name');
  const insert = db.prepare<[string, number, string, number | null, number]>(
    'INSERT INTO channels (name, enabled, state, since, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING',
  );
  const setEnabled = db.prepare<[number, number, string]>('UPDATE channels SET enabled = ?, updated_at = ? WHERE name = ?');
  const setState = db.prepare<[string, number, string | null, number, string]>(
    'UPDATE channels SET state = ?, since = ?, last_error = coalesce(?, last_error), updated_at = ? WHERE name = ?',
  );
  const addHistory = db.prepare<[string, string, string | null, number]>(
    'INSERT INTO channel_state_history (channel, state, error, at) VALUES (?, ?, ?, ?)',
  );
  const trimHistory = db.prepare<[string, string, number]>(
    `DELETE FROM channel_state_history WHERE channel = ? AND id <= coalesce(
       (SELECT id FROM channel_state_history WHERE channel = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`,
  );
  const history = db.prepare<[string, number], { state: string; error: string | null; at: number }>(
    'SELECT state, error, at FROM channel_state_history WHERE channel = ? ORDER BY id DESC LIMIT ?',
  );
  const touch = db.prepare<[number, string]>('UPDATE channels SET last_inbound_at = ? WHERE name = ?');
  const getValue = db.prepare<[string, string], { value: string }>('SELECT value FROM channel_kv WHERE channel = ? AND key = ?');
  const putValue = db.prepare<[string, string, string, number]>(
    `INSERT INTO channel_kv (channel, key, value, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(channel, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  );
  const deleteValue = db.prepare<[string, string]>('DELETE FROM channel_kv WHERE channel = ? AND key = ?');

  const ensure = (name: string): ChannelRow => {
    insert.run(name, 0, 'disabled', null, now());
    const row = byName.get(name);
    if (!row) throw new AppError('INTERNAL', 'a channel row could not be read back');
    return row;
  };

  const enable = db.transaction((name: string, enabled: boolean): ChannelRecord => {
    ensure(name);
    setEnabled.run(enabled ? 1 : 0, now(), name);
    return toRecord(byName.get(name) as ChannelRow);
  });

  const changeState = db.transaction((name: string, state: string, error: string | null) => {
    const before = ensure(name);
    // An error stays the channel's last error until a newer one replaces it.
    if (before.state === state && (error === null || error === before.last_error)) return { record: toRecord(before), changed: false };
    const at = now();
    setState.run(state, before.state === state ? (before.since ?? at) : at, error, at, name);
    addHistory.run(name, state, error, at);
    trimHistory.run(name, name, HISTORY_KEPT);
    return { record: toRecord(byName.get(name) as ChannelRow), changed: true };
  });

  return {
    getChannel(name) {
      const row = byName.get(checkChannelName(name));
      return row ? toRecord(row) : null;
    },
    listChannels: () => all.all().map(toRecord),
    setChannelEnabled(name, enabled) {
      if (typeof enabled !== 'boolean') throw new AppError('BAD_REQUEST', 'enabled must be true or false');
      return enable.immediate(checkChannelName(name), enabled);
    },
    setChannelState(name, state, error) {
      const parsed = ChannelState.safeParse(state);
      if (!parsed.success) throw new AppError('BAD_REQUEST', 'unknown channel state');
      return changeState.immediate(checkChannelName(name), parsed.data, shortError(error));
    },
    touchChannelInbound(name) {
      touch.run(now(), checkChannelName(name));
    },
    channelHistory(name, limit): ChannelStateChange[] {
      return history
        .all(checkChannelName(name), checkLimit(limit))
        .map((row) => ({ state: row.state as ChannelStateChange['state'], error: row.error, at: row.at }));
    },
    getChannelValue(channel, key) {
      return getValue.get(checkChannelName(channel), checkText(key, 'key', 100))?.value ?? null;
    },
    setChannelValue(channel, key, value) {
      const name = checkChannelName(channel);
      const k = checkText(key, 'key', 100);
      if (value === null) deleteValue.run(name, k);
      else putValue.run(name, k, checkText(value, 'value', 10_000_000), now());
    },
  };
}

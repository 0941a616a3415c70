/**
 * `autoclaw channels list|enable|disable|approve --data DIR …`: through the
 * running gateway (so a channel starts or stops at once), or the data
 * directory directly when none runs (it takes effect at the next start).
 */
import { ChannelName, ChannelPairingCode, CHANNEL_NAMES, type ChannelStatus } from '@autoclaw/shared';
import { approvePairing, auditChannel, createOutbox } from '../channels';
import { findRunningGateway, parseDataDir, UsageError } from '../gateway';
import { loadOperatorKey } from '../security';
import type { Store } from '../store';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';
import { connectRunning } from './running-gateway';

/** `qr` only while a channel that links by QR code waits for a scan. */
type Row = Pick<ChannelStatus, 'name' | 'enabled' | 'state' | 'since' | 'lastInboundAt' | 'lastError'> & { qr?: string };

async function withGateway<T>(dataDir: string, fn: (client: ReturnType<typeof connectRunning>['client']) => Promise<T>): Promise<T> {
  const conn = connectRunning(dataDir, loadOperatorKey);
  try {
    return await conn.call(fn(conn.client));
  } finally {
    await conn.close();
  }
}

const rowOf = (s: ChannelStatus): Row => ({ name: s.name, enabled: s.enabled, state: s.state, since: s.since, lastInboundAt: s.lastInboundAt, lastError: s.lastError, ...(s.qr ? { qr: s.qr } : {}) });

/** Without a gateway nothing is connected: an enabled channel is down until one starts. */
function offlineRows(store: Store): Row[] {
  return CHANNEL_NAMES.map((name) => {
    const record = store.getChannel(name);
    const enabled = record?.enabled ?? false;
    return {
      name,
      enabled,
      state: enabled ? 'down' : 'disabled',
      since: null,
      lastInboundAt: record?.lastInboundAt ?? null,
      lastError: enabled ? 'the gateway is not running' : (record?.lastError ?? null),
    };
  });
}

function channelArg(value: string | undefined): ChannelName {
  const parsed = ChannelName.safeParse(value);
  if (!parsed.success) throw new UsageError(`NAME must be one of: ${CHANNEL_NAMES.join(', ')}`);
  return parsed.data;
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(args, { data: { type: 'string' }, json: { type: 'boolean' } }, 3);
  const [action, first, second] = positionals;
  const dataDir = parseDataDir(values.data);
  const running = findRunningGateway(dataDir) !== null;

  if (action === 'list') {
    if (first !== undefined) throw new UsageError('channels list takes no NAME');
    const rows = running
      ? (await withGateway(dataDir, (client) => client.channels.list.query())).map(rowOf)
      : await withStore(openExistingStore(dataDir), offlineRows);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    io.stdout.write('NAME        ENABLED  STATE         SINCE                 LAST INBOUND          LAST ERROR\n');
    for (const r of rows) {
      io.stdout.write(`${r.name.padEnd(12)}${(r.enabled ? 'yes' : 'no').padEnd(9)}${r.state.padEnd(14)}${when(r.since).padEnd(22)}${when(r.lastInboundAt).padEnd(22)}${r.lastError ?? ''}\n`);
    }
    // A channel that links by QR code (WhatsApp, Signal) waits for a scan: the Channels page shows the code.
    for (const r of rows) if (r.qr) io.stdout.write(`\n${r.name}: link it by scanning the QR code on the Channels page (payload: ${r.qr})\n`);
    return 0;
  }

  if (action === 'enable' || action === 'disable') {
    if (second !== undefined) throw new UsageError(`channels ${action} takes one NAME`);
    const name = channelArg(first);
    const enabled = action === 'enable';
    if (running) await withGateway(dataDir, (client) => client.channels.setEnabled.mutate({ name, enabled }));
    else {
      await withStore(openExistingStore(dataDir), (store) => {
        const was = store.getChannel(name)?.enabled ?? false;
        store.setChannelEnabled(name, enabled);
        if (was !== enabled) auditChannel(store, null, enabled ? 'channels.enable' : 'channels.disable', name);
      });
    }
    io.stdout.write(`${action}d ${name}${running ? '' : ' (takes effect when the gateway starts)'}\n`);
    return 0;
  }

  if (action === 'approve') {
    const channel = channelArg(first);
    const code = ChannelPairingCode.safeParse(second ?? '');
    if (!code.success) throw new UsageError('CODE is the 8-character pairing code the sender was given');
    const sender = running
      ? await withGateway(dataDir, (client) => client.channels.approve.mutate({ channel, code: code.data }))
      : await withStore(openExistingStore(dataDir), (store) => approvePairing(store, createOutbox(store), channel, code.data, Date.now()));
    io.stdout.write(`approved ${sender.senderName || sender.senderId} (${sender.senderId}) on ${channel}\n`);
    return 0;
  }

  throw new UsageError(action === undefined ? 'say "list", "enable", "disable" or "approve"' : `unknown action "${action.slice(0, 40)}"`);
}

/**
 * `autoclaw skills list|enable|disable|approvals|revoke --data DIR`: through
 * the running gateway (changes take effect at once), or on the data
 * directory's store when none runs.
 */
import type { SkillView, StandingApproval } from '@autoclaw/shared';
import { findRunningGateway, parseDataDir, parseSkillsPubkey, skillsTmpPath, UsageError, workspacePath } from '../gateway';
import { loadOperatorKey } from '../security';
import { createSkillService, type SkillService } from '../skills';
import { parseFlags } from './args';
import { openExistingStore, withStore } from './data-store';
import type { CliIO } from './io';
import { connectRunning } from './running-gateway';

type Client = ReturnType<typeof connectRunning>['client'];

interface Target<T> {
  online(client: Client): Promise<T>;
  offline(skills: SkillService): T;
}

async function on<T>(dataDir: string, opts: { skillsDir?: string; keys: string[] }, target: Target<T>): Promise<T> {
  if (findRunningGateway(dataDir)) {
    const conn = connectRunning(dataDir, loadOperatorKey);
    try {
      return await conn.call(target.online(conn.client));
    } finally {
      await conn.close();
    }
  }
  return withStore(openExistingStore(dataDir), (store) => {
    const skills = createSkillService({
      store,
      vault: null,
      workspaceDir: workspacePath(dataDir),
      tmpDir: skillsTmpPath(dataDir),
      ...(opts.skillsDir === undefined ? {} : { skillsDir: opts.skillsDir }),
      extraKeys: opts.keys,
    });
    skills.start();
    return target.offline(skills);
  });
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export async function runAdmin(action: 'list' | 'enable' | 'disable' | 'approvals' | 'revoke', args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { data: { type: 'string' }, json: { type: 'boolean' }, skills: { type: 'string' }, 'skills-pubkey': { type: 'string', multiple: true } },
    1,
  );
  const dataDir = parseDataDir(values.data);
  const opts = { ...(values.skills === undefined ? {} : { skillsDir: values.skills }), keys: (values['skills-pubkey'] ?? []).map(parseSkillsPubkey) };
  const arg = positionals[0];
  if ((action === 'list' || action === 'approvals') && arg !== undefined) throw new UsageError(`skills ${action} takes no NAME`);

  if (action === 'list') {
    const list = await on<SkillView[]>(dataDir, opts, { online: (c) => c.skills.list.query(), offline: (s) => s.list() });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(list.map((s) => ({ name: s.name, version: s.version, state: s.state, reason: s.reason })), null, 2)}\n`);
    } else {
      io.stdout.write('NAME            VERSION   STATE     REASON\n');
      for (const s of list) io.stdout.write(`${s.name.padEnd(16)}${s.version.padEnd(10)}${s.state.padEnd(10)}${s.reason ?? ''}\n`);
    }
    return 0;
  }
  if (action === 'approvals') {
    const list = await on<StandingApproval[]>(dataDir, opts, { online: (c) => c.skills.approvals.query(), offline: (s) => s.listApprovals() });
    if (values.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else {
      io.stdout.write('ID                      TOOL                      SCOPE                 SINCE\n');
      for (const a of list) {
        const scope = a.scope === 'always' ? 'always' : `session ${a.sessionId}`;
        io.stdout.write(`${a.id.padEnd(24)}${a.tool.padEnd(26)}${scope.padEnd(22)}${when(a.createdAt)}\n`);
      }
    }
    return 0;
  }
  if (!arg) throw new UsageError(action === 'revoke' ? 'skills revoke needs an APPROVAL_ID' : `skills ${action} needs a skill NAME`);
  if (action === 'revoke') {
    await on(dataDir, opts, {
      online: (c) => c.skills.revokeApproval.mutate({ id: arg }).then(() => null),
      offline: (s) => s.revokeApproval(arg),
    });
    io.stdout.write(`revoked ${arg}\n`);
    return 0;
  }
  const view = await on<SkillView>(dataDir, opts, {
    online: (c) => (action === 'enable' ? c.skills.enable.mutate({ name: arg }) : c.skills.disable.mutate({ name: arg })),
    offline: (s) => (action === 'enable' ? s.enable(arg) : s.disable(arg)),
  });
  io.stdout.write(`${view.name} ${view.state}\n`);
  return 0;
}

/**
 * The skill runtime of a gateway: verifies the skills folder at start (a
 * refused skill never loads, and says why), keeps which skills the owner
 * enabled, their settings and their secrets (in the vault, never shown
 * back), and puts the enabled skills' tools into the tool catalog next to
 * the core skill's. A call runs in the skill's own process (runtime/),
 * with only that skill's declared secrets and settings.
 */
import { join, resolve } from 'node:path';
import { AppError, type SkillView, type StandingApproval } from '@autoclaw/shared';
import type { Store } from '../store';
import type { Vault } from '../security';
import { coreSkillTools } from './core/core-skill';
import { workspaceSegments } from './core/workspace-path';
import type { InProcessTool } from './define-tool';
import { createGoogleOAuth } from './oauth/google-oauth';
import { HostPolicy } from './egress/host-policy';
import { validate } from './format/json-schema-lite';
import type { SkillDefinition, SkillToolDefinition } from './format/skill-md';
import { runCommand } from './runtime/exec';
import { bundledSkillsDir, findChromium, libraryDirs, skillHostPath } from './runtime/locate';
import { SkillProcess, type CallGrant } from './runtime/skill-process';
import { SkillToolCatalog } from './tool-catalog';
import type { SkillLogger, SkillTool } from './types';
import { SILENT_SKILL_LOGGER } from './types';
import { trustedSkillKeys } from './vetting/builtin-key';
import { verifySkills, type VerifiedSkill } from './vetting/verify';
import { checkSettingValue, secretAad, skillKey as key } from './skill-settings';

export interface SkillServiceDeps {
  store: Store;
  /** The vault for skill secrets (a subkey of the data key of its own); null where no secret is read or written (CLI listing). */
  vault: Vault | null;
  workspaceDir: string;
  /** Temp folders of skill processes (emptied on each start). */
  tmpDir: string;
  now?: () => number;
  logger?: SkillLogger;
  /** The skills folder (default: the bundled skills/). */
  skillsDir?: string;
  /** Public keys trusted besides the built-in one. */
  extraKeys?: readonly string[];
  /** Core tools added by tests. */
  extraTools?: readonly InProcessTool[];
  /** A skill process with no call for this long stops (default 60 s). */
  idleMs?: number;
  /** Chromium for skills that declare it (default: found on this machine). */
  chromiumPath?: string | null;
  /** Where Google sends the browser back to (the gateway's own /oauth/callback when it listens on loopback). */
  oauthRedirect?: () => string | null;
}

export interface SkillService {
  readonly catalog: SkillToolCatalog;
  readonly skillsDir: string;
  /**
   * Arms loading: the skills folder is verified and loaded (the enabled
   * skills' tools joining the catalog) on first need — the first turn, list
   * or change — not at boot. `reload()` verifies again now.
   */
  start(): void;
  reload(): void;
  list(): SkillView[];
  enable(name: string): SkillView;
  disable(name: string): SkillView;
  setSecret(name: string, secret: string, value: string | null): SkillView;
  setSetting(name: string, setting: string, value: string | null): SkillView;
  /** A loaded skill's definition (for OAuth settings); NOT_FOUND or CONFLICT otherwise. */
  definition(name: string): SkillDefinition;
  settingValue(name: string, setting: string): string | null;
  secretValue(name: string, secret: string): string | null;
  /** Starts connecting a skill's account: the URL to open (PKCE; the verifier stays here). */
  oauthStart(name: string, redirectUri?: string): Promise<{ authUrl: string; redirectUri: string }>;
  /** Finishes with the code the loopback redirect brought back. */
  oauthFinish(state: string, code: string): Promise<SkillView>;
  oauthDisconnect(name: string): SkillView;
  listApprovals(): StandingApproval[];
  revokeApproval(id: string): void;
  /** Running skill processes (for tests and health). */
  processes(): Array<{ skill: string; pid: number | undefined }>;
  stop(): Promise<void>;
}

export function createSkillService(deps: SkillServiceDeps): SkillService {
  const { store, vault } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? SILENT_SKILL_LOGGER;
  const skillsDir = resolve(deps.skillsDir ?? bundledSkillsDir());
  const approvals = {
    covers: (tool: string, sessionId: string) => store.hasToolApproval(tool, sessionId),
    grant: (tool: string, scope: 'session' | 'always', sessionId: string) => {
      store.addToolApproval({ tool, scope, sessionId: scope === 'session' ? sessionId : null });
    },
  };
  const core = coreSkillTools({ store, workspaceDir: deps.workspaceDir, now, extraTools: deps.extraTools ?? [] });
  const catalog = new SkillToolCatalog(core, { approvals });
  let verified: VerifiedSkill[] = [];
  /** Loaded skills that could run (verified, and no tool name taken by another). */
  const loaded = new Map<string, { definition: SkillDefinition; folder: string; files: Record<string, string>; tools: SkillTool[] }>();
  const refused = new Map<string, { reason: string; definition: SkillDefinition | null }>();
  const processes = new Map<string, SkillProcess>();
  let chromium: string | null | undefined;
  let stopped = false;

  const isEnabled = (name: string) => loaded.has(name) && store.getSetting(key.enabled(name)) === '1';

  let loadedOnce = false;
  const ensure = () => {
    if (!loadedOnce) load();
  };

  const requireLoaded = (name: string) => {
    ensure();
    const skill = loaded.get(name);
    if (skill) return skill;
    const why = refused.get(name);
    if (why) throw new AppError('CONFLICT', `the ${name} skill was refused: ${why.reason}`);
    throw new AppError('NOT_FOUND', `no skill named ${name}`);
  };

  const settingValue = (name: string, setting: string): string | null => store.getSetting(key.setting(name, setting));

  const secretValue = (name: string, secret: string): string | null => {
    const raw = store.getSetting(key.secret(name, secret));
    if (raw === null || vault === null) return null;
    try {
      return vault.decrypt(raw, secretAad(name, secret));
    } catch {
      logger.warn('a stored skill secret cannot be decrypted with this data key; enter it again', { skill: name, secret });
      return null;
    }
  };

  const sealSecret = (name: string, secret: string, value: string): string => {
    if (vault === null) throw new AppError('NOT_CONFIGURED', 'secrets are set through the running gateway (it holds the data key)');
    return vault.encrypt(value, secretAad(name, secret));
  };

  const oauth = createGoogleOAuth({
    store,
    vault,
    now,
    logger,
    defaultRedirect: deps.oauthRedirect ?? (() => null),
    settingsOf(name) {
      const def = requireLoaded(name).definition;
      if (!def.oauth) throw new AppError('BAD_REQUEST', `the ${name} skill connects no account`);
      const setting = (key: string) => settingValue(name, key) ?? def.settings.find((x) => x.name === key)?.default ?? null;
      const clientId = setting('clientId');
      const authEndpoint = setting('authEndpoint');
      const tokenEndpoint = setting('tokenEndpoint');
      if (!clientId || !authEndpoint || !tokenEndpoint) {
        throw new AppError('NOT_CONFIGURED', `set the ${name} skill's OAuth client ID first (a Google Cloud "Desktop app" client)`);
      }
      return { clientId, clientSecret: secretValue(name, 'clientSecret'), authEndpoint, tokenEndpoint, scopes: def.oauth.scopes };
    },
  });

  const policyOf = (def: SkillDefinition) => () =>
    new HostPolicy(def.permissions.network, (settingName) => {
      const s = def.settings.find((x) => x.name === settingName);
      return s ? { kind: s.kind, value: settingValue(def.name, s.name) ?? s.default } : undefined;
    });

  const grantOf = async (def: SkillDefinition): Promise<CallGrant> => {
    const secrets: Record<string, string> = {};
    for (const s of def.permissions.secrets) {
      const value = secretValue(def.name, s.name);
      if (value !== null) secrets[s.name] = value;
    }
    const settings: Record<string, string | null> = {};
    for (const s of def.settings) settings[s.name] = settingValue(def.name, s.name) ?? s.default;
    const oauthToken = def.oauth ? await oauth.accessToken(def.name) : null;
    return { secrets, settings, oauthToken };
  };

  const processOf = (name: string): SkillProcess => {
    let proc = processes.get(name);
    if (proc) return proc;
    const skill = requireLoaded(name);
    const def = skill.definition;
    if (def.permissions.processes.includes('chromium') && chromium === undefined) chromium = deps.chromiumPath ?? findChromium();
    const scope = def.permissions.files;
    proc = new SkillProcess({
      name,
      folder: skill.folder,
      definition: def,
      files: skill.files,
      hostPath: skillHostPath(),
      libraryDirs: libraryDirs(skillsDir),
      scopeDir: scope ? (scope.scope === '.' ? resolve(deps.workspaceDir) : join(resolve(deps.workspaceDir), ...workspaceSegments(scope.scope))) : null,
      tmpDir: join(deps.tmpDir, name),
      chromiumPath: def.permissions.processes.includes('chromium') ? (chromium ?? null) : null,
      policy: policyOf(def),
      logger,
      idleMs: deps.idleMs ?? 60_000,
      redact: () => def.permissions.secrets.map((s) => secretValue(name, s.name)).filter((v): v is string => v !== null),
      services: {
        indexPut: (path, text) => store.putSkillDocument(name, path, text),
        indexDelete: (path) => void store.deleteSkillDocument(name, path),
        indexSearch: (query, limit) => store.searchSkillDocuments(query, limit, name).map((d) => ({ path: d.path, snippet: d.snippet })),
        exec: (command, timeoutMs, signal) => runCommand(command, { cwd: resolve(deps.workspaceDir), timeoutMs, signal }),
        saveSecret: (secret, value) => store.setSetting(key.secret(name, secret), sealSecret(name, secret, value)),
      },
    });
    processes.set(name, proc);
    return proc;
  };

  const toolOf = (def: SkillDefinition, tool: SkillToolDefinition): SkillTool => ({
    spec: { name: tool.name, description: tool.description, inputSchema: tool.input },
    skill: def.name,
    risky: tool.risky !== false,
    everyCall: tool.risky === 'every-call',
    timeoutMs: tool.timeoutMs,
    async run(input, ctx) {
      if (!isEnabled(def.name)) return { ok: false, content: `The ${def.name} skill is disabled.` };
      const problems = validate(tool.input, input ?? {});
      if (problems.length > 0) return { ok: false, content: `Invalid input for ${tool.name}: ${problems.slice(0, 5).join('; ')}` };
      let grant: CallGrant;
      try {
        grant = await grantOf(def);
      } catch (err) {
        return { ok: false, content: `${tool.name} failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      return processOf(def.name).call(tool.name, input ?? {}, grant, ctx.signal, tool.risky === 'every-call');
    },
  });

  const refresh = () => {
    const tools: SkillTool[] = [...core];
    const instructions: string[] = [];
    for (const [name, skill] of loaded) {
      if (!isEnabled(name)) continue;
      tools.push(...skill.tools);
      if (skill.definition.instructions) instructions.push(`## Skill: ${name}\n${skill.definition.instructions}`);
    }
    catalog.replace(tools, instructions.join('\n\n'));
  };

  const view = (name: string): SkillView => {
    const skill = loaded.get(name);
    const def = skill?.definition ?? refused.get(name)?.definition ?? null;
    const reason = refused.get(name)?.reason ?? null;
    const perms = def?.permissions;
    return {
      name,
      version: def?.version ?? '',
      description: def?.description ?? '',
      state: reason !== null ? 'refused' : isEnabled(name) ? 'enabled' : 'disabled',
      reason,
      tools: (def?.tools ?? []).map((t) => ({ name: t.name, description: t.description, risky: t.risky !== false, everyCall: t.risky === 'every-call' })),
      permissions: {
        hosts: (perms?.network ?? []).map((entry) => (def ? hostLabel(def, entry) : entry)),
        files: perms?.files ?? null,
        processes: perms?.processes ?? [],
        exec: perms?.exec ?? false,
        index: perms?.index ?? false,
      },
      secrets: (perms?.secrets ?? []).map((s) => ({ name: s.name, label: s.label, set: store.getSetting(key.secret(name, s.name)) !== null })),
      settings: (def?.settings ?? []).map((s) => ({ name: s.name, label: s.label, value: settingValue(name, s.name), default: s.default })),
      oauth: def?.oauth ? { provider: def.oauth.provider, connected: oauth.connected(name) } : null,
    };
  };

  /** `setting:NAME` shown as the host it stands for now, with the setting's label. */
  const hostLabel = (def: SkillDefinition, entry: string): string => {
    if (!entry.startsWith('setting:')) return entry;
    const s = def.settings.find((x) => x.name === entry.slice('setting:'.length));
    if (!s) return entry;
    const value = settingValue(def.name, s.name) ?? s.default;
    if (!value) return `${s.label} (not set yet)`;
    let host = value;
    if (s.kind === 'url') {
      try {
        host = new URL(value).host;
      } catch {
        // shown as typed
      }
    }
    return `${host} (${s.label})`;
  };

  const forgetSecrets = (def: SkillDefinition) => {
    for (const s of def.permissions.secrets) store.setSetting(key.secret(def.name, s.name), null);
    oauth.forget(def.name);
  };

  function load(): void {
    loadedOnce = true;
    {
      verified = verifySkills(skillsDir, trustedSkillKeys(deps.extraKeys ?? []));
      loaded.clear();
      refused.clear();
      const taken = new Set(core.map((t) => t.spec.name));
      for (const skill of verified) {
        if (!skill.ok) {
          refused.set(skill.name, { reason: skill.reason, definition: skill.definition });
          logger.warn('skill refused', { skill: skill.name, reason: skill.reason });
          continue;
        }
        const clash = skill.definition.tools.find((t) => taken.has(t.name));
        if (clash) {
          refused.set(skill.name, { reason: `its tool ${clash.name} has the name of another tool`, definition: skill.definition });
          continue;
        }
        for (const t of skill.definition.tools) taken.add(t.name);
        loaded.set(skill.name, {
          definition: skill.definition,
          folder: skill.folder,
          files: skill.files,
          tools: skill.definition.tools.map((t) => toolOf(skill.definition, t)),
        });
      }
      refresh();
    }
  }

  return {
    catalog,
    skillsDir,
    start() {
      catalog.loadOnFirstUse(ensure);
    },
    reload: () => load(),
    list() {
      ensure();
      return verified.map((s) => view(s.name));
    },
    enable(name) {
      requireLoaded(name);
      store.setSetting(key.enabled(name), '1');
      refresh();
      logger.info('skill enabled', { skill: name });
      return view(name);
    },
    disable(name) {
      requireLoaded(name);
      store.setSetting(key.enabled(name), null);
      refresh();
      processes.get(name)?.restart('the skill was disabled');
      logger.info('skill disabled', { skill: name });
      return view(name);
    },
    setSecret(name, secret, value) {
      const def = requireLoaded(name).definition;
      if (!def.permissions.secrets.some((s) => s.name === secret)) throw new AppError('NOT_FOUND', `the ${name} skill has no secret ${secret}`);
      store.setSetting(key.secret(name, secret), value === null || value.trim() === '' ? null : sealSecret(name, secret, value.trim()));
      return view(name);
    },
    setSetting(name, setting, value) {
      const def = requireLoaded(name).definition;
      const s = def.settings.find((x) => x.name === setting);
      if (!s) throw new AppError('NOT_FOUND', `the ${name} skill has no setting ${setting}`);
      const next = value === null || value.trim() === '' ? null : checkSettingValue(s, value);
      const before = settingValue(name, setting);
      if (next === before) return view(name);
      store.setSetting(key.setting(name, setting), next);
      // A new endpoint must not be handed what was stored for the old one.
      if (s.kind !== 'text') forgetSecrets(def);
      return view(name);
    },
    definition: (name) => requireLoaded(name).definition,
    settingValue(name, setting) {
      const def = requireLoaded(name).definition;
      return settingValue(name, setting) ?? def.settings.find((s) => s.name === setting)?.default ?? null;
    },
    secretValue: (name, secret) => secretValue(name, secret),
    async oauthStart(name, redirectUri) {
      requireLoaded(name);
      return oauth.start(name, redirectUri);
    },
    async oauthFinish(state, code) {
      const { skill } = await oauth.finish(state, code);
      return view(skill);
    },
    oauthDisconnect(name) {
      requireLoaded(name);
      oauth.forget(name);
      return view(name);
    },
    listApprovals: () => store.listToolApprovals(),
    revokeApproval(id) {
      if (!store.deleteToolApproval(id)) throw new AppError('NOT_FOUND', `no standing approval ${id}`);
    },
    processes: () => [...processes].filter(([, p]) => p.running).map(([skill, p]) => ({ skill, pid: p.pid })),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...processes.values()].map((p) => p.stop()));
    },
  };
}

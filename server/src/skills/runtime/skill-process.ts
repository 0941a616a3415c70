/**
 * One skill's process: started on its first call, stopped when idle, run
 * under Node's permission model with exactly the reads and writes the skill
 * needs (its own folder, the libraries, its workspace scope, a temp folder),
 * programs only when declared. A crash answers the calls in flight with a
 * clear error and the next call starts it again; a call that times out
 * kills it at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import type { SkillDefinition } from '../format/skill-md';
import { EgressRefused, egressFetch } from '../egress/egress-fetch';
import type { HostPolicy } from '../egress/host-policy';
import { startEgressProxy, type EgressProxy } from '../egress/egress-proxy';
import type { SkillLogger, ToolOutcome } from '../types';
import { parseHostMessage } from './host-messages';
import type { ExecResult, FromHost, HostRequest, IndexHit, ToHost } from './protocol';

/** What the gateway does for a skill's process when it asks (each checked against the skill's permissions first). */
export interface SkillServices {
  indexPut(path: string, text: string): void;
  indexDelete(path: string): void;
  indexSearch(query: string, limit: number): IndexHit[];
  exec(command: string, timeoutMs: number, signal: AbortSignal): Promise<ExecResult>;
  saveSecret(name: string, value: string): void;
}

/** What one call hands the skill: its declared secrets and settings, the account token. */
export interface CallGrant {
  secrets: Record<string, string>;
  settings: Record<string, string | null>;
  oauthToken: string | null;
}

export interface SkillProcessOptions {
  name: string;
  folder: string;
  definition: SkillDefinition;
  files: Record<string, string>;
  hostPath: string;
  /** node_modules folders on the skill's resolution path. */
  libraryDirs: readonly string[];
  /** Absolute folder of the declared workspace scope (made here), or null. */
  scopeDir: string | null;
  tmpDir: string;
  chromiumPath: string | null;
  policy: () => HostPolicy;
  services: SkillServices;
  logger: SkillLogger;
  idleMs: number;
  readyTimeoutMs?: number;
  /** Secret values to blank out of the process's stderr before it is logged. */
  redact?: () => string[];
}

interface PendingCall {
  tool: string;
  everyCall: boolean;
  controller: AbortController;
  resolve: (outcome: ToolOutcome) => void;
}

const STDERR_KEEP = 4_096;

/** SIGKILL to the process and everything it started (its process group). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
const ABORT_GRACE_MS = 1_000;

export class SkillProcess {
  readonly #opts: SkillProcessOptions;
  #child: ChildProcess | null = null;
  #ready: Promise<void> | null = null;
  #proxy: EgressProxy | null = null;
  #stderr = '';
  #nextId = 1;
  readonly #calls = new Map<number, PendingCall>();
  readonly #requests = new Map<number, AbortController>();
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #aborting: Promise<void> | null = null;
  readonly #settled = new Map<number, () => void>();

  constructor(opts: SkillProcessOptions) {
    this.#opts = opts;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Runs one call; never throws. `signal` aborts it (reason "timeout": the process is killed at once). */
  async call(tool: string, input: unknown, grant: CallGrant, signal: AbortSignal, everyCall: boolean): Promise<ToolOutcome> {
    if (this.#stopped) return { ok: false, content: `the ${this.#opts.name} skill is stopped` };
    this.#cancelIdle();
    // After a stop, wait until the stopped call ended or its process was killed: never hand a call to a stuck process.
    while (this.#aborting) await this.#aborting;
    try {
      await this.#start();
    } catch (err) {
      this.#scheduleIdle();
      return { ok: false, content: `the ${this.#opts.name} skill could not start: ${err instanceof Error ? err.message : String(err)}` };
    }
    const child = this.#child;
    if (!child || signal.aborted) return { ok: false, content: 'Stopped before it started.' };
    const id = this.#nextId++;
    return new Promise<ToolOutcome>((resolve) => {
      const controller = new AbortController();
      const onAbort = () => {
        controller.abort();
        if (signal.reason === 'timeout') this.#kill('a call timed out');
        else this.#abort(id);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#calls.set(id, {
        tool,
        everyCall,
        controller,
        resolve: (outcome) => {
          signal.removeEventListener('abort', onAbort);
          this.#settled.get(id)?.();
          resolve(outcome);
        },
      });
      this.#send({ t: 'call', id, tool, input, ...grant });
    });
  }

  /** Asks the skill to stop call `id`; one that does not end within a second is killed with its process. */
  #abort(id: number): void {
    this.#send({ t: 'abort', id });
    const grace = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#settled.delete(id);
        if (this.#aborting === grace) this.#aborting = null;
        resolve();
      };
      const timer = setTimeout(() => {
        if (this.#calls.has(id)) this.#kill('a stopped call did not end');
        done();
      }, ABORT_GRACE_MS);
      this.#settled.set(id, done);
    });
    this.#aborting = grace;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelIdle();
    const child = this.#child;
    const exited = child && child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null;
    this.#kill('the gateway is stopping');
    if (exited) await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    await this.#proxy?.close();
    this.#proxy = null;
  }

  /** Ends the process (e.g. when the skill is disabled); the next call starts it again. */
  restart(reason: string): void {
    this.#kill(reason);
  }

  #send(message: ToHost): void {
    const child = this.#child;
    if (child?.connected) child.send(message);
  }

  #flags(): string[] {
    const o = this.#opts;
    // Folders as `DIR/*` only: Node 20 aborts when one allowed path is a
    // prefix of another (`DIR` next to `DIR/*`), and a bare `DIR` would
    // also match `DIRother`.
    const read = new Set<string>([o.hostPath, `${o.folder}/*`, `${o.tmpDir}/*`]);
    const write = new Set<string>([`${o.tmpDir}/*`]);
    for (const dir of o.libraryDirs) {
      const real = realpathSync(dir);
      // A symlinked node_modules: the resolver reads the link itself, then the real folder.
      if (real !== dir) read.add(dir);
      read.add(`${real}/*`);
    }
    if (o.scopeDir) {
      read.add(`${o.scopeDir}/*`);
      if (o.definition.permissions.files?.access === 'read-write') write.add(`${o.scopeDir}/*`);
    }
    if (o.chromiumPath) read.add(o.chromiumPath);
    const flags = ['--experimental-permission', '--disable-warning=ExperimentalWarning', '--disable-warning=SecurityWarning'];
    flags.push(`--max-old-space-size=${o.chromiumPath ? 192 : 96}`);
    for (const path of read) flags.push(`--allow-fs-read=${path}`);
    for (const path of write) flags.push(`--allow-fs-write=${path}`);
    if (o.chromiumPath) flags.push('--allow-child-process');
    return flags;
  }

  #start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const o = this.#opts;
    const ready = (async () => {
      rmSync(o.tmpDir, { recursive: true, force: true });
      mkdirSync(o.tmpDir, { recursive: true, mode: 0o700 });
      if (o.scopeDir) mkdirSync(o.scopeDir, { recursive: true, mode: 0o700 });
      if (o.chromiumPath && !this.#proxy) {
        this.#proxy = await startEgressProxy({ policy: o.policy, onRefused: (host, reason) => this.#refused(host, reason) });
      }
      const child = spawn(process.execPath, [...this.#flags(), o.hostPath], {
        cwd: o.tmpDir,
        // Its own process group: stopping it also stops what it started (Chromium).
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: o.tmpDir, TMPDIR: o.tmpDir, LANG: 'C.UTF-8' },
      });
      this.#child = child;
      this.#stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('it did not get ready in time')), o.readyTimeoutMs ?? 20_000);
        const onMessage = (raw: unknown) => {
          const message = parseHostMessage(raw);
          if (message?.t === 'ready') finish(null);
          else if (message?.t === 'init-failed') finish(new Error(message.message));
        };
        const onExit = () => finish(new Error(`it exited at start${this.#stderrLine()}`));
        const finish = (err: Error | null) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve();
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.once('error', (err) => finish(err));
        this.#send({
          t: 'init',
          skill: o.name,
          folder: o.folder,
          entry: o.definition.entry,
          files: o.files,
          scopeDir: o.scopeDir,
          access: o.definition.permissions.files?.access ?? null,
          chromium: o.chromiumPath && this.#proxy ? { path: o.chromiumPath, proxy: this.#proxy.url } : null,
        });
      });
      child.on('message', (raw: unknown) => this.#onMessage(child, raw));
      child.once('exit', (code, signal) => this.#onExit(child, code, signal));
    })();
    this.#ready = ready;
    ready.catch(() => this.#kill('it could not start'));
    return ready;
  }

  #stderrLine(): string {
    let text = this.#stderr.trim();
    for (const secret of this.#opts.redact?.() ?? []) if (secret.length >= 4) text = text.split(secret).join('[secret]');
    const line = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('at ')).at(-1);
    return line ? `: ${line.slice(0, 300)}` : '';
  }

  #onMessage(child: ChildProcess, raw: unknown): void {
    if (child !== this.#child) return;
    const message = parseHostMessage(raw);
    if (!message) {
      this.#opts.logger.warn('skill sent a message the protocol does not know; stopping it', { skill: this.#opts.name });
      this.#kill('protocol violation');
      return;
    }
    if (message.t === 'result') {
      const pending = this.#calls.get(message.id);
      if (!pending) return;
      this.#calls.delete(message.id);
      pending.resolve({ ok: message.ok, content: message.content });
      this.#scheduleIdle();
    } else if (message.t === 'request') {
      void this.#serve(message);
    } else if (message.t === 'cancel-request') {
      this.#requests.get(message.id)?.abort();
    }
  }

  async #serve(message: Extract<FromHost, { t: 'request' }>): Promise<void> {
    const call = this.#calls.get(message.call);
    const reply = (value: { ok: true; value: unknown } | { ok: false; message: string }) => this.#send({ t: 'reply', id: message.id, ...value });
    if (!call) {
      reply({ ok: false, message: 'the tool call this request belongs to has ended' });
      return;
    }
    const controller = new AbortController();
    this.#requests.set(message.id, controller);
    const signal = AbortSignal.any([controller.signal, call.controller.signal]);
    try {
      reply({ ok: true, value: await this.#handle(message.request, call, signal) });
    } catch (err) {
      if (err instanceof EgressRefused) this.#refused('', err.message);
      reply({ ok: false, message: err instanceof Error ? err.message : String(err) });
    } finally {
      this.#requests.delete(message.id);
    }
  }

  async #handle(request: HostRequest, call: PendingCall, signal: AbortSignal): Promise<unknown> {
    const { definition, services } = this.#opts;
    const perms = definition.permissions;
    switch (request.kind) {
      case 'fetch':
        return egressFetch(this.#opts.policy(), request.req, { signal });
      case 'index-put':
      case 'index-delete':
      case 'index-search':
        if (!perms.index) throw new Error('this skill did not declare the index permission');
        if (request.kind === 'index-put') return services.indexPut(request.path, request.text) ?? null;
        if (request.kind === 'index-delete') return services.indexDelete(request.path) ?? null;
        return services.indexSearch(request.query, request.limit);
      case 'exec':
        if (!perms.exec) throw new Error('this skill did not declare the exec permission');
        if (!call.everyCall) throw new Error(`${call.tool} may not run commands (only tools that ask every time may)`);
        return services.exec(request.command, request.timeoutMs, signal);
      case 'save-secret':
        if (!perms.secrets.some((s) => s.name === request.name)) throw new Error(`${request.name} is not a secret this skill declared`);
        services.saveSecret(request.name, request.value);
        return null;
    }
  }

  #refused(host: string, reason: string): void {
    this.#opts.logger.warn('skill network request refused', { skill: this.#opts.name, ...(host ? { host } : {}), reason });
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    this.#child = null;
    this.#ready = null;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (this.#calls.size > 0 || (code !== 0 && !this.#stopped)) {
      this.#opts.logger.warn('skill process ended', { skill: this.#opts.name, how, stderr: this.#stderrLine().slice(2) });
    }
    this.#failCalls(`The ${this.#opts.name} skill stopped unexpectedly (${how}); it starts again on the next call.`);
  }

  /** Kills the process now; its calls in flight are answered, and the next call starts a new one. */
  #kill(reason: string): void {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    this.#ready = null;
    if (this.#calls.size > 0) this.#opts.logger.info('stopping skill process', { skill: this.#opts.name, reason });
    killGroup(child);
    this.#failCalls(`The ${this.#opts.name} skill was stopped (${reason}); it starts again on the next call.`);
  }

  #failCalls(content: string): void {
    for (const [id, pending] of this.#calls) {
      this.#calls.delete(id);
      pending.controller.abort();
      pending.resolve({ ok: false, content });
    }
    for (const request of this.#requests.values()) request.abort();
  }

  #scheduleIdle(): void {
    if (this.#calls.size > 0 || this.#stopped) return;
    this.#cancelIdle();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      const child = this.#child;
      if (this.#calls.size === 0 && child) {
        this.#child = null;
        this.#ready = null;
        // The host exits when its channel closes; a stuck one is killed.
        child.disconnect();
        setTimeout(() => killGroup(child), 2_000).unref();
      }
    }, this.#opts.idleMs);
    this.#idleTimer.unref();
  }

  #cancelIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}

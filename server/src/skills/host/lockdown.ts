/**
 * Runs before any skill code loads. Node's permission model (the flags the
 * gateway starts this process with) already confines files, child processes,
 * workers, native addons, the inspector and process.binding; it does not
 * confine the network. Here every way out is closed in JavaScript: sockets,
 * servers, DNS and UDP are refused, HTTP goes to the gateway over IPC, and
 * only a declared Chromium may be started (with the gateway's egress proxy
 * forced on it). Signals may only reach processes this host started.
 * The replaced functions cannot be put back (non-writable, non-configurable),
 * and ES module imports see them too (syncBuiltinESMExports).
 */
// Default imports are the modules' CommonJS export objects: the ones to change.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs, { type PathLike } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net, { type Socket } from 'node:net';
import os from 'node:os';
import { makeFetch, makeHttpModule, NoSocketAgent, type IpcFetch } from './net-shims';

export function accessDenied(what: string): Error {
  return Object.assign(new Error(`${what} is refused in skills (declare it in SKILL.md, or use fetch through the gateway)`), {
    code: 'ERR_ACCESS_DENIED',
  });
}

function fix(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: false, configurable: false, enumerable: true });
}

function denyAll(target: object | undefined, keys: readonly string[], what: string): void {
  if (!target) return;
  for (const key of keys) {
    if (typeof (target as Record<string, unknown>)[key] === 'function') {
      fix(target, key, () => {
        throw accessDenied(what);
      });
    }
  }
}

const DNS_FUNCTIONS = [
  'lookup',
  'lookupService',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTxt',
  'reverse',
];

export interface LockdownOptions {
  fetch: IpcFetch;
  /** The Chromium binary the skill may start and the proxy it must use; null: no programs at all. */
  chromium: { path: string; proxy: string } | null;
}

export function lockdown(opts: LockdownOptions): void {
  // Sockets: every TCP, TLS and pipe client goes through Socket#connect.
  fix(net.Socket.prototype, 'connect', function refused(this: Socket) {
    const err = accessDenied('opening a network connection');
    process.nextTick(() => this.destroy(err));
    return this;
  });
  fix(net.Server.prototype, 'listen', () => {
    throw accessDenied('listening for connections');
  });
  denyAll(dgram, ['createSocket'], 'UDP');
  denyAll(dgram.Socket.prototype, ['bind', 'send', 'connect'], 'UDP');
  denyAll(http2, ['connect', 'createServer', 'createSecureServer'], 'HTTP/2');

  // Names are resolved by the gateway, which checks the addresses.
  for (const name of DNS_FUNCTIONS) {
    if (typeof (dns as unknown as Record<string, unknown>)[name] !== 'function') continue;
    fix(dns, name, (...args: unknown[]) => {
      const cb = args.at(-1);
      const err = accessDenied('DNS');
      if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(err));
      else throw err;
    });
  }
  denyAll(dns.promises, DNS_FUNCTIONS, 'DNS');
  denyAll(dns.Resolver.prototype, DNS_FUNCTIONS, 'DNS');
  denyAll(dns.promises.Resolver.prototype, DNS_FUNCTIONS, 'DNS');

  // HTTP through the gateway.
  const plain = makeHttpModule('http:', opts.fetch);
  const secure = makeHttpModule('https:', opts.fetch);
  fix(http, 'request', plain.request);
  fix(http, 'get', plain.get);
  fix(https, 'request', secure.request);
  fix(https, 'get', secure.get);
  fix(http.Agent.prototype, 'createConnection', NoSocketAgent.prototype.createConnection);
  fix(globalThis, 'fetch', makeFetch(opts.fetch));

  // Programs: only the declared Chromium, always behind the egress proxy.
  const started = new Set<number>();
  const realSpawn = childProcess.spawn;
  denyAll(childProcess, ['exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawnSync'], 'starting programs');
  const chromium = opts.chromium;
  fix(childProcess, 'spawn', (command: string, args?: readonly string[] | object, options?: object) => {
    if (!chromium || command !== chromium.path) throw accessDenied(`starting ${String(command).slice(0, 80)}`);
    const list = Array.isArray(args) ? (args as string[]) : [];
    const own = list.filter((a) => !/^--(no-)?proxy|^--proxy-/.test(a));
    // In this host's process group (not detached, as playwright asks): when the gateway stops the skill, Chromium goes with it.
    const spawnOptions = { ...((Array.isArray(args) ? options : args) ?? {}), detached: false };
    const child = realSpawn(command, [...own, `--proxy-server=${chromium.proxy}`, '--proxy-bypass-list=<-loopback>'], spawnOptions);
    if (child.pid !== undefined) started.add(child.pid);
    return child;
  });
  const realKill = process.kill.bind(process);
  fix(process, 'kill', (pid: number, signal?: string | number) => {
    const target = Math.abs(pid);
    if (target !== process.pid && !started.has(target)) throw accessDenied('signalling other processes');
    return realKill(pid, signal);
  });
  fix(os, 'setPriority', () => {
    throw accessDenied('changing process priorities');
  });

  // Node 20's existsSync throws for a path outside the allowed ones (later
  // Nodes answer false); libraries that probe the system (playwright looks
  // for WSL) must see "no such file", never a crash. Nothing more is read.
  const realExists = fs.existsSync;
  fix(fs, 'existsSync', (path: PathLike) => {
    try {
      return realExists(path);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_ACCESS_DENIED') return false;
      throw err;
    }
  });
  syncBuiltinESMExports();
}

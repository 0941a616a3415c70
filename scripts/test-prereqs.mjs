// What the test suite needs beyond Node, found on the machine or installed:
// a Chromium (or Chrome) for the end-to-end tests and PostgreSQL's server
// binaries for the manager's tests on PostgreSQL. `npm test` calls
// `ensureTestPrereqs()` before vitest starts; end-to-end support code calls
// the `find*` functions. Nothing is ever skipped silently: when a program is
// missing and cannot be installed here, the run stops at once with one line
// that says what to run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Set by `npm test` (or by hand) to the browser to drive. */
export const CHROMIUM_ENV = 'AUTOCLAW_CHROMIUM';
/** Set by `npm test` (or by hand) to the directory holding initdb and pg_ctl. */
export const POSTGRES_BIN_ENV = 'AUTOCLAW_PG_BIN';

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** The browser to drive: $AUTOCLAW_CHROMIUM, a known install path, or one on PATH; null when none. */
export function findChromium(env = process.env) {
  const chosen = env[CHROMIUM_ENV];
  if (chosen) return executable(chosen) ? chosen : null;
  for (const path of CHROMIUM_PATHS) if (executable(path)) return path;
  for (const name of CHROMIUM_NAMES) {
    const found = onPath(name, env);
    if (found) return found;
  }
  return null;
}

/** The directory with PostgreSQL's initdb and pg_ctl (Debian keeps them off PATH); null when none. */
export function findPostgresBin(env = process.env) {
  const chosen = env[POSTGRES_BIN_ENV];
  if (chosen) return executable(join(chosen, 'initdb')) && executable(join(chosen, 'pg_ctl')) ? chosen : null;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = join(debian, v, 'bin');
      if (executable(join(bin, 'initdb')) && executable(join(bin, 'pg_ctl'))) return bin;
    }
  }
  const initdb = onPath('initdb', env);
  if (initdb && onPath('pg_ctl', env)) return join(initdb, '..');
  return null;
}

/** How this process may install Debian packages: as root, through password-less sudo, or not at all. */
function aptInstaller() {
  if (!onPath('apt-get')) return null;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return [];
  const sudo = onPath('sudo');
  if (sudo && spawnSync(sudo, ['-n', 'true'], { stdio: 'ignore' }).status === 0) return [sudo, '-n'];
  return null;
}

let aptUpdated = false;

function aptInstall(prefix, packages, log) {
  const run = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    log(`test prerequisites: ${[...prefix, ...args].join(' ')}`);
    return spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (!aptUpdated) {
    if (!run(['apt-get', 'update', '-qq'])) return false;
    aptUpdated = true;
  }
  return run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
}

const PREREQS = [
  {
    what: 'Chromium (end-to-end tests)',
    env: CHROMIUM_ENV,
    find: findChromium,
    packages: ['chromium'],
    manual: `sudo apt-get install -y chromium   (or set ${CHROMIUM_ENV}=/path/to/chromium-or-chrome)`,
  },
  {
    what: 'PostgreSQL (manager tests on PostgreSQL)',
    env: POSTGRES_BIN_ENV,
    find: findPostgresBin,
    packages: ['postgresql'],
    manual: `sudo apt-get install -y postgresql   (or set ${POSTGRES_BIN_ENV}=/path/to/postgresql/bin)`,
  },
];

/**
 * Finds or installs every prerequisite and exports where each is (so test
 * workers need not look again). Returns null when all are there, else the
 * one line to print before stopping.
 */
export function ensureTestPrereqs({ env = process.env, log = (line) => console.log(line) } = {}) {
  const missing = [];
  for (const prereq of PREREQS) {
    let found = prereq.find(env);
    if (!found) {
      const prefix = aptInstaller();
      if (prefix && aptInstall(prefix, prereq.packages, log)) found = prereq.find(env);
    }
    if (found) env[prereq.env] = found;
    else missing.push(prereq);
  }
  if (missing.length === 0) return null;
  return `npm test: missing ${missing.map((m) => m.what).join(' and ')}; run: ${missing.map((m) => m.manual).join(' && ')}`;
}

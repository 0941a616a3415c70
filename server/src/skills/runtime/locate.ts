/** Where things a skill process needs are on this machine: the host script, libraries, Chromium, the bundled skills. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this code runs from (source, bundle, or a bundled benchmark). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'server', 'package.json')) && existsSync(join(dir, 'skills'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
}

/** The bundled skills folder (`skills/` of this checkout). */
export function bundledSkillsDir(): string {
  return join(repoRoot(), 'skills');
}

/** The built skill host (scripts/build.mjs writes it next to the CLI bundle). */
export function skillHostPath(): string {
  return join(repoRoot(), 'server', 'dist', 'skill-host.mjs');
}

/** Every node_modules folder a module in `dir` resolves packages from, nearest first. */
export function libraryDirs(dir: string): string[] {
  const out: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const candidate = join(at, 'node_modules');
    if (existsSync(candidate)) out.push(candidate);
    if (dirname(at) === at) return out;
  }
}

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** A Chromium or Chrome on this machine (`preferred` first), or null. */
export function findChromium(preferred?: string): string | null {
  for (const path of [preferred, ...CHROMIUM_CANDIDATES]) {
    if (!path) continue;
    try {
      if (statSync(path).isFile()) return path;
    } catch {
      // not here
    }
  }
  return null;
}

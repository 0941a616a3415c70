/**
 * The desktop app's own small settings (do-not-disturb, window bounds) in
 * `settings.json` under userData. Read once at start; a missing or damaged
 * file gives the defaults. Writes are atomic and serialized.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { LogFn } from './device-key-store';

const Bounds = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  maximized: z.boolean(),
});

const Settings = z.object({
  doNotDisturb: z.boolean().default(false),
  windowBounds: Bounds.nullable().default(null),
});
export type DesktopSettings = z.infer<typeof Settings>;

export const SETTINGS_FILE = 'settings.json';

export interface SettingsStore {
  get(): DesktopSettings;
  /** Applies the change now; the file follows (await for it to be on disk). */
  update(patch: Partial<DesktopSettings>): Promise<void>;
}

export async function loadSettingsStore(dir: string, log: LogFn): Promise<SettingsStore> {
  const path = join(dir, SETTINGS_FILE);
  let current: DesktopSettings = Settings.parse({});
  try {
    const parsed = Settings.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (parsed.success) current = parsed.data;
    else log('warn', 'settings: settings.json is malformed; using defaults');
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) {
      log('warn', 'settings: settings.json cannot be read; using defaults');
    }
  }

  let writing: Promise<void> = Promise.resolve();
  async function write(snapshot: DesktopSettings): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, path);
  }

  return {
    get: () => current,
    update(patch) {
      current = Settings.parse({ ...current, ...patch });
      const snapshot = current;
      writing = writing.then(
        () => write(snapshot),
        () => write(snapshot),
      );
      return writing;
    },
  };
}

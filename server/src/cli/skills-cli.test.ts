/** `autoclaw skills …` through the built CLI, as an operator scripts it. */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToPem } from '../security';
import { echoSkill, skillsFixture, type SkillsFixture } from '../skills/test-skills';
import { ensureBundle, runCli } from './cli-harness';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});
beforeAll(() => ensureBundle());

function fixture(): SkillsFixture & { keyFile: string } {
  const f = skillsFixture([echoSkill('alpha'), echoSkill('beta')]);
  cleanups.push(() => f.remove());
  const keyDir = mkdtempSync(join(tmpdir(), 'autoclaw-vetkey-'));
  cleanups.push(() => rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = join(keyDir, 'vetting.pem');
  writeFileSync(keyFile, privateKeyToPem(f.key.privateKey), { mode: 0o600 });
  return { ...f, keyFile };
}

describe('autoclaw skills vet and verify', () => {
  it('vet signs the folder; verify checks it against the trusted keys, skill by skill', async () => {
    const f = fixture();
    appendFileSync(join(f.dir, 'beta', 'index.mjs'), '// a change\n');
    const vetted = await runCli(['skills', 'vet', f.dir, '--key', f.keyFile]);
    expect(vetted).toMatchObject({ code: 0, stderr: '' });
    expect(vetted.stdout).toBe(`vetted alpha 1.0.0 (2 files)\nvetted beta 1.0.0 (2 files)\nsigned with public key ${f.key.publicKey}\n`);

    // The built-in key did not sign it: refused, with the reason.
    const untrusted = await runCli(['skills', 'verify', f.dir]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain(`refused  alpha: signed by a key this gateway does not trust (${f.key.publicKey})`);

    const trusted = await runCli(['skills', 'verify', f.dir, `--skills-pubkey=${f.key.publicKey}`]);
    expect(trusted).toMatchObject({ code: 0, stdout: 'ok       alpha 1.0.0\nok       beta 1.0.0\n' });

    appendFileSync(join(f.dir, 'beta', 'index.mjs'), '// changed after vetting\n');
    const tampered = await runCli(['skills', 'verify', f.dir, `--skills-pubkey=${f.key.publicKey}`, '--json']);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toEqual([
      { name: 'alpha', ok: true, reason: null },
      { name: 'beta', ok: false, reason: 'index.mjs changed after vetting (its SHA-256 does not match the manifest)' },
    ]);
  });

  it('refuses bad usage with exit 2', async () => {
    const f = fixture();
    expect((await runCli(['skills', 'vet', f.dir])).code).toBe(2);
    expect((await runCli(['skills', 'vet', f.dir, '--key', join(f.dir, 'alpha', 'SKILL.md')])).stderr).toMatch(/Ed25519 private key in PEM/);
    expect((await runCli(['skills', 'verify', f.dir, '--skills-pubkey', 'nope'])).stderr).toMatch(/--skills-pubkey must be/);
    expect((await runCli(['skills', 'dance'])).code).toBe(2);
  });
});

describe('autoclaw skills list, enable, disable', () => {
  it('works on the data directory without a gateway, and through a running one (taking effect at once)', async () => {
    const f = fixture();
    const { startGatewayProcess } = await import('./cli-harness');
    const dir = mkdtempSync(join(tmpdir(), 'autoclaw-skills-data-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    appendFileSync(join(f.dir, 'beta', 'index.mjs'), '// tampered\n');
    const flags = ['--skills', f.dir, `--skills-pubkey=${f.key.publicKey}`];

    const gw = await startGatewayProcess(dir, {}, flags);
    try {
      const listed = await runCli(['skills', 'list', '--data', dir, '--json']);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        { name: 'alpha', version: '1.0.0', state: 'disabled', reason: null },
        { name: 'beta', version: '1.0.0', state: 'refused', reason: 'index.mjs changed after vetting (its SHA-256 does not match the manifest)' },
      ]);
      expect(await runCli(['skills', 'enable', '--data', dir, 'alpha'])).toMatchObject({ code: 0, stdout: 'alpha enabled\n' });
      const refused = await runCli(['skills', 'enable', '--data', dir, 'beta']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/the beta skill was refused: index\.mjs changed after vetting/);
      expect((await runCli(['skills', 'enable', '--data', dir, 'gamma'])).stderr).toMatch(/no skill named gamma/);
      expect(JSON.parse((await runCli(['skills', 'list', '--data', dir, '--json'])).stdout)[0]).toMatchObject({ name: 'alpha', state: 'enabled' });
    } finally {
      expect(await gw.stop('SIGTERM')).toBe(0);
    }

    // Without a gateway: the store and the folder given by flags.
    expect(await runCli(['skills', 'disable', '--data', dir, 'alpha', ...flags])).toMatchObject({ code: 0, stdout: 'alpha disabled\n' });
    const offline = await runCli(['skills', 'list', '--data', dir, '--json', ...flags]);
    expect(JSON.parse(offline.stdout).map((s: { state: string }) => s.state)).toEqual(['disabled', 'refused']);
    const table = await runCli(['skills', 'list', '--data', dir, ...flags]);
    expect(table.stdout.split('\n')[1]).toMatch(/^alpha\s+1\.0\.0\s+disabled\s*$/);
    expect((await runCli(['skills', 'approvals', '--data', dir, '--json'])).stdout).toBe('[]\n');
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { createVault } from './vault';

const key = randomBytes(32);
const vault = createVault(key);

function decryptError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected decryption to fail');
}

describe('vault', () => {
  it('round-trips text, including empty and non-ASCII text', () => {
    for (const plaintext of ['sk-ant-api03-secret', '', 'ключ 🔑 clé', 'x'.repeat(10_000)]) {
      const token = vault.encrypt(plaintext, 'autoclaw-setting/v1:anthropic.apiKey');
      expect(token).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
      expect(token).not.toContain(plaintext || '\u0000');
      expect(vault.decrypt(token, 'autoclaw-setting/v1:anthropic.apiKey')).toBe(plaintext);
      // Another vault on the same key opens it too (the subkey is derived, not random).
      expect(createVault(Buffer.from(key)).decrypt(token, 'autoclaw-setting/v1:anthropic.apiKey')).toBe(plaintext);
    }
  });

  it('uses a fresh IV every time', () => {
    const a = vault.encrypt('same', 'aad');
    const b = vault.encrypt('same', 'aad');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('refuses a wrong key, a wrong aad or another purpose', () => {
    const token = vault.encrypt('secret', 'setting:openai.apiKey');
    const wrongKey = createVault(randomBytes(32));
    expect(decryptError(() => wrongKey.decrypt(token, 'setting:openai.apiKey')).code).toBe('FORBIDDEN');
    expect(decryptError(() => vault.decrypt(token, 'setting:anthropic.apiKey')).message).toMatch(/^secret cannot be decrypted/);
    expect(decryptError(() => createVault(key, 'backups').decrypt(token, 'setting:openai.apiKey')).code).toBe('FORBIDDEN');
  });

  it('detects any tampering', () => {
    const token = vault.encrypt('secret value', 'aad');
    const [version, iv, tag, ciphertext] = token.split('.') as [string, string, string, string];
    const flip = (part: string, at = 0) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[at] = (bytes[at] as number) ^ 0x01;
      return bytes.toString('base64url');
    };
    const forged = [
      [version, iv, tag, flip(ciphertext)].join('.'),
      [version, iv, tag, flip(ciphertext, 11)].join('.'),
      [version, flip(iv), tag, ciphertext].join('.'),
      [version, iv, flip(tag), ciphertext].join('.'),
      [version, iv, tag.slice(0, 6), ciphertext].join('.'), // truncated tag
      [version, iv, tag, ciphertext.slice(0, -2)].join('.'),
      ['v2', iv, tag, ciphertext].join('.'),
      [version, iv, tag, `${ciphertext}=`].join('.'),
      [version, iv, tag, ciphertext, 'extra'].join('.'),
      [version, iv, tag].join('.'),
      '',
      'not a token',
    ];
    for (const bad of forged) {
      expect(decryptError(() => vault.decrypt(bad, 'aad')).code, bad).toBe('FORBIDDEN');
    }
    expect(vault.decrypt(token, 'aad')).toBe('secret value');
  });

  it('needs a 32-byte key', () => {
    expect(() => createVault(randomBytes(16))).toThrow(AppError);
  });
});

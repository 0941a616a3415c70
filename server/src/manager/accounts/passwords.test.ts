import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from './passwords';

describe('password hashing (scrypt)', () => {
  it('hashes with a per-hash salt and N=2^15, r=8, p=1', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(needsRehash(a)).toBe(false);
    expect(needsRehash('scrypt$14$8$1$x$y')).toBe(true);
  });

  it('accepts the right password only', async () => {
    const h = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('normalizes Unicode (NFKC), so the same password typed differently still matches', async () => {
    const h = await hashPassword('caf\u00e9-password');
    expect(await verifyPassword('cafe\u0301-password', h)).toBe(true);
  });

  it('answers false for malformed or hostile stored hashes', async () => {
    for (const bad of ['', 'plain', 'scrypt$15$8$1$c2FsdA$', 'bcrypt$...', 'scrypt$40$8$1$c2FsdHNhbHQ$AAAA', 'scrypt$15$8$1$c2FsdHNhbHQ$' + 'A'.repeat(10)]) {
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });
});

/**
 * Encryption of secrets at rest: AES-256-GCM under a subkey derived with
 * HKDF-SHA256 from the data key (which lives outside the database), a fresh
 * random 12-byte IV per value, and associated data binding each value to where
 * it belongs (e.g. the setting's key), so a value moved elsewhere fails.
 *
 * Token: `v1.<iv>.<tag>.<ciphertext>`, each part base64url without padding.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '@autoclaw/shared';

export interface Vault {
  encrypt(plaintext: string, aad: string): string;
  /** The plaintext, or AppError FORBIDDEN when the key, the aad or the token is wrong. */
  decrypt(token: string, aad: string): string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

function undecryptable(cause?: unknown): AppError {
  return new AppError(
    'FORBIDDEN',
    'secret cannot be decrypted: the data key, the context or the stored value is not the one it was written with',
    cause === undefined ? undefined : { cause },
  );
}

/** Strict unpadded base64url: Buffer.from() would silently skip bad characters. */
function decodePart(part: string, bytes?: number): Buffer {
  if (!B64URL_RE.test(part)) throw undecryptable();
  const out = Buffer.from(part, 'base64url');
  if (out.toString('base64url') !== part) throw undecryptable();
  if (bytes !== undefined && out.length !== bytes) throw undecryptable();
  return out;
}

/**
 * @param key the 32-byte data key
 * @param purpose names the subkey (HKDF info `autoclaw/<purpose>/v1`); values
 *   sealed for one purpose cannot be opened under another.
 */
export function createVault(key: Buffer, purpose = 'settings'): Vault {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new AppError('BAD_REQUEST', `the vault needs a ${KEY_BYTES}-byte data key`);
  }
  const subkey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `autoclaw/${purpose}/v1`, KEY_BYTES));

  return {
    encrypt(plaintext, aad) {
      if (typeof plaintext !== 'string' || typeof aad !== 'string') {
        throw new AppError('BAD_REQUEST', 'the vault encrypts text with a text context');
      }
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', subkey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
    },
    decrypt(token, aad) {
      if (typeof token !== 'string' || typeof aad !== 'string') throw undecryptable();
      const parts = token.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) throw undecryptable();
      const iv = decodePart(parts[1] ?? '', IV_BYTES);
      const tag = decodePart(parts[2] ?? '', TAG_BYTES);
      const ciphertext = decodePart(parts[3] ?? '');
      try {
        const decipher = createDecipheriv('aes-256-gcm', subkey, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        // final() throws unless the tag authenticates key, iv, aad and ciphertext.
        const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
        return plaintext.toString('utf8');
      } catch (err) {
        throw undecryptable(err);
      }
    },
  };
}

/**
 * What baileys takes from `whatsapp-rust-bridge` (md5, HKDF, the app-state
 * key expansion and the LT hash), done with node:crypto. The bridge is a
 * WebAssembly module inlined as base64 in a 2 MB script: loading it costs
 * an idle gateway ~10 MB (the script, the decoded module, its compiled code
 * and linear memory) for four small functions. The server bundle gives
 * baileys this module in its place (scripts/build.mjs); crypto-bridge.test.ts
 * checks every function against the bridge's own output.
 */
import { createHash, hkdfSync } from 'node:crypto';

export interface HkdfInfo {
  salt?: Uint8Array | undefined;
  info?: string | undefined;
}

export function md5(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('md5').update(buffer).digest());
}

/** RFC 5869 HKDF with SHA-256 (no salt: a block of zeros, as the RFC says). */
export function hkdf(buffer: Uint8Array, expandedLength: number, info: HkdfInfo): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', buffer, info.salt ?? new Uint8Array(0), Buffer.from(info.info ?? '', 'utf8'), expandedLength));
}

export interface ExpandedAppStateKeys {
  indexKey: Uint8Array;
  valueEncryptionKey: Uint8Array;
  valueMacKey: Uint8Array;
  snapshotMacKey: Uint8Array;
  patchMacKey: Uint8Array;
}

/** The five keys of an app-state sync key: 160 bytes of HKDF, 32 each. */
export function expandAppStateKeys(keyData: Uint8Array): ExpandedAppStateKeys {
  const k = hkdf(keyData, 160, { info: 'WhatsApp Mutation Keys' });
  return {
    indexKey: k.slice(0, 32),
    valueEncryptionKey: k.slice(32, 64),
    valueMacKey: k.slice(64, 96),
    snapshotMacKey: k.slice(96, 128),
    patchMacKey: k.slice(128, 160),
  };
}

/**
 * WhatsApp's LT hash of an app-state collection: each value MAC expands
 * (HKDF, "WhatsApp Patch Integrity") to 64 little-endian 16-bit words that
 * are added to (or subtracted from) the 128-byte hash, wrapping around.
 */
export class LTHashAntiTampering {
  subtractThenAdd(base: Uint8Array, subtract: Uint8Array[], add: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(base);
    const words = new DataView(out.buffer);
    const apply = (item: Uint8Array, sign: 1 | -1) => {
      const expanded = new DataView(hkdf(item, 128, { info: 'WhatsApp Patch Integrity' }).buffer);
      for (let i = 0; i < out.length; i += 2) words.setUint16(i, words.getUint16(i, true) + sign * expanded.getUint16(i, true), true);
    };
    for (const item of subtract) apply(item, -1);
    for (const item of add) apply(item, 1);
    return out;
  }

  free(): void {}
}

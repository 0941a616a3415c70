/**
 * Release manifests: the canonical bytes the release key signs, signing
 * (release tooling and tests), verification against the trusted keys (the
 * built-in release key plus an operator's own), and the artifact digest — a
 * tarball's SHA-256, or a directory's tree digest (every file's relative
 * path and SHA-256, sorted, hashed once more).
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { AppError, ReleaseManifestBody, SignedReleaseManifest } from '@autoclaw/shared';
import type { SignedReleaseManifest as Signed } from '@autoclaw/shared';
import { keyPairOf, parsePublicKey, signPayload, verifyPayload } from '../../security';

/** The AutoClaw release key (its private half never lives in this repository). */
export const BUILT_IN_RELEASE_PUBLIC_KEY = 'cKT0-NE58nkCWkvU2TJDc5H8Mcd69h2bNJo944ka9-k';

/** The signed bytes: the body's fields in the schema's order, as JSON. */
export function canonicalManifest(body: ReleaseManifestBody): string {
  const b = ReleaseManifestBody.parse(body);
  return JSON.stringify({
    v: 'autoclaw-release-1',
    version: b.version,
    channel: b.channel,
    artifact: b.artifact,
    artifactSha256: b.artifactSha256,
    image: b.image ?? null,
    minSchemaVersion: b.minSchemaVersion,
    notes: b.notes,
  });
}

export function signManifest(body: ReleaseManifestBody, releaseKey: KeyObject): Signed {
  return { ...ReleaseManifestBody.parse(body), signedBy: keyPairOf(releaseKey).publicKey, signature: signPayload(releaseKey, canonicalManifest(body)) };
}

/** The manifest when its signature is good and its signer trusted; FORBIDDEN otherwise, BAD_REQUEST when unreadable. */
export function verifyManifest(text: string, trusted: readonly string[]): Signed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('BAD_REQUEST', 'the release manifest is not JSON');
  }
  const parsed = SignedReleaseManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('BAD_REQUEST', `the release manifest is not valid: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`);
  }
  const m = parsed.data;
  if (!trusted.includes(m.signedBy)) throw new AppError('FORBIDDEN', `the release is signed by ${m.signedBy}, which is not a trusted release key`);
  const key = parsePublicKey(m.signedBy);
  const { signedBy: _s, signature, ...body } = m;
  if (!key || !verifyPayload(key, canonicalManifest(body), signature)) throw new AppError('FORBIDDEN', 'the release manifest has a bad signature');
  return m;
}

/**
 * The image a Kubernetes release runs: its manifest's `image` pinned by the
 * signed artifact SHA-256 (`IMAGE@sha256:<artifactSha256>`; a tag kept beside
 * it is only for people — the digest decides), so a moved tag cannot change
 * the code. An `image` that names a digest must name that one.
 */
export function pinnedImage(image: string, artifactSha256: string): string {
  const at = image.indexOf('@');
  if (at < 0) return `${image}@sha256:${artifactSha256}`;
  if (image.slice(at) !== `@sha256:${artifactSha256}`) throw new AppError('BAD_REQUEST', `the release's image ${image} names another digest than its signed artifact SHA-256 ${artifactSha256}`);
  return image;
}

function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function filesUnder(root: string, dir = root, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(root, path, out);
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}

/** A tarball's SHA-256, or a directory's tree digest. */
export function artifactDigest(path: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new AppError('NOT_FOUND', `the release artifact ${path} does not exist`);
  }
  if (!isDir) return fileSha256(path);
  const tree = createHash('sha256');
  for (const rel of filesUnder(path).sort()) tree.update(`${rel}\0${fileSha256(join(path, rel))}\n`);
  return tree.digest('hex');
}

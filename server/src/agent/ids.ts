import { randomBytes } from 'node:crypto';

/** A random id of [A-Za-z0-9_-] (valid for the store and for providers' tool-use ids). */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

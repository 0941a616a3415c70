/**
 * Does the tailnet policy let our OAuth client mint keys with these tags?
 * Tailscale refuses such a key with a terse "requested tags [...] are invalid
 * or not permitted"; this check reads `tagOwners` first and says what is
 * missing and how to fix it. Rules (tailscale.com/kb/1068/tags): a tag must be
 * declared in `tagOwners`; an OAuth client may apply a tag it was created
 * with, or a tag whose owners include one of its tags.
 */
import { AppError } from '@autoclaw/shared';

const TAG = /^tag:[A-Za-z0-9][A-Za-z0-9-]{0,79}$/;

export interface TagCheckResult {
  ok: boolean;
  /** One line per problem, for the UI and the error message. */
  problems: string[];
  /** What to change in the policy file (empty when ok). */
  guidance: string;
}

export function assertTagNames(tags: readonly string[]): void {
  if (tags.length === 0) throw new AppError('BAD_REQUEST', 'at least one tag is required for a key minted by an OAuth client (e.g. "tag:autoclaw")');
  for (const t of tags) if (!TAG.test(t)) throw new AppError('BAD_REQUEST', `"${t.slice(0, 90)}" is not a tag name like "tag:autoclaw"`);
}

/** Top-level policy keys are case-insensitive (`tagOwners`, `tagowners`, …). */
function policyKey(policy: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(policy).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : policy[key];
}

function tagOwnersOf(policy: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) return out;
  const owners = policyKey(policy as Record<string, unknown>, 'tagOwners');
  if (owners === null || typeof owners !== 'object' || Array.isArray(owners)) return out;
  for (const [tag, list] of Object.entries(owners as Record<string, unknown>)) {
    out.set(tag.toLowerCase(), Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
  }
  return out;
}

/**
 * @param clientTags the tags the OAuth client was created with; when unknown
 *   (empty), only the declaration in `tagOwners` is checked.
 */
export function checkTagsAllowed(policy: unknown, tags: readonly string[], clientTags: readonly string[] = []): TagCheckResult {
  assertTagNames(tags);
  const owners = tagOwnersOf(policy);
  const mine = clientTags.map((t) => t.toLowerCase());
  const problems: string[] = [];
  const undeclared: string[] = [];
  const unowned: string[] = [];
  for (const tag of tags) {
    const list = owners.get(tag.toLowerCase());
    if (list === undefined) {
      problems.push(`${tag} is not declared in the policy file's "tagOwners"`);
      undeclared.push(tag);
      continue;
    }
    if (mine.length === 0 || mine.includes(tag.toLowerCase())) continue;
    if (list.some((o) => mine.includes(o.toLowerCase()))) continue;
    problems.push(
      `${tag} is owned by [${list.join(', ') || 'nobody'}], which includes none of the OAuth client's tags [${clientTags.join(', ')}]`,
    );
    unowned.push(tag);
  }
  if (problems.length === 0) return { ok: true, problems, guidance: '' };
  const lines: string[] = ['Edit the tailnet policy file (admin console → Access controls):'];
  if (undeclared.length > 0) {
    const example = Object.fromEntries(undeclared.map((t) => [t, ['autogroup:admin', ...clientTags.filter((c) => c.toLowerCase() !== t.toLowerCase())]]));
    lines.push(`  add to "tagOwners": ${JSON.stringify(example).slice(1, -1)}`);
  }
  if (unowned.length > 0 && clientTags.length > 0) {
    lines.push(`  add one of [${clientTags.join(', ')}] to the owners of ${unowned.join(', ')} in "tagOwners",`);
    lines.push(`  or create the OAuth client (scope "auth_keys") with the tag${unowned.length > 1 ? 's' : ''} ${unowned.join(', ')}.`);
  }
  if (mine.length === 0) lines.push(`  and give the OAuth client (scope "auth_keys") the tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')}.`);
  return { ok: false, problems, guidance: lines.join('\n') };
}

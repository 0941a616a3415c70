/**
 * The public half of AutoClaw's skill vetting key (Ed25519, base64url raw).
 * The private half never enters this repository; `npm run skills:vet` signs
 * with it from outside. Operators add their own with `--skills-pubkey`.
 */
export const BUILTIN_SKILLS_PUBLIC_KEY = 'dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I';

/** The keys a gateway trusts: the built-in one and the operator's own. */
export function trustedSkillKeys(extra: readonly string[] = []): string[] {
  return [BUILTIN_SKILLS_PUBLIC_KEY, ...extra.filter((k) => k !== BUILTIN_SKILLS_PUBLIC_KEY)];
}

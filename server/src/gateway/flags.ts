/** Flag parsing for every command (node:util parseArgs, strict): a bad flag is a UsageError (exit 2). */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Arguments that start with "-" but are no cluster of this command's short
 * flags: values, not flags. A device id is base64url and starts with "-" one
 * time in 64 (`autoclaw devices revoke --data DIR -Xb3…`). They are held out
 * of parseArgs under placeholders and put back after.
 */
function holdDashValues(args: readonly string[], options: Options): { args: string[]; held: Map<string, string> } {
  const shorts = new Set(Object.values(options).flatMap((option) => (option.short === undefined ? [] : [option.short])));
  const held = new Map<string, string>();
  const out = args.map((arg, i) => {
    if (arg === '--' || !/^-[^-]/.test(arg) || arg.length < 3 || [...arg.slice(1)].every((c) => shorts.has(c))) return arg;
    const placeholder = `\u0000${i}`;
    held.set(placeholder, arg);
    return placeholder;
  });
  return { args: out, held };
}

export function parseFlags<O extends Options>(args: string[], options: O, maxPositionals = 0) {
  const { args: prepared, held } = holdDashValues(args, options);
  let parsed;
  try {
    parsed = parseArgs({ args: prepared, options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (held.size > 0) {
    parsed.positionals = parsed.positionals.map((p) => held.get(p) ?? p);
    const values = parsed.values as Record<string, unknown>;
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === 'string') values[name] = held.get(value) ?? value;
      else if (Array.isArray(value)) values[name] = value.map((v: unknown) => (typeof v === 'string' ? (held.get(v) ?? v) : v));
    }
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${String(parsed.positionals[maxPositionals]).slice(0, 40)}"`);
  }
  return parsed;
}

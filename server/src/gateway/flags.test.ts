import { describe, expect, it } from 'vitest';
import { parseFlags } from './flags';
import { UsageError } from './usage-error';

const options = { data: { type: 'string' }, json: { type: 'boolean', short: 'j' }, tag: { type: 'string', multiple: true } } as const;

describe('parseFlags', () => {
  it('keeps a value that starts with "-" (a base64url device id can) as a positional', () => {
    const { values, positionals } = parseFlags(['revoke', '--data', '/tmp/d', '-Xb3kQ9_zzZ0aa-1234567'], options, 2);
    expect(positionals).toEqual(['revoke', '-Xb3kQ9_zzZ0aa-1234567']);
    expect(values.data).toBe('/tmp/d');
  });

  it('keeps such a value as a flag’s value too, and reads short flag clusters as flags', () => {
    const { values, positionals } = parseFlags(['--data', '-odd-dir', '-j', '--tag', '-a1', '--tag', 'b'], options, 1);
    expect(values).toEqual({ data: '-odd-dir', json: true, tag: ['-a1', 'b'] });
    expect(positionals).toEqual([]);
  });

  it('still refuses an unknown long flag and too many positionals with a UsageError', () => {
    expect(() => parseFlags(['--nope'], options, 1)).toThrow(UsageError);
    expect(() => parseFlags(['a', '-bcdef'], options, 1)).toThrow(/unexpected argument "-bcdef"/);
  });
});

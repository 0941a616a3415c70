import { describe, expect, it } from 'vitest';
import { RepeatStripper } from './repeat-stripper';

const run = (expected: string, pieces: string[]): string => {
  const stripper = new RepeatStripper(expected);
  return pieces.map((piece) => stripper.push(piece)).join('');
};

describe('RepeatStripper', () => {
  it('drops a restated prefix however it is split', () => {
    expect(run('Hello wor', ['Hel', 'lo ', 'wor', 'ld!'])).toBe('ld!');
    expect(run('Hello wor', ['Hello world!'])).toBe('ld!');
  });

  it('releases held text at the first difference', () => {
    expect(run('Hello wor', ['Hel', 'p me'])).toBe('Help me');
    expect(run(' ', ['fox'])).toBe('fox');
  });

  it('passes everything through when nothing is expected', () => {
    expect(run('', ['a', 'b'])).toBe('ab');
  });

  it('holds text while it is still only part of the prefix', () => {
    const stripper = new RepeatStripper('abc');
    expect(stripper.push('ab')).toBe('');
    expect(stripper.push('c')).toBe('');
    expect(stripper.push('d')).toBe('d');
  });
});

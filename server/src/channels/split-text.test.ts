import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitText } from './split-text';

describe('splitText', () => {
  it('keeps a short text whole', () => {
    expect(splitText('hello', 100)).toEqual(['hello']);
    expect(splitText('', 100)).toEqual(['']);
  });

  it('cuts at a paragraph, then a line, then a space', () => {
    const para = `${'a'.repeat(60)}\n\n${'b'.repeat(60)}`;
    expect(splitText(para, 100)).toEqual(['a'.repeat(60), 'b'.repeat(60)]);
    expect(splitText(`${'a'.repeat(70)}\n${'b'.repeat(50)}`, 100)).toEqual(['a'.repeat(70), 'b'.repeat(50)]);
    expect(splitText(`${'a '.repeat(40)}${'b'.repeat(50)}`, 100)[0]!.endsWith('a')).toBe(true);
  });

  it('never leaves half a surrogate pair', () => {
    const text = `${'x'.repeat(99)}😀${'y'.repeat(10)}`;
    const pieces = splitText(text, 100);
    expect(pieces[0]).toBe('x'.repeat(99));
    expect(pieces[1]!.startsWith('😀')).toBe(true);
  });

  it('gives pieces within the limit that hold every non-space character in order', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'é', '😀'), maxLength: 2_000 }), fc.integer({ min: 16, max: 300 }), (text, max) => {
        const pieces = splitText(text, max);
        for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(max);
        expect(pieces.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
    );
  });
});

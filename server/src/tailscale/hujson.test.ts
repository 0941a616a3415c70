import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { parseHuJson, standardizeHuJson } from './hujson';

describe('HuJSON', () => {
  it('strips comments and trailing commas but not inside strings', () => {
    const text = `// head
{
  "a": "x // not a comment, /* nor this */", // tail
  /* block
     comment */ "b": [1, 2, 3,],
  "c": {"d": "e,]",},
}`;
    expect(parseHuJson(text)).toEqual({ a: 'x // not a comment, /* nor this */', b: [1, 2, 3], c: { d: 'e,]' } });
  });

  it('keeps line structure and escaped quotes', () => {
    const text = '{\n"q": "say \\"hi\\"", // c\n}';
    expect(standardizeHuJson(text).split('\n')).toHaveLength(3);
    expect(parseHuJson(text)).toEqual({ q: 'say "hi"' });
  });

  it('reports invalid input as BAD_REQUEST', () => {
    expect(() => parseHuJson('{"a": }')).toThrow(AppError);
  });
});

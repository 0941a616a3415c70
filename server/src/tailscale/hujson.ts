/**
 * HuJSON ("human JSON", the tailnet policy file format) → JSON: strips `//`
 * and `/* *\/` comments and trailing commas outside strings, then parses.
 * Whitespace is kept, so positions in JSON.parse errors still match lines.
 */
import { AppError } from '@autoclaw/shared';

export function standardizeHuJson(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      const start = i;
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      out += text.slice(start, i);
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    if (c === ',') {
      // A comma followed (after whitespace/comments) by } or ] is a trailing comma.
      let j = i + 1;
      for (;;) {
        while (j < n && /\s/.test(text[j] as string)) j++;
        if (text[j] === '/' && text[j + 1] === '/') {
          while (j < n && text[j] !== '\n') j++;
          continue;
        }
        if (text[j] === '/' && text[j + 1] === '*') {
          const end = text.indexOf('*/', j + 2);
          j = end === -1 ? n : end + 2;
          continue;
        }
        break;
      }
      out += text[j] === '}' || text[j] === ']' ? ' ' : ',';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function parseHuJson(text: string): unknown {
  try {
    return JSON.parse(standardizeHuJson(text));
  } catch (err) {
    throw new AppError('BAD_REQUEST', `the tailnet policy file is not valid HuJSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

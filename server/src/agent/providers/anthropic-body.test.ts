import { describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { encodeStreamBody, type StreamParams } from './anthropic-body';

/** A small deterministic generator (no flaky seeds). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TEXTS = ['hello', '', 'quotes " and \\ backslashes', 'line\nbreak\ttab', 'unicode — “curly” ✓ 😀', '\u0000\u001f control', '</script>'];

function randomMessage(next: () => number, i: number): Anthropic.MessageParam {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const content: Anthropic.ContentBlockParam[] = [];
  const n = 1 + Math.floor(next() * 3);
  for (let k = 0; k < n; k++) {
    const kind = Math.floor(next() * 3);
    if (kind === 0) content.push({ type: 'text', text: pick(TEXTS) + i });
    else if (kind === 1) content.push({ type: 'tool_use', id: `tu_${i}_${k}`, name: 'notes_add', input: { text: pick(TEXTS), n: k, nested: { ok: next() > 0.5, list: [1, 'two', null] } } });
    else content.push({ type: 'tool_result', tool_use_id: `tu_${i}_${k}`, ...(next() > 0.3 ? { content: pick(TEXTS) } : {}), is_error: next() > 0.8 });
  }
  return { role: i % 2 === 0 ? 'user' : 'assistant', content };
}

function randomParams(seed: number): StreamParams {
  const next = rng(seed);
  const messages = Array.from({ length: Math.floor(next() * 12) }, (_, i) => randomMessage(next, i));
  const tools: Anthropic.Tool[] = [{ name: 'notes_add', description: 'Adds a note — "quoted"', input_schema: { type: 'object', properties: { text: { type: 'string' } } } }];
  return {
    model: next() > 0.5 ? 'claude-haiku-4-5' : 'model "with" quotes',
    max_tokens: 1 + Math.floor(next() * 8192),
    messages,
    stream: true,
    ...(next() > 0.3 ? { system: `You are helpful. ${TEXTS[seed % TEXTS.length]}` } : {}),
    ...(next() > 0.3 ? { tools } : {}),
  };
}

describe('encodeStreamBody', () => {
  it('is the string JSON.stringify makes of the same params, for 200 random requests', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const params = randomParams(seed);
      expect(encodeStreamBody(params, new WeakMap())).toBe(JSON.stringify(params));
    }
  });

  it('serialises a message object once and reuses its JSON on the next request', () => {
    const cache = new WeakMap<object, string>();
    const params = randomParams(7);
    const past = [randomMessage(rng(1), 0), randomMessage(rng(2), 1)];
    const first = { ...params, messages: past };
    encodeStreamBody(first, cache);
    const kept = past.map((m) => cache.get(m));
    expect(kept.every((json) => typeof json === 'string')).toBe(true);
    // A changed copy of a message is a new object: its own JSON, not the kept one.
    const edited: Anthropic.MessageParam = { ...past[1]!, content: [{ type: 'text', text: 'edited' }] };
    const second = { ...params, messages: [past[0]!, edited, randomMessage(rng(3), 2)] };
    expect(encodeStreamBody(second, cache)).toBe(JSON.stringify(second));
    expect(cache.get(past[0]!)).toBe(kept[0]);
    expect(cache.get(edited)).toBe(JSON.stringify(edited));
  });

  it('sends no messages as an empty list, like JSON.stringify', () => {
    const params: StreamParams = { model: 'm', max_tokens: 5, messages: [], stream: true };
    expect(encodeStreamBody(params, new WeakMap())).toBe('{"model":"m","max_tokens":5,"messages":[],"stream":true}');
  });
});

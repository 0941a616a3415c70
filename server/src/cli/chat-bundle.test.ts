// `autoclaw chat` runs from a bundle of its own (scripts/build.mjs): the
// bundle must stay small, holding neither zod nor the server. Its behaviour
// is driven through the real bin in cli.test.ts.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli-harness';

const CHAT = join(ROOT, 'server/dist/chat.cjs');

describe('the chat bundle', () => {
  it('is one small file without zod, the schemas or the gateway server', () => {
    const source = readFileSync(CHAT, 'utf8');
    expect(statSync(CHAT).size).toBeLessThan(150 * 1024);
    expect(source).not.toMatch(/ZodError|\$ZodType/);
    expect(source).not.toMatch(/fastify|better-sqlite3/);
    // One file: nothing loaded from the split chunks of the main bundle.
    expect(source).not.toMatch(/chunks\//);
  });
});

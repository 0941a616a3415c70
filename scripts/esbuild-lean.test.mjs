// The build's leaner dependencies (esbuild-lean.mjs), bundled as the server
// bundle is and run: zod keeps its English messages and loses the other
// languages; fastify with the gateway's options serves over HTTP without ajv,
// and one built without them says at once what is missing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FASTIFY_UNUSED, leanFastify, zodEnglishOnly } from './esbuild-lean.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'autoclaw-lean-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Bundles `source` (ESM, resolved from the repository) with `plugins`; returns the file and its size. */
async function bundle(name, source, plugins) {
  const entry = join(root, `.lean-${name}-${process.pid}.mjs`);
  writeFileSync(entry, source);
  try {
    const out = join(work, `${name}.mjs`);
    const result = await build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      minify: true,
      metafile: true,
      plugins,
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'silent',
    });
    return { out, bytes: result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes, inputs: Object.keys(result.metafile.inputs) };
  } finally {
    rmSync(entry, { force: true });
  }
}

const ZOD_ENTRY = `import { z } from 'zod';
const r = z.object({ name: z.string(), n: z.number().int() }).safeParse({ name: 1, n: 1.5 });
export const messages = r.error.issues.map((i) => i.message);
export const locales = Object.keys(z.locales);`;

describe('zod with English only', () => {
  it('gives the same English messages, keeps only the English locale, and is less than half the size', async () => {
    const full = await bundle('zod-full', ZOD_ENTRY, []);
    const lean = await bundle('zod-lean', ZOD_ENTRY, [zodEnglishOnly]);
    const a = await import(pathToFileURL(full.out).href);
    const b = await import(pathToFileURL(lean.out).href);
    expect(b.messages).toEqual(a.messages);
    expect(b.messages[0]).toMatch(/^Invalid input: expected string, received number$/);
    expect(a.locales.length).toBeGreaterThan(40);
    expect(b.locales).toEqual(['en']);
    expect(lean.inputs.filter((f) => /zod\/v4\/locales\/(?!en(-only)?\.js)/.test(f))).toEqual([]);
    expect(lean.bytes).toBeLessThan(full.bytes / 2);
  });
});

const FASTIFY_ENTRY = `import Fastify from 'fastify';
export async function serve(opts) {
  const app = Fastify(opts);
  app.get('/hello', async () => ({ hello: 'world' }));
  app.get('/fail', async () => {
    throw Object.assign(new Error('nope'), { statusCode: 418 });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}`;

describe('fastify without schema compilers', () => {
  it('serves over HTTP with the gateway options, holds no ajv, and refuses clearly when built without compilers', async () => {
    const lean = await bundle('fastify-lean', FASTIFY_ENTRY, [leanFastify]);
    for (const name of ['ajv', 'fast-uri', 'thread-stream', ...FASTIFY_UNUSED]) expect(lean.inputs.some((f) => f.includes(`node_modules/${name}/`))).toBe(false);
    const { serve } = await import(pathToFileURL(lean.out).href);
    // The compilers the gateway gives (fastify-options.ts): never called, as no route has a schema.
    const never = () => {
      throw new Error('no schemas here');
    };
    const app = await serve({ logger: false, schemaController: { compilersFactory: { buildValidator: never, buildSerializer: never } } });
    try {
      const { port } = app.server.address();
      const res = await fetch(`http://127.0.0.1:${port}/hello`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ hello: 'world' });
      // Fastify's own error replies (its prebuilt serializer stays in the bundle).
      const failed = await fetch(`http://127.0.0.1:${port}/fail`);
      expect(failed.status).toBe(418);
      expect(await failed.json()).toMatchObject({ statusCode: 418, message: 'nope' });
    } finally {
      await app.close();
    }
    await expect(serve({ logger: false })).rejects.toThrow(/@fastify\/ajv-compiler is not in this bundle: fastify runs with LEAN_FASTIFY_OPTIONS/);
    await expect(serve({ logger: true, schemaController: { compilersFactory: { buildValidator: never, buildSerializer: never } } })).rejects.toThrow(/pino is not in this bundle/);
  });
});

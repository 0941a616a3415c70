// Dependencies' code that the server bundle never runs, left out of it. What
// the gateway loads at start it compiles on every start and keeps in memory
// while idle (an idle gateway is a cost per user; see bench/), so these two
// halve what a start compiles (1.8 → 1.0 MB of JavaScript):
//
// * Fastify requires a JSON-schema validator compiler (ajv) and a serializer
//   compiler only when it is given none. The gateway and the manager give
//   theirs (LEAN_FASTIFY_OPTIONS: no route has a schema), nothing calls
//   `inject()` (light-my-request), and its logger is off (`logger: false`:
//   pino is required only for a logger). ~0.6 MB.
// * zod's `locales` namespace holds its messages in ~50 languages; only
//   English is ever used (zod's own default). The namespace keeps `en`.
//   ~0.26 MB.
//
// A stubbed module throws a clear error if anything ever calls it.
import { dirname, join } from 'node:path';

export const FASTIFY_UNUSED = ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'light-my-request', 'pino'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export const leanFastify = {
  name: 'lean-fastify',
  setup(b) {
    const filter = new RegExp(`^(${FASTIFY_UNUSED.map(escape).join('|')})$`);
    b.onResolve({ filter }, (args) => (/[\\/]node_modules[\\/]fastify[\\/]/.test(args.importer) ? { path: args.path, namespace: 'fastify-unused' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'fastify-unused' }, (args) => {
      const message = `${args.path} is not in this bundle: fastify runs with LEAN_FASTIFY_OPTIONS (its own schema compilers, no logger) and is tested over HTTP, not inject()`;
      // Called or read (pino's serializers are read as fastify's logger loads), it says what is missing.
      return {
        contents: `const fail = () => { throw new Error(${JSON.stringify(message)}); };
module.exports = new Proxy(fail, { get: (t, k) => (typeof k === 'symbol' || k === '__esModule' ? undefined : fail()) });`,
        loader: 'js',
      };
    });
  },
};

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '../locales/en-only.js'), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ contents: "export { default as en } from './en.js';", loader: 'js', resolveDir: dirname(args.path) }));
  },
};

// Two dependencies' hot helpers, rewritten at build time with the same
// results. The gateway runs without V8's optimizing compiler (see
// server/bin/autoclaw.mjs), where a `for...of` over an array allocates an
// iterator and a result object per step, and a helper that makes arrays and
// closures per call costs; a profile of 300 turns put a fifth of the
// gateway's allocation in these two (both run on every turn):
//
// * tRPC publishes its files compiled for old engines: every object spread
//   (`{ ...opts, shape }`, each procedure call, middleware and WebSocket
//   response) goes through the `_objectSpread2` helper, which makes a key
//   array, a symbol array and two closures per spread and calls
//   `toPropertyKey` for every key. Replaced by plain loops (same keys,
//   symbols, descriptors and `__proto__` handling: the helper defines a key
//   the target already has, e.g. `__proto__`, instead of assigning it).
// * The Anthropic SDK walks every message and content block of each request
//   (`collectStainlessHelpers`, for a telemetry header) with `for...of`:
//   with arrays it now uses indexed loops; anything else goes to the
//   original function, which stays in the file under another name.
//
// A version of either package whose text differs is left as it is, and
// esbuild-hot-paths.test.mjs fails on it, so an upgrade is noticed.
import { readFile } from 'node:fs/promises';

export const SPREAD_HEADER = 'function _objectSpread2(e) {';

/** The replacement; the original stays below it under another name (never called). */
export const FAST_SPREAD = `function _objectSpread2(e) {
	for (var r = 1; r < arguments.length; r++) {
		var t = arguments[r];
		if (t == null) continue;
		if (r % 2) {
			var keys = Object.keys(t);
			for (var i = 0; i < keys.length; i++) __acPut(e, keys[i], t[keys[i]]);
			var symbols = Object.getOwnPropertySymbols(Object(t));
			for (var j = 0; j < symbols.length; j++) if (Object.prototype.propertyIsEnumerable.call(t, symbols[j])) __acPut(e, symbols[j], t[symbols[j]]);
		} else Object.defineProperties(e, Object.getOwnPropertyDescriptors(t));
	}
	return e;
}
function __acPut(e, k, v) {
	if (k in e) Object.defineProperty(e, k, { value: v, enumerable: true, configurable: true, writable: true });
	else e[k] = v;
}
function __acObjectSpread2Replaced(e) {`;

export const HELPERS_HEADER = 'export function collectStainlessHelpers(tools, messages) {';

export const FAST_HELPERS = `export function collectStainlessHelpers(tools, messages) {
    if ((tools && !Array.isArray(tools)) || (messages && !Array.isArray(messages))) return __acCollectStainlessHelpersReplaced(tools, messages);
    const helpers = new Set();
    if (tools) {
        for (let i = 0; i < tools.length; i++) {
            const tool = tools[i];
            if (wasCreatedByStainlessHelper(tool)) helpers.add(tool[SDK_HELPER_SYMBOL]);
        }
    }
    if (messages) {
        for (let i = 0; i < messages.length; i++) {
            const message = messages[i];
            if (wasCreatedByStainlessHelper(message)) helpers.add(message[SDK_HELPER_SYMBOL]);
            const content = message.content;
            if (Array.isArray(content)) {
                for (let j = 0; j < content.length; j++) {
                    const block = content[j];
                    if (wasCreatedByStainlessHelper(block)) helpers.add(block[SDK_HELPER_SYMBOL]);
                    const definition = block?.tool?.definition;
                    if (wasCreatedByStainlessHelper(definition)) helpers.add(definition[SDK_HELPER_SYMBOL]);
                }
            }
        }
    }
    return Array.from(helpers);
}
function __acCollectStainlessHelpersReplaced(tools, messages) {`;

const PATCHES = [
  { filter: /[\\/]node_modules[\\/]@trpc[\\/][^\\/]+[\\/]dist[\\/][^\\/]+\.m?js$/, header: SPREAD_HEADER, replacement: FAST_SPREAD },
  { filter: /[\\/]node_modules[\\/]@anthropic-ai[\\/]sdk[\\/]internal[\\/]stainless-helper-header\.mjs$/, header: HELPERS_HEADER, replacement: FAST_HELPERS },
];

/** `text` of the file at `path` with its helper replaced, or null when it has none of ours. */
export function patchSource(path, text) {
  for (const patch of PATCHES) {
    if (patch.filter.test(path) && text.includes(patch.header)) return text.replace(patch.header, patch.replacement);
  }
  return null;
}

export const hotPaths = {
  name: 'hot-paths',
  setup(b) {
    for (const { filter } of PATCHES) {
      b.onLoad({ filter }, async (args) => {
        const contents = patchSource(args.path, await readFile(args.path, 'utf8'));
        return contents === null ? undefined : { contents, loader: 'js' };
      });
    }
  },
};

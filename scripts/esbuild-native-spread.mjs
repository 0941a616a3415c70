// tRPC publishes its files compiled for old engines: every object spread in
// them (`{ ...opts, shape }`, each procedure call, middleware and WebSocket
// response) goes through the `_objectSpread2` helper, which makes a key
// array, a symbol array and two closures per spread and calls
// `toPropertyKey` for every key. The gateway runs without V8's optimizing
// compiler (see server/bin/autoclaw.mjs), where that costs: a profile of 400
// turns put ~6 % of all allocation there. This esbuild plugin swaps the
// helper's body, in tRPC's files only, for plain loops with the same result
// (same keys, symbols, descriptors and `__proto__` handling: the helper
// defines a key the target already has, e.g. `__proto__`, instead of
// assigning it). A tRPC version without the helper is left as it is.
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

/** `text` with the helper replaced, or null when it has none. */
export function withNativeSpread(text) {
  return text.includes(SPREAD_HEADER) ? text.replace(SPREAD_HEADER, FAST_SPREAD) : null;
}

export const nativeObjectSpread = {
  name: 'native-object-spread',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]@trpc[\\/][^\\/]+[\\/]dist[\\/].*\.m?js$/ }, async (args) => {
      const contents = withNativeSpread(await readFile(args.path, 'utf8'));
      return contents === null ? undefined : { contents, loader: 'js' };
    });
  },
};

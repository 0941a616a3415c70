/**
 * The two parts of bolt a Socket Mode app runs, imported past bolt's index:
 * the index also loads the Express and Lambda receivers (express and its
 * dependencies, ~1 MB of code held by every gateway with Slack on) that a
 * Socket Mode app never uses.
 */
import type { App as BoltApp, SocketModeReceiver as BoltSocketModeReceiver } from '@slack/bolt';
import * as appModule from '@slack/bolt/dist/App.js';
import * as socketModeModule from '@slack/bolt/dist/receivers/SocketModeReceiver.js';

/** A CommonJS module's `exports.default`: the bundle hands it over as `default`, Node's own loader one level deeper. */
function defaultExport<T>(mod: { default?: unknown }): T {
  const outer = mod.default as { default?: unknown } | undefined;
  return (typeof outer === 'function' ? outer : outer?.default) as T;
}

export const App = defaultExport<typeof BoltApp>(appModule);
export const SocketModeReceiver = defaultExport<typeof BoltSocketModeReceiver>(socketModeModule);

/**
 * What a skill's code gets. A skill folder's entry module exports `tools`:
 * one async handler per tool its SKILL.md declares, called with the input
 * (already checked against the tool's JSON Schema) and this context. Skills
 * are plain ESM JavaScript typed through JSDoc:
 *
 *   // @ts-check
 *   /** @type {import('../../server/src/skills/host/api').SkillTools} *\/
 *   export const tools = { async weather_forecast(input, ctx) { … } };
 *
 * `fetch`, `http(s).request` and libraries built on them work as usual, but
 * every request goes through the gateway, which allows only the hosts the
 * manifest declares; direct sockets, DNS and UDP are refused.
 */

export interface FileEntry {
  /** Relative to the skill's scope, with `/`. */
  path: string;
  size: number;
  directory: boolean;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  /** stdout and stderr together, cut at the output cap. */
  output: string;
  truncated: boolean;
  timedOut: boolean;
}

export interface ToolContext {
  /** Aborts when the user stops the turn, the call times out, or the gateway stops. */
  readonly signal: AbortSignal;
  /** A vault secret the skill declared (undefined when not set; nothing else is ever given). */
  secret(name: string): string | undefined;
  /** A setting the skill declared: the owner's value, else its default. */
  setting(name: string): string | undefined;
  /** The OAuth access token of the connected account (refreshed by the gateway). */
  oauthToken(): string | undefined;
  /** Stores a declared secret (e.g. a username a device handed out while pairing). */
  saveSecret(name: string, value: string): Promise<void>;
  /** Files in the skill's workspace scope: regular files only, no symlinks, nothing outside. */
  readonly files: {
    read(path: string): Promise<string>;
    write(path: string, content: string): Promise<void>;
    /** Writes bytes (e.g. a PNG). */
    writeBytes(path: string, content: Uint8Array): Promise<void>;
    list(folder?: string): Promise<FileEntry[]>;
    remove(path: string): Promise<void>;
  };
  /** The gateway's search index (the memory index), for skills that declared `index`. */
  readonly index: {
    put(path: string, text: string): Promise<void>;
    remove(path: string): Promise<void>;
    search(query: string, limit?: number): Promise<Array<{ path: string; snippet: string }>>;
  };
  /** Runs a command in the workspace through the gateway (skills that declared `exec`, from every-call tools). */
  exec(command: string, opts?: { timeoutMs?: number }): Promise<ExecOutcome>;
  /** How to launch Chromium (skills that declared it): the path and the proxy arguments it must run with. */
  readonly browser: { executablePath: string; args: string[] } | null;
}

/** A tool's handler: returns the text for the model (objects are sent as JSON). */
// The input was checked against the tool's schema in the gateway; handlers read what they declared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler knows its own input shape
export type ToolHandler = (input: any, ctx: ToolContext) => Promise<unknown> | unknown;

/** What the entry module exports as `tools`. */
export type SkillTools = Record<string, ToolHandler>;

export interface SkillModule {
  tools: SkillTools;
}

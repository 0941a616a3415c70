/** Help texts, one per command (printed by --help, and on stderr with a usage error). */
export const USAGE = {
  gateway: `Usage: autoclaw gateway --data DIR [--port N] [--host H] [--allow-origin ORIGIN]...

Runs a gateway in the foreground on the data directory DIR (made on first use)
and prints its URL. --port 0 picks a free port (default 18789). --host defaults
to 127.0.0.1; any other address makes the gateway reachable beyond this machine.
--allow-origin (repeatable) lets a web page on ORIGIN use the gateway.
Environment: ANTHROPIC_API_KEY, OPENAI_API_KEY, ANTHROPIC_BASE_URL, OPENAI_BASE_URL,
AUTOCLAW_MODEL (anthropic:NAME | openai:NAME | openai-compatible:NAME),
AUTOCLAW_OPENAI_COMPATIBLE_URL, AUTOCLAW_OPENAI_COMPATIBLE_API_KEY (these win over stored settings).
`,
  pair: `Usage: autoclaw pair --data DIR

Prints a one-time pairing code (valid 10 minutes) to pair a browser or app with
the gateway on DIR. Works whether or not the gateway is running.
`,
  chat: `Usage: autoclaw chat --data DIR [--session NAME] -m TEXT

Sends TEXT to the gateway running on DIR as the local operator device and
streams the answer to stdout. The session (default "main") is made on first use.
`,
  history: `Usage: autoclaw history --data DIR --session NAME [--json]

Prints the messages of a session (as a JSON array with --json). Reads through
the running gateway, or the data directory directly when none runs.
`,
  devices: `Usage: autoclaw devices list --data DIR [--json]
       autoclaw devices revoke --data DIR DEVICE_ID

Lists or revokes paired devices. A revoked device's open connections close at once.
`,
  config: `Usage: autoclaw config set --data DIR KEY   (the value is read from stdin)

KEY is one of: model, anthropic.apiKey, anthropic.baseUrl, openai.apiKey,
openai.baseUrl, openaiCompatible.url, openaiCompatible.apiKey.
API keys are stored encrypted. An empty value clears the setting.
`,
} as const;

export type CommandName = keyof typeof USAGE;

export const MAIN_USAGE = `Usage: autoclaw <command> [flags]

Commands:
  gateway   run a gateway on a data directory
  pair      print a one-time pairing code
  chat      send one message and stream the answer
  history   print a session's messages
  devices   list or revoke paired devices
  config    set a provider key or setting

Run "autoclaw <command> --help" for a command's flags.
`;

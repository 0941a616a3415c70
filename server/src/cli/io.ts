/** What a command may touch of its process: output streams and stdin. Tests pass their own. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Made on first use: Node builds stdin's stream (and loads its modules) only when asked, and most commands never read it.
    get stdin() {
      return process.stdin;
    },
  };
}

/** A command: parses its own flags, returns the exit code. */
export interface Command {
  run(args: string[], io: CliIO): Promise<number>;
}

/**
 * A stand-in `signal-cli` executable for tests of the daemon supervision
 * (never used by product code): a Node script that takes
 * `daemon --http=HOST:PORT …`, records its arguments and pid, and serves
 * that port by forwarding every request (the SSE stream included) to a
 * local signal-cli server in the test. SIGTERM ends it.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeSignalCli {
  /** The executable (`signal.cliPath`). */
  path: string;
  /** Each start: its pid and arguments. */
  starts(): Array<{ pid: number; args: string[] }>;
}

export function writeFakeSignalCli(dir: string, upstream: string): FakeSignalCli {
  const path = join(dir, 'signal-cli');
  const log = join(dir, 'signal-cli.starts');
  writeFileSync(log, '');
  const script = `#!${process.execPath}
const http = require('node:http');
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ pid: process.pid, args }) + '\\n');
const listen = (args.find((a) => a.startsWith('--http=')) || '').slice('--http='.length);
if (args[0] !== 'daemon' || !listen) { console.error('usage: signal-cli daemon --http=HOST:PORT'); process.exit(2); }
const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
const upstream = new URL(${JSON.stringify(upstream)});
const server = http.createServer((req, res) => {
  const out = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode || 502, up.headers);
    res.flushHeaders();
    up.pipe(res);
  });
  out.on('error', () => res.destroy());
  res.on('close', () => out.destroy());
  req.pipe(out);
});
server.listen(port, host);
process.on('SIGTERM', () => process.exit(0));
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return {
    path,
    starts: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { pid: number; args: string[] }),
  };
}

/** The process runs (signal 0 reaches it). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

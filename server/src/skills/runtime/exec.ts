/**
 * Runs a command for a skill that declared `exec` (the coding agent), in the
 * gateway: in the workspace, with a minimal environment (no keys), a time
 * limit that kills the whole process group, and an output cap.
 */
import { spawn } from 'node:child_process';
import type { ExecResult } from './protocol';

export const EXEC_OUTPUT_CAP = 64 * 1024;

export function runCommand(command: string, opts: { cwd: string; timeoutMs: number; signal: AbortSignal; outputCap?: number }): Promise<ExecResult> {
  const cap = opts.outputCap ?? EXEC_OUTPUT_CAP;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', HOME: opts.cwd, LANG: 'C.UTF-8', CI: '1' },
    });
    let output = '';
    let truncated = false;
    let timedOut = false;
    const take = (chunk: Buffer) => {
      if (output.length >= cap) {
        truncated = true;
        return;
      }
      const text = chunk.toString('utf8');
      if (output.length + text.length > cap) {
        output += text.slice(0, cap - output.length);
        truncated = true;
      } else output += text;
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const onAbort = () => killGroup();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ exitCode: null, signal: null, output: `could not start: ${err.message}`, truncated: false, timedOut: false });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      resolve({ exitCode, signal, output, truncated, timedOut });
    });
  });
}

/**
 * Managed instances get their data key from the manager through an inherited
 * file descriptor (a pipe or socket the manager writes 32 bytes to and closes,
 * or a file a shell redirected), never as an argument, an environment
 * variable or a file beside the data.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { AppError } from '@autoclaw/shared';
import { DATA_KEY_BYTES } from './key-file';

function checked(fd: number, key: Buffer): Buffer {
  if (key.length !== DATA_KEY_BYTES) {
    key.fill(0);
    throw new AppError('FORBIDDEN', `fd ${fd} gave ${key.length} bytes, not the ${DATA_KEY_BYTES} of a data key`);
  }
  return key;
}

function readRegularFile(fd: number): Buffer {
  const buf = Buffer.alloc(DATA_KEY_BYTES + 1);
  let got = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0 || (got += n) >= buf.length) break;
    }
  } finally {
    closeSync(fd);
  }
  return checked(fd, buf.subarray(0, got));
}

/** Reads the 32-byte key from `fd` and closes it; fewer bytes (the writer closed early) or more is refused. */
export async function readDataKeyFromFd(fd: number, opts: { timeoutMs?: number } = {}): Promise<Buffer> {
  let isFile: boolean;
  try {
    isFile = fstatSync(fd).isFile();
  } catch (err) {
    throw new AppError('NOT_CONFIGURED', `--data-key-fd ${fd} is not an open file descriptor`, { cause: err });
  }
  if (isFile) return readRegularFile(fd);
  // A pipe or a socket pair: libuv reads it without blocking the event loop.
  const socket = new Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('TIMEOUT', `no data key arrived on fd ${fd}`)), opts.timeoutMs ?? 10_000);
      const done = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(new AppError('NOT_CONFIGURED', `cannot read the data key from fd ${fd}: ${err.message}`, { cause: err }));
        else resolve();
      };
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.length;
        // A whole key is enough; the writer need not close its end first.
        if (total >= DATA_KEY_BYTES) done();
      });
      socket.once('end', () => done());
      socket.once('error', (err) => done(err));
    });
  } finally {
    socket.destroy();
  }
  const key = Buffer.concat(chunks, total);
  for (const c of chunks) c.fill(0);
  return checked(fd, key);
}

/**
 * A warm standby gateway's assignment (see the local driver's standby pool):
 * the manager writes one line (`header`: the gateway's arguments as JSON)
 * and then the 32-byte data key on the inherited pipe `fd`, and closes it.
 * Null when the pipe closes with nothing on it (the manager let the standby
 * go, or died). No time limit: a standby waits until it is needed.
 */
export async function readAssignmentFromFd(fd: number): Promise<{ header: string; key: Buffer } | null> {
  const socket = new Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.once('end', () => resolve());
      socket.once('error', (err) => reject(new AppError('NOT_CONFIGURED', `cannot read the assignment from fd ${fd}: ${err.message}`, { cause: err })));
    });
  } finally {
    socket.destroy();
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  if (all.length === 0) return null;
  const nl = all.indexOf(0x0a);
  if (nl < 0) {
    all.fill(0);
    throw new AppError('BAD_REQUEST', `the assignment on fd ${fd} has no header line`);
  }
  const header = all.subarray(0, nl).toString('utf8');
  const key = Buffer.from(all.subarray(nl + 1));
  all.fill(0);
  return { header, key: checked(fd, key) };
}

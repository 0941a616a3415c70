// `autoclaw chat`: runs server/dist/chat.cjs (one CommonJS file, see
// scripts/build.mjs) with a V8 code cache, and exits as soon as the turn's
// output is written. Reached from bin/autoclaw.mjs — through its sh lines
// (`node -e`, no ES module loader, no gateway flags) or through its
// JavaScript when run as `node server/bin/autoclaw.mjs chat`.
//
// The cache (dist/chat.cjs.v8cache) holds V8's compiled code of the bundle,
// the functions a turn ran included, so a run compiles next to nothing. It
// starts with the SHA-256 of the bundle it was made from and the length of
// what follows: a cache of another build (or a cut one) is never given to V8,
// which itself refuses one from another Node version or other V8 flags. It is
// written (to a temporary file, then renamed) when missing or refused, and
// not at all when dist/ is read-only.
'use strict';
const { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire, wrap } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '../dist/chat.cjs');
const CACHE = `${BUNDLE}.v8cache`;
const HEADER = 36; // sha-256 of the bundle, then the payload's length (uint32 BE)

function readCache(hash) {
  try {
    const file = readFileSync(CACHE);
    if (file.length <= HEADER || !file.subarray(0, 32).equals(hash) || file.readUInt32BE(32) !== file.length - HEADER) return undefined;
    return file.subarray(HEADER);
  } catch {
    return undefined;
  }
}

function writeCache(hash, script) {
  const tmp = `${CACHE}.${process.pid}.tmp`;
  let fd;
  try {
    fd = openSync(tmp, 'w', 0o644); // fails at once where dist/ is read-only: no cache made for nothing
    const data = script.createCachedData();
    const header = Buffer.alloc(HEADER);
    hash.copy(header);
    header.writeUInt32BE(data.length, 32);
    writeSync(fd, header);
    writeSync(fd, data);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, CACHE);
  } catch {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
  }
}

function load() {
  const source = readFileSync(BUNDLE, 'utf8');
  const hash = createHash('sha256').update(source).digest();
  const cachedData = readCache(hash);
  const script = new Script(wrap(source), { filename: BUNDLE, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(BUNDLE), mod, BUNDLE, dirname(BUNDLE));
  const save = cachedData === undefined || script.cachedDataRejected ? () => writeCache(hash, script) : () => {};
  return { main: mod.exports.main, save };
}

/** Runs `autoclaw chat` (argv starts with "chat") and exits with its code. */
module.exports = async function chat(argv) {
  if (!existsSync(BUNDLE)) {
    const { buildServer } = await import(join(__dirname, '../../scripts/build.mjs'));
    await buildServer();
  }
  const { main, save } = load();
  const code = await main(argv);
  save();
  // Nothing else is worth waiting for once the output is out (the gateway's
  // answer to the WebSocket's close frame, for one): the message was stored
  // before chat.send answered.
  let pending = 2;
  const flushed = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
};

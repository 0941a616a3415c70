/**
 * A small JSON-line logger (one object per line on stderr). Fields whose
 * names look like secrets are replaced, and errors are reduced to name, code
 * and message, so a log line never carries a key.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => number;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(api[-_]?key|secret|token|password|passphrase|authorization|signature|private|pairing[-_]?code$)/i;

function clean(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, ...(typeof code === 'string' ? { code } : {}), message: value.message };
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth > 3) return '[object]';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : clean(v, depth + 1);
  return out;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const extra = fields ? (clean(fields, 0) as Record<string, unknown>) : {};
    write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...extra })}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests that assert on nothing logged use `createLogger({ write })`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The pino-shaped surface (`log(fields, msg)`) the agent takes. */
export interface ObjectLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function asObjectLogger(logger: Logger): ObjectLogger {
  const wrap = (fn: Logger['info']) => (obj: object, msg?: string) => fn(msg ?? '', obj as LogFields);
  return { info: wrap(logger.info), warn: wrap(logger.warn), error: wrap(logger.error) };
}

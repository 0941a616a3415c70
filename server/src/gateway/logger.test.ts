import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { asObjectLogger, createLogger } from './logger';

describe('logger', () => {
  it('writes JSON lines and redacts secret-looking fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l), now: () => 0, level: 'info' });
    logger.debug('hidden');
    logger.info('hello', { apiKey: 'sk-123', nested: { Authorization: 'Bearer x', ok: 1 }, err: new AppError('NOT_FOUND', 'gone') });
    asObjectLogger(logger).warn({ token: 't' }, 'pino-style');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'hello',
      apiKey: '[redacted]',
      nested: { Authorization: '[redacted]', ok: 1 },
      err: { name: 'AppError', code: 'NOT_FOUND', message: 'gone' },
    });
    expect(lines.join('')).not.toContain('sk-123');
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'warn', msg: 'pino-style', token: '[redacted]' });
  });
});

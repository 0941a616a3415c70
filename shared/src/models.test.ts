import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { formatModelRef, parseModelRef } from './models';
import { ChatEventSchema, ProcedureInputs } from './schemas';
import { authPayload } from './auth';

describe('parseModelRef', () => {
  it('parses the three provider prefixes', () => {
    expect(parseModelRef('anthropic:claude-sonnet-4-5')).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(parseModelRef('openai:gpt-4o')).toEqual({ provider: 'openai', model: 'gpt-4o' });
    expect(parseModelRef('openai-compatible:llama3.1:8b')).toEqual({ provider: 'openai-compatible', model: 'llama3.1:8b' });
    expect(formatModelRef(parseModelRef('openai:gpt-5'))).toBe('openai:gpt-5');
  });

  it.each(['claude-sonnet', 'google:gemini', 'openai:', ':gpt-4o', ''])('refuses %j with a typed error', (spec) => {
    expect(() => parseModelRef(spec)).toThrow(AppError);
    try {
      parseModelRef(spec);
    } catch (err) {
      expect(AppError.is(err, 'BAD_REQUEST')).toBe(true);
    }
  });
});

describe('contract schemas', () => {
  it('refuses unknown keys, empty and oversized messages, bad client ids', () => {
    const send = ProcedureInputs.chatSend;
    expect(send.safeParse({ sessionId: 's1', clientId: 'abcdefgh12', text: 'hi' }).success).toBe(true);
    expect(send.safeParse({ sessionId: 's1', clientId: 'abcdefgh12', text: '' }).success).toBe(false);
    expect(send.safeParse({ sessionId: 's1', clientId: 'abcdefgh12', text: 'x'.repeat(32_001) }).success).toBe(false);
    expect(send.safeParse({ sessionId: 's1', clientId: 'short', text: 'hi' }).success).toBe(false);
    expect(send.safeParse({ sessionId: 's1', clientId: 'abcdefgh12', text: 'hi', admin: true }).success).toBe(false);
    expect(send.safeParse({ sessionId: '../etc', clientId: 'abcdefgh12', text: 'hi' }).success).toBe(false);
  });

  it('parses every chat event kind and refuses unknown ones', () => {
    expect(ChatEventSchema.safeParse({ type: 'delta', messageId: 'm1', offset: 0, text: 'Hi' }).success).toBe(true);
    expect(ChatEventSchema.safeParse({ type: 'delta', messageId: 'm1', offset: -1, text: 'Hi' }).success).toBe(false);
    expect(ChatEventSchema.safeParse({ type: 'explode' }).success).toBe(false);
  });

  it('builds the signed auth payload the same way everywhere', () => {
    expect(authPayload('n0nce', 'dev1', 1700000000000)).toBe('autoclaw-auth/v1\nn0nce\ndev1\n1700000000000');
  });
});

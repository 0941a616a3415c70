import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, parseEnv, parseGatewayConfig, UsageError } from './config';

describe('gateway config', () => {
  it('parses flags with defaults', () => {
    expect(parseGatewayConfig(['--data', 'some/dir'], {})).toEqual({
      dataDir: resolve('some/dir'),
      port: DEFAULT_PORT,
      host: '127.0.0.1',
      allowOrigins: [],
      env: {},
    });
    const config = parseGatewayConfig(
      ['--data', '/d', '--port', '0', '--host', '100.64.0.7', '--allow-origin', 'https://App.Example/', '--allow-origin', 'http://x:8080'],
      {},
    );
    expect(config).toMatchObject({ port: 0, host: '100.64.0.7', allowOrigins: ['https://app.example', 'http://x:8080'] });
    expect(parseGatewayConfig(['--data', '/d', '--host', '[::1]'], {}).host).toBe('::1');
  });

  it('reads the environment, trimming empty values away', () => {
    const env = parseEnv({
      ANTHROPIC_API_KEY: 'sk-ant',
      OPENAI_API_KEY: '',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/',
      AUTOCLAW_MODEL: 'openai-compatible:llama3.2',
      AUTOCLAW_OPENAI_COMPATIBLE_URL: 'http://localhost:11434/v1',
      AUTOCLAW_OPENAI_COMPATIBLE_API_KEY: 'ollama',
      UNRELATED: 'x',
    });
    expect(env).toEqual({
      'anthropic.apiKey': 'sk-ant',
      'anthropic.baseUrl': 'http://127.0.0.1:9/',
      model: 'openai-compatible:llama3.2',
      'openaiCompatible.url': 'http://localhost:11434/v1',
      'openaiCompatible.apiKey': 'ollama',
    });
  });

  it('refuses bad values with a UsageError naming the culprit', () => {
    const bad: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [[], {}, /--data/],
      [['--data', '/d', '--port', '70000'], {}, /--port/],
      [['--data', '/d', '--port', 'abc'], {}, /--port/],
      [['--data', '/d', '--host', 'a b'], {}, /--host/],
      [['--data', '/d', '--allow-origin', 'not a url'], {}, /--allow-origin/],
      [['--data', '/d', '--allow-origin', 'https://x.example/path'], {}, /--allow-origin/],
      [['--data', '/d', '--nope'], {}, /nope/],
      [['--data', '/d', 'extra'], {}, /extra/],
      [['--data', '/d'], { AUTOCLAW_MODEL: 'gpt-4o' }, /AUTOCLAW_MODEL/],
      [['--data', '/d'], { OPENAI_BASE_URL: 'file:///etc' }, /OPENAI_BASE_URL/],
    ];
    for (const [argv, env, message] of bad) {
      let caught: unknown;
      try {
        parseGatewayConfig(argv, env);
      } catch (err) {
        caught = err;
      }
      expect(caught, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('parses --allow-host names (lower-cased, with or without a port) and refuses malformed ones', () => {
    expect(parseGatewayConfig(['--data', '/d'], {}).allowHosts).toBeUndefined();
    const config = parseGatewayConfig(['--data', '/d', '--allow-host', 'Chat.Example.org', '--allow-host', 'proxy.example:8443'], {});
    expect(config.allowHosts).toEqual(['chat.example.org', 'proxy.example:8443']);
    for (const bad of ['', 'a b', 'x:99999', 'http://x']) {
      expect(() => parseGatewayConfig(['--data', '/d', '--allow-host', bad], {}), bad).toThrow(UsageError);
    }
  });

  it('parses the managed-instance flags and refuses bad values', () => {
    const key = 'A'.repeat(42) + 'E';
    expect(parseGatewayConfig(['--data', '/d', '--instance-id', 'inst_1', '--data-key-fd', '3', '--manager-key', key], {})).toMatchObject({
      instanceId: 'inst_1',
      dataKeyFd: 3,
      managerKey: key,
    });
    expect(() => parseGatewayConfig(['--data', '/d', '--instance-id', 'a b'], {})).toThrow(UsageError);
    expect(() => parseGatewayConfig(['--data', '/d', '--data-key-fd', '1'], {})).toThrow(UsageError);
    expect(() => parseGatewayConfig(['--data', '/d', '--manager-key', 'short'], {})).toThrow(UsageError);
  });
});

describe('gateway skills flags', () => {
  it('reads --skills, --skills-pubkey (repeatable) and AUTOCLAW_CHROMIUM; refuses a bad key', () => {
    const key = 'dXgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I';
    const config = parseGatewayConfig(['--data', '/d', '--skills', 'my/skills', `--skills-pubkey=${key}`], { AUTOCLAW_CHROMIUM: '/opt/chrome' });
    expect(config).toMatchObject({ skillsDir: resolve('my/skills'), skillsPubkeys: [key], chromiumPath: '/opt/chrome' });
    expect(() => parseGatewayConfig(['--data', '/d', '--skills-pubkey', 'short'], {})).toThrow(UsageError);
    expect(() => parseGatewayConfig(['--data', '/d', '--skills', ''], {})).toThrow(/--skills needs a folder/);
  });

  it('takes a key that starts with "-" (base64url does one time in 64) as the value of --skills-pubkey KEY', () => {
    const key = '-XgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I';
    expect(parseGatewayConfig(['--data', '/d', '--skills-pubkey', key], {}).skillsPubkeys).toEqual([key]);
  });
});

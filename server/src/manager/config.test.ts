import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../gateway';
import { DEFAULT_MANAGER_PORT, parseManagerConfig } from './config';

describe('parseManagerConfig', () => {
  it('has safe defaults: loopback, local driver, closed sign-up, plain HTTP, keychain when there is one', () => {
    expect(parseManagerConfig(['--data', 'x'], {})).toEqual({
      dataDir: resolve('x'),
      port: DEFAULT_MANAGER_PORT,
      host: '127.0.0.1',
      driver: 'local',
      signup: 'closed',
      tls: null,
      allowOrigins: [],
      masterKeyStore: 'auto',
    });
  });

  it('reads every flag', () => {
    const config = parseManagerConfig(
      ['--data', '/d', '--port', '0', '--host', '[::1]', '--signup', 'invite', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--allow-origin', 'HTTPS://App.Example.com'],
      { AUTOCLAW_MASTER_KEY_STORE: 'file' },
    );
    expect(config).toMatchObject({
      dataDir: '/d',
      port: 0,
      host: '::1',
      signup: 'invite',
      tls: { certPath: resolve('c.pem'), keyPath: resolve('k.pem') },
      allowOrigins: ['https://app.example.com'],
      masterKeyStore: 'file',
    });
    expect(config.kubernetes).toBeUndefined();
  });

  it('collects --kube-* flags for the kubernetes driver', () => {
    const config = parseManagerConfig(['--data', '/d', '--driver', 'kubernetes', '--kube-namespace', 'claws', '--kube-config', 'kc.yaml', '--kube-in-cluster'], {});
    expect(config.driver).toBe('kubernetes');
    expect(config.kubernetes).toEqual({ namespace: 'claws', config: resolve('kc.yaml'), inCluster: true });
    expect(parseManagerConfig(['--data', '/d', '--driver', 'kubernetes'], {}).kubernetes).toEqual({});
  });

  it.each([
    [[], /--data DIR is required/],
    [['--data', 'd', '--signup', 'everyone'], /--signup must be one of closed, invite, open/],
    [['--data', 'd', '--driver', 'docker'], /--driver must be one of local, kubernetes/],
    [['--data', 'd', '--port', '70000'], /--port must be 0–65535/],
    [['--data', 'd', '--port', '-1'], /--port/],
    [['--data', 'd', '--host', 'a b'], /--host must be a host name/],
    [['--data', 'd', '--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
    [['--data', 'd', '--tls-key', 'k.pem'], /--tls-cert and --tls-key go together/],
    [['--data', 'd', '--kube-namespace', 'x'], /--kube-\* flags need --driver kubernetes/],
    [['--data', 'd', '--allow-origin', 'https://x.com/path'], /must be an origin/],
    [['--data', 'd', '--bogus'], /Unknown option/],
    [['--data', 'd', 'extra'], /Unexpected argument|positional/i],
  ])('refuses %j', (argv, message) => {
    expect(() => parseManagerConfig(argv, {})).toThrow(UsageError);
    expect(() => parseManagerConfig(argv, {})).toThrow(message);
  });

  it('refuses an unknown master key store', () => {
    expect(() => parseManagerConfig(['--data', 'd'], { AUTOCLAW_MASTER_KEY_STORE: 'vault' })).toThrow(/AUTOCLAW_MASTER_KEY_STORE must be one of auto, keychain, file/);
  });
});

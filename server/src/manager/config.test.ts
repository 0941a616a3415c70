import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../gateway';
import { DEFAULT_MANAGER_PORT, parseManagerConfig, parseOperatorConfig } from './config';

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
      database: { engine: 'sqlite', path: resolve('x', 'manager.db') },
      providerEnv: {},
      warmStandbys: 1,
    });
  });

  it('takes PostgreSQL from --database or AUTOCLAW_DATABASE_URL (the flag wins); anything else is a usage error', () => {
    const url = 'postgres://autoclaw:s3cret@db.internal:5432/manager';
    expect(parseManagerConfig(['--data', 'x', '--database', url], {}).database).toEqual({ engine: 'postgres', url });
    expect(parseManagerConfig(['--data', 'x'], { AUTOCLAW_DATABASE_URL: 'postgresql://h/db' }).database).toEqual({ engine: 'postgres', url: 'postgresql://h/db' });
    expect(parseManagerConfig(['--data', 'x', '--database', url], { AUTOCLAW_DATABASE_URL: 'postgresql://h/db' }).database).toEqual({ engine: 'postgres', url });
    expect(parseManagerConfig(['--data', 'x'], { AUTOCLAW_DATABASE_URL: ' ' }).database.engine).toBe('sqlite');
    expect(() => parseManagerConfig(['--data', 'x', '--database', 'mysql://h/db'], {})).toThrow(/--database must be a postgres:\/\/ URL/);
    expect(() => parseManagerConfig(['--data', 'x', '--database', 'not a url'], {})).toThrow(UsageError);
    expect(() => parseManagerConfig(['--data', 'x'], { AUTOCLAW_DATABASE_URL: 'sqlite:///tmp/x' })).toThrow(/AUTOCLAW_DATABASE_URL must be a postgres:\/\/ URL/);
    // The operator commands take the same.
    expect(parseOperatorConfig({ data: 'x', database: url }, {}).database).toEqual({ engine: 'postgres', url });
    expect(parseOperatorConfig({ data: 'x' }, { AUTOCLAW_DATABASE_URL: url }).database).toEqual({ engine: 'postgres', url });
  });

  it('reads the idle time before an instance sleeps from --sleep-after or AUTOCLAW_SLEEP_AFTER_MINUTES (the flag wins); 0 never sleeps', () => {
    expect(parseManagerConfig(['--data', 'x'], {}).sleepAfterMs).toBeUndefined();
    expect(parseManagerConfig(['--data', 'x', '--sleep-after', '30'], { AUTOCLAW_SLEEP_AFTER_MINUTES: '5' }).sleepAfterMs).toBe(30 * 60_000);
    expect(parseManagerConfig(['--data', 'x'], { AUTOCLAW_SLEEP_AFTER_MINUTES: '0.5' }).sleepAfterMs).toBe(30_000);
    expect(parseManagerConfig(['--data', 'x', '--sleep-after', '0'], {}).sleepAfterMs).toBe(0);
    for (const bad of ['-1', 'soon', '', '99999']) expect(() => parseManagerConfig(['--data', 'x', `--sleep-after=${bad}`], {})).toThrow(/--sleep-after is a number of minutes/);
  });

  it('provisions new instances asleep only with --provision-asleep (a flag without a value)', () => {
    expect(parseManagerConfig(['--data', 'x'], {}).provisionAsleep).toBeUndefined();
    expect(parseManagerConfig(['--data', 'x', '--provision-asleep'], {}).provisionAsleep).toBe(true);
    expect(() => parseManagerConfig(['--data', 'x', '--provision-asleep=yes'], {})).toThrow(UsageError);
  });

  it('keeps one warm standby gateway by default; --warm-standbys N (0–16) changes it', () => {
    expect(parseManagerConfig(['--data', 'x'], {}).warmStandbys).toBe(1);
    expect(parseManagerConfig(['--data', 'x', '--warm-standbys', '0'], {}).warmStandbys).toBe(0);
    expect(parseManagerConfig(['--data', 'x', '--warm-standbys', '3'], {}).warmStandbys).toBe(3);
    for (const bad of ['-1', 'two', '', '17']) expect(() => parseManagerConfig(['--data', 'x', `--warm-standbys=${bad}`], {})).toThrow(/--warm-standbys is a number/);
  });

  it('hands the non-secret provider variables (and only those) on to instances', () => {
    const config = parseManagerConfig(['--data', 'x'], {
      ANTHROPIC_API_KEY: 'sk-ant-1',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      AUTOCLAW_MODEL: 'openai:gpt-4o',
      AUTOCLAW_OPENAI_COMPATIBLE_URL: ' ',
      TS_API_CLIENT_SECRET: 'not for gateways',
      HOME: '/root',
    });
    // API keys stay out of every instance's environment: users enter them in Settings.
    expect(config.providerEnv).toEqual({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AUTOCLAW_MODEL: 'openai:gpt-4o' });
  });

  it('takes a release key that starts with "-" (base64url does one time in 64) as the value of --release-pubkey KEY', () => {
    const key = '-XgDiYgwy4iX0d5Iys3y9W6U8u8x7FmhrioeBMT8B1I';
    expect(parseManagerConfig(['--data', '/d', '--release-pubkey', key], {}).releaseKeys).toHaveLength(1);
    expect(() => parseManagerConfig(['--data', '/d', '--nope'], {})).toThrow(UsageError);
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

  it('reads the Tailscale flags; credentials only from the environment', () => {
    expect(parseManagerConfig(['--data', 'd', '--tailscale'], {}).tailscale).toEqual({ tags: ['tag:autoclaw'] });
    expect(parseManagerConfig(['--data', 'd', '--tailscale', '--tailscale-socket', '/run/ts.sock', '--tailscale-owner', 'Me@Example.com'], {}).tailscale).toEqual({
      socketPath: '/run/ts.sock',
      ownerLogin: 'me@example.com',
      tags: ['tag:autoclaw'],
    });
    // The local driver talks to this machine's tailscaled: no API credentials needed (nor kept).
    expect(parseManagerConfig(['--data', 'd', '--tailscale'], { TS_AUTHKEY: 'tskey-auth-x' }).tailscale?.credentials).toBeUndefined();
    const k8s = ['--data', 'd', '--driver', 'kubernetes', '--tailscale', '--tailscale-tags', 'tag:a, tag:b'];
    expect(parseManagerConfig(k8s, { TS_API_CLIENT_ID: 'id', TS_API_CLIENT_SECRET: 'secret', AUTOCLAW_TAILSCALE_API_URL: 'http://127.0.0.1:9/api/v2' }).tailscale).toEqual({
      tags: ['tag:a', 'tag:b'],
      credentials: { kind: 'oauth', clientId: 'id', clientSecret: 'secret' },
      apiUrl: 'http://127.0.0.1:9/api/v2',
    });
    expect(parseManagerConfig(k8s, { TS_AUTHKEY: 'tskey-auth-k1-abc' }).tailscale?.credentials).toEqual({ kind: 'authkey', authKey: 'tskey-auth-k1-abc' });
    expect(parseManagerConfig(['--data', 'd', '--driver', 'kubernetes'], { KUBECONFIG: '/k/a.yaml:/k/b.yaml' }).kubernetes).toEqual({ config: '/k/a.yaml' });
  });

  it.each([
    [['--data', 'd', '--tailscale-socket', '/s'], {}, /need --tailscale/],
    [['--data', 'd', '--tailscale', '--tailscale-tags', 'autoclaw'], {}, /--tailscale-tags must be/],
    [['--data', 'd', '--tailscale', '--tailscale-owner', 'nobody'], {}, /tailnet login/],
    [['--data', 'd', '--driver', 'kubernetes', '--tailscale', '--tailscale-socket', '/s'], { TS_AUTHKEY: 'tskey-auth-x' }, /for the local driver/],
    [['--data', 'd', '--driver', 'kubernetes', '--tailscale'], {}, /needs credentials in the environment/],
    [['--data', 'd', '--driver', 'kubernetes', '--tailscale'], { TS_API_CLIENT_SECRET: 's' }, /go together/],
    [['--data', 'd', '--driver', 'kubernetes', '--tailscale'], { TS_API_CLIENT_ID: 'i', TS_API_CLIENT_SECRET: 's', TS_AUTHKEY: 'tskey-auth-x' }, /not both/],
    [['--data', 'd', '--driver', 'kubernetes', '--tailscale'], { TS_AUTHKEY: 'hunter2' }, /TS_AUTHKEY must be a Tailscale auth key/],
    [['--data', 'd', '--tailscale'], { AUTOCLAW_TAILSCALE_API_URL: 'ftp://x' }, /must be an http/],
  ])('refuses %j with %j', (argv, env, message) => {
    expect(() => parseManagerConfig(argv, env)).toThrow(UsageError);
    expect(() => parseManagerConfig(argv, env)).toThrow(message);
  });

  it('never echoes a credential in a usage error', () => {
    expect(() => parseManagerConfig(['--data', 'd', '--driver', 'kubernetes', '--tailscale'], { TS_AUTHKEY: 'hunter2-secret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2-secret') }),
    );
  });

  it('refuses an unknown master key store', () => {
    expect(() => parseManagerConfig(['--data', 'd'], { AUTOCLAW_MASTER_KEY_STORE: 'vault' })).toThrow(/AUTOCLAW_MASTER_KEY_STORE must be one of auto, keychain, file/);
  });

  it('takes the credit margin as exact basis points and the monthly reset as on/off; anything else is a usage error', () => {
    const credits = (env: Record<string, string>) => parseManagerConfig(['--data', 'd'], env).credits;
    expect(credits({})).toBeUndefined();
    expect(credits({ AUTOCLAW_CREDIT_MARGIN_PERCENT: '20' })).toEqual({ marginBps: 2_000, monthlyReset: false });
    expect(credits({ AUTOCLAW_CREDIT_MARGIN_PERCENT: '12.5', AUTOCLAW_CREDIT_MONTHLY_RESET: 'on' })).toEqual({ marginBps: 1_250, monthlyReset: true });
    expect(credits({ AUTOCLAW_CREDIT_MARGIN_PERCENT: '0.07' })).toEqual({ marginBps: 7, monthlyReset: false });
    expect(credits({ AUTOCLAW_CREDIT_MONTHLY_RESET: 'off' })).toEqual({ marginBps: 0, monthlyReset: false });
    for (const bad of ['-5', 'NaN', '1e3', '0.125', '1001', 'twenty']) {
      expect(() => credits({ AUTOCLAW_CREDIT_MARGIN_PERCENT: bad })).toThrow(/AUTOCLAW_CREDIT_MARGIN_PERCENT/);
    }
    expect(() => credits({ AUTOCLAW_CREDIT_MONTHLY_RESET: 'weekly' })).toThrow(/AUTOCLAW_CREDIT_MONTHLY_RESET is on or off/);
  });
});

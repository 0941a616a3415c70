import { describe, expect, it } from 'vitest';
import { findDeepLinkInArgv, parseDeepLink } from './deep-link';

const TICKET = `${'eyJ2IjoxLCJqdGkiOiJhYmMifQ'}.${'A'.repeat(86)}`;

describe('parseDeepLink', () => {
  it('accepts the pair and open links', () => {
    expect(parseDeepLink('autoclaw://pair?code=abcd-efgh')).toEqual({
      ok: true,
      link: { kind: 'pair', code: 'ABCD-EFGH', ticket: null, instanceId: null },
    });
    expect(parseDeepLink('autoclaw://pair/?code=ABCDEFGH&instance=inst_1')).toEqual({
      ok: true,
      link: { kind: 'pair', code: 'ABCDEFGH', ticket: null, instanceId: 'inst_1' },
    });
    expect(parseDeepLink(`autoclaw://pair?ticket=${TICKET}`)).toEqual({
      ok: true,
      link: { kind: 'pair', code: null, ticket: TICKET, instanceId: null },
    });
    expect(parseDeepLink('autoclaw://open?session=s-42')).toEqual({
      ok: true,
      link: { kind: 'open', sessionId: 's-42' },
    });
  });

  // Each of these must be refused; the reason names why.
  const malicious: Array<[string, unknown]> = [
    ['not a string', 42],
    ['null', null],
    ['empty', ''],
    ['other scheme', 'https://evil.example/pair?code=ABCD-EFGH'],
    ['javascript scheme', 'javascript:alert(1)'],
    ['file scheme', 'file:///etc/passwd'],
    ['scheme without slashes', 'autoclaw:pair?code=ABCD-EFGH'],
    ['uppercase scheme', 'AUTOCLAW://pair?code=ABCD-EFGH'],
    ['scheme look-alike', 'autoclaw-evil://pair?code=ABCD-EFGH'],
    ['unknown action', 'autoclaw://settings?x=1'],
    ['uppercase action', 'autoclaw://PAIR?code=ABCD-EFGH'],
    ['empty host, action as path', 'autoclaw:///pair?code=ABCD-EFGH'],
    ['gateway url parameter', 'autoclaw://pair?code=ABCD-EFGH&gateway=https://evil.example'],
    ['url parameter', 'autoclaw://pair?code=ABCD-EFGH&url=wss://evil.example/trpc'],
    ['manager parameter', 'autoclaw://pair?ticket=' + TICKET + '&manager=https://evil.example'],
    ['server on open', 'autoclaw://open?session=s1&server=evil.example'],
    ['both code and ticket', `autoclaw://pair?code=ABCD-EFGH&ticket=${TICKET}`],
    ['neither code nor ticket', 'autoclaw://pair?instance=i1'],
    ['repeated code', 'autoclaw://pair?code=ABCD-EFGH&code=WXYZ-1234'],
    ['repeated session', 'autoclaw://open?session=a&session=b'],
    ['code too short', 'autoclaw://pair?code=ABC'],
    ['code with look-alike letters', 'autoclaw://pair?code=ABCD-EFGI'],
    ['code with script', 'autoclaw://pair?code=%3Cscript%3E'],
    ['malformed ticket', 'autoclaw://pair?ticket=not-a-ticket'],
    ['ticket with short signature', `autoclaw://pair?ticket=eyJ2IjoxLCJqdGkiOiJhYmMifQ.${'A'.repeat(20)}`],
    ['instance with slash', 'autoclaw://pair?code=ABCD-EFGH&instance=..%2F..%2Fx'],
    ['session with path traversal', 'autoclaw://open?session=..%2Fetc'],
    ['session too long', `autoclaw://open?session=${'a'.repeat(65)}`],
    ['empty session', 'autoclaw://open?session='],
    ['missing session', 'autoclaw://open'],
    ['credentials', 'autoclaw://user:pw@pair?code=ABCD-EFGH'],
    ['port', 'autoclaw://pair:443?code=ABCD-EFGH'],
    ['fragment', 'autoclaw://open?session=s1#https://evil.example'],
    ['extra path', 'autoclaw://pair/evil?code=ABCD-EFGH'],
    ['dot segments', 'autoclaw://pair/../open?session=s1'],
    ['newline inside (URL parser would drop it)', 'autoclaw://pa\nir?code=ABCD-EFGH'],
    ['tab inside', 'autoclaw://pair?code=ABCD\t-EFGH'],
    ['leading space (URL parser would trim it)', ' autoclaw://pair?code=ABCD-EFGH'],
    ['trailing newline', 'autoclaw://pair?code=ABCD-EFGH\n'],
    ['NUL byte', 'autoclaw://open?session=s1\u0000'],
    ['non-ASCII host look-alike', 'autoclaw://pаir?code=ABCD-EFGH'],
    ['Chromium switch appended', 'autoclaw://open?session=s1" --gpu-launcher="calc.exe'],
    ['too long', `autoclaw://open?session=s1&x=${'a'.repeat(3000)}`],
  ];

  it.each(malicious)('refuses %s', (_name, raw) => {
    const result = parseDeepLink(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });
});

describe('findDeepLinkInArgv', () => {
  it('finds the link argument and ignores switches that embed one', () => {
    expect(findDeepLinkInArgv(['/app/AutoClaw', '--flag', 'autoclaw://open?session=s1'])).toBe('autoclaw://open?session=s1');
    expect(findDeepLinkInArgv(['/app/AutoClaw', '--x=autoclaw://open?session=s1'])).toBeNull();
    expect(findDeepLinkInArgv([])).toBeNull();
  });
});

import * as assert from 'node:assert/strict';
import { ANON_JWT, b64url, jwt, SERVICE_JWT } from './helpers';
import {
  checkProjectUrl,
  connectionFromEnv,
  EnvConnection,
  KeyRole,
  keyRole,
  parseDotEnv,
  redact,
  roleCanWrite,
  UrlCheck,
} from '../../src/domain/credentials';

describe('credentials: keyRole / roleCanWrite', () => {
  const cases: { name: string; input: string; expected: KeyRole; canWrite: boolean | null }[] = [
    { name: 'JWT role anon', input: ANON_JWT, expected: 'anon', canWrite: false },
    {
      name: 'JWT role authenticated',
      input: jwt({ role: 'authenticated' }),
      expected: 'authenticated',
      canWrite: false,
    },
    { name: 'JWT role service_role', input: SERVICE_JWT, expected: 'service_role', canWrite: true },
    { name: 'JWT with surrounding whitespace', input: `  ${SERVICE_JWT}\n`, expected: 'service_role', canWrite: true },
    {
      name: 'JWT whose payload needs base64url chars',
      input: jwt({ role: 'service_role', pad: '>>>???~~~' }),
      expected: 'service_role',
      canWrite: true,
    },
    {
      name: 'JWT payload in standard base64 with padding',
      input: `x.${Buffer.from(JSON.stringify({ role: 'anon', p: '>?' })).toString('base64')}.y`,
      expected: 'anon',
      canWrite: false,
    },
    { name: 'JWT role other', input: jwt({ role: 'supabase_admin' }), expected: 'unknown', canWrite: null },
    { name: 'JWT role with different case', input: jwt({ role: 'SERVICE_ROLE' }), expected: 'unknown', canWrite: null },
    { name: 'JWT role not a string', input: jwt({ role: ['service_role'] }), expected: 'unknown', canWrite: null },
    { name: 'JWT without role', input: jwt({ sub: 'u' }), expected: 'unknown', canWrite: null },
    { name: 'JWT payload is null', input: jwt(null), expected: 'unknown', canWrite: null },
    { name: 'JWT payload is a string', input: jwt('service_role'), expected: 'unknown', canWrite: null },
    {
      name: 'malformed: payload not JSON',
      input: `${b64url('{}')}.${b64url('not json')}.sig`,
      expected: 'unknown',
      canWrite: null,
    },
    {
      name: 'malformed: two parts',
      input: `${b64url('{}')}.${b64url('{"role":"service_role"}')}`,
      expected: 'unknown',
      canWrite: null,
    },
    { name: 'malformed: four parts', input: `${SERVICE_JWT}.extra`, expected: 'unknown', canWrite: null },
    { name: 'malformed: empty', input: '', expected: 'unknown', canWrite: null },
    { name: 'malformed: random text', input: 'hunter2', expected: 'unknown', canWrite: null },
    { name: 'sb_secret_ key', input: 'sb_secret_AbCdEf0123456789_xyz', expected: 'service_role', canWrite: true },
    { name: 'sb_publishable_ key', input: 'sb_publishable_AbCdEf0123456789', expected: 'anon', canWrite: false },
    { name: 'sb_secret_ with whitespace', input: ' sb_secret_abc ', expected: 'service_role', canWrite: true },
    { name: 'prefix must be at the start', input: 'x_sb_secret_abc', expected: 'unknown', canWrite: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const role = keyRole(c.input);
      assert.equal(role, c.expected);
      assert.equal(roleCanWrite(role), c.canWrite);
    });
  }
});

describe('credentials: checkProjectUrl', () => {
  type Exp = { ok: true; url: string; origin: string; warns: boolean } | { ok: false; match: RegExp };
  const cases: { name: string; input: string; expected: Exp }[] = [
    {
      name: 'valid https',
      input: 'https://abcd.supabase.co',
      expected: { ok: true, url: 'https://abcd.supabase.co', origin: 'https://abcd.supabase.co', warns: false },
    },
    {
      name: 'trailing slash removed',
      input: 'https://abcd.supabase.co/',
      expected: { ok: true, url: 'https://abcd.supabase.co', origin: 'https://abcd.supabase.co', warns: false },
    },
    {
      name: 'many trailing slashes removed',
      input: 'https://abcd.supabase.co///',
      expected: { ok: true, url: 'https://abcd.supabase.co', origin: 'https://abcd.supabase.co', warns: false },
    },
    {
      name: 'path kept, trailing slash removed',
      input: 'https://gw.example.com/supabase/',
      expected: { ok: true, url: 'https://gw.example.com/supabase', origin: 'https://gw.example.com', warns: false },
    },
    {
      name: 'surrounding whitespace trimmed',
      input: '  https://abcd.supabase.co  ',
      expected: { ok: true, url: 'https://abcd.supabase.co', origin: 'https://abcd.supabase.co', warns: false },
    },
    {
      name: 'host lowercased, default port dropped',
      input: 'HTTPS://ABCD.Supabase.CO:443',
      expected: { ok: true, url: 'https://abcd.supabase.co', origin: 'https://abcd.supabase.co', warns: false },
    },
    {
      name: 'custom port kept',
      input: 'https://abcd.supabase.co:8443',
      expected: {
        ok: true,
        url: 'https://abcd.supabase.co:8443',
        origin: 'https://abcd.supabase.co:8443',
        warns: false,
      },
    },
    {
      name: 'http localhost ok',
      input: 'http://localhost:54321',
      expected: { ok: true, url: 'http://localhost:54321', origin: 'http://localhost:54321', warns: false },
    },
    {
      name: 'http 127.0.0.1 ok',
      input: 'http://127.0.0.1:54321/',
      expected: { ok: true, url: 'http://127.0.0.1:54321', origin: 'http://127.0.0.1:54321', warns: false },
    },
    {
      name: 'http 127.1.2.3 ok',
      input: 'http://127.1.2.3',
      expected: { ok: true, url: 'http://127.1.2.3', origin: 'http://127.1.2.3', warns: false },
    },
    {
      name: 'http [::1] ok',
      input: 'http://[::1]:54321',
      expected: { ok: true, url: 'http://[::1]:54321', origin: 'http://[::1]:54321', warns: false },
    },
    {
      name: 'http non-loopback warns',
      input: 'http://db.example.com',
      expected: { ok: true, url: 'http://db.example.com', origin: 'http://db.example.com', warns: true },
    },
    {
      name: 'http LAN address warns',
      input: 'http://192.168.1.20:8000',
      expected: { ok: true, url: 'http://192.168.1.20:8000', origin: 'http://192.168.1.20:8000', warns: true },
    },
    {
      name: 'http localhost look-alike warns',
      input: 'http://localhost.evil.example',
      expected: {
        ok: true,
        url: 'http://localhost.evil.example',
        origin: 'http://localhost.evil.example',
        warns: true,
      },
    },
    { name: 'empty', input: '', expected: { ok: false, match: /empty/ } },
    { name: 'only spaces', input: '   ', expected: { ok: false, match: /empty/ } },
    { name: 'not a URL', input: 'abcd.supabase.co', expected: { ok: false, match: /is not a URL/ } },
    { name: 'words', input: 'my project', expected: { ok: false, match: /is not a URL/ } },
    { name: 'ftp', input: 'ftp://abcd.supabase.co', expected: { ok: false, match: /Only http\(s\).*ftp:/ } },
    { name: 'javascript:', input: 'javascript:alert(1)', expected: { ok: false, match: /Only http\(s\)/ } },
    { name: 'file:', input: 'file:///etc/passwd', expected: { ok: false, match: /Only http\(s\)/ } },
    {
      name: 'user:pass@',
      input: 'https://user:pass@abcd.supabase.co',
      expected: { ok: false, match: /user name or password/ },
    },
    {
      name: 'user only',
      input: 'https://user@abcd.supabase.co',
      expected: { ok: false, match: /user name or password/ },
    },
    { name: 'query', input: 'https://abcd.supabase.co/?apikey=x', expected: { ok: false, match: /query or fragment/ } },
    { name: 'fragment', input: 'https://abcd.supabase.co/#x', expected: { ok: false, match: /query or fragment/ } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r: UrlCheck = checkProjectUrl(c.input);
      assert.equal(r.ok, c.expected.ok, JSON.stringify(r));
      if (r.ok && c.expected.ok) {
        assert.equal(r.url, c.expected.url);
        assert.equal(r.origin, c.expected.origin);
        assert.equal(r.warning !== null, c.expected.warns, String(r.warning));
        if (r.warning) assert.match(r.warning, /unencrypted/);
      } else if (!r.ok && !c.expected.ok) {
        assert.match(r.message, c.expected.match);
      }
    });
  }

  it('a very long non-URL is quoted at most 80 characters', () => {
    const r = checkProjectUrl('x'.repeat(10_000));
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(r.message.length < 200, String(r.message.length));
  });
});

describe('credentials: parseDotEnv', () => {
  const cases: { name: string; input: string; expected: [string, string][] }[] = [
    {
      name: 'simple',
      input: 'A=1\nB=two',
      expected: [
        ['A', '1'],
        ['B', 'two'],
      ],
    },
    { name: 'comments and blank lines', input: '# comment\n\n   # indented comment\nA=1\n', expected: [['A', '1']] },
    {
      name: 'export prefix',
      input: 'export SUPABASE_URL=https://x.supabase.co',
      expected: [['SUPABASE_URL', 'https://x.supabase.co']],
    },
    { name: 'spaces around =', input: 'A = 1 ', expected: [['A', '1']] },
    { name: 'double quotes', input: 'A="hello world"', expected: [['A', 'hello world']] },
    { name: 'single quotes', input: "A='hello world'", expected: [['A', 'hello world']] },
    {
      name: 'double quotes expand \\n and \\"',
      input: 'A="line1\\nsay \\"hi\\""',
      expected: [['A', 'line1\nsay "hi"']],
    },
    { name: 'single quotes keep \\n literally', input: "A='a\\nb'", expected: [['A', 'a\\nb']] },
    { name: 'inline # comment after unquoted value', input: 'A=value # a comment', expected: [['A', 'value']] },
    { name: 'inline # comment after tab', input: 'A=value\t# a comment', expected: [['A', 'value']] },
    { name: '# without preceding space is part of the value', input: 'A=abc#def', expected: [['A', 'abc#def']] },
    { name: '# inside quotes is kept', input: 'A="abc # def" # comment', expected: [['A', 'abc # def']] },
    {
      name: 'CRLF line endings',
      input: 'A=1\r\nB="2"\r\nC=3 # c\r\n',
      expected: [
        ['A', '1'],
        ['B', '2'],
        ['C', '3'],
      ],
    },
    {
      name: 'empty value',
      input: 'A=\nB=""',
      expected: [
        ['A', ''],
        ['B', ''],
      ],
    },
    { name: 'value containing =', input: 'A=x=y=z', expected: [['A', 'x=y=z']] },
    { name: 'later duplicate wins', input: 'A=1\nA=2', expected: [['A', '2']] },
    { name: 'unterminated quote kept as is', input: 'A="abc', expected: [['A', '"abc']] },
    { name: 'lines without = are ignored', input: 'garbage\nA=1\n=novalue\n1BAD=x', expected: [['A', '1']] },
    {
      name: 'no variable expansion',
      input: 'A=1\nB=${A}',
      expected: [
        ['A', '1'],
        ['B', '${A}'],
      ],
    },
    { name: 'byte order mark at start', input: '\uFEFFA=1', expected: [['A', '1']] },
    { name: 'dotted key', input: 'a.b_C=1', expected: [['a.b_C', '1']] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual([...parseDotEnv(c.input).entries()], c.expected));
});

describe('credentials: connectionFromEnv', () => {
  const env = (o: Record<string, string>) => new Map(Object.entries(o));
  const cases: { name: string; input: Map<string, string>; expected: EnvConnection }[] = [
    { name: 'nothing', input: env({}), expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: false } },
    {
      name: 'SUPABASE_URL and service key',
      input: env({ SUPABASE_URL: 'https://a', SUPABASE_SERVICE_ROLE_KEY: 'svc' }),
      expected: { url: 'https://a', key: 'svc', keyName: 'SUPABASE_SERVICE_ROLE_KEY', autoAnalysisDisabled: false },
    },
    {
      name: 'SUPABASE_URL preferred over NEXT_PUBLIC',
      input: env({ NEXT_PUBLIC_SUPABASE_URL: 'https://pub', SUPABASE_URL: 'https://a' }),
      expected: { url: 'https://a', key: null, keyName: null, autoAnalysisDisabled: false },
    },
    {
      name: 'NEXT_PUBLIC_SUPABASE_URL as fallback',
      input: env({ NEXT_PUBLIC_SUPABASE_URL: 'https://pub' }),
      expected: { url: 'https://pub', key: null, keyName: null, autoAnalysisDisabled: false },
    },
    {
      name: 'empty SUPABASE_URL falls back',
      input: env({ SUPABASE_URL: '', NEXT_PUBLIC_SUPABASE_URL: 'https://pub' }),
      expected: { url: 'https://pub', key: null, keyName: null, autoAnalysisDisabled: false },
    },
    {
      name: 'service key preferred over anon',
      input: env({ SUPABASE_ANON_KEY: 'anon', SUPABASE_SERVICE_ROLE_KEY: 'svc' }),
      expected: { url: null, key: 'svc', keyName: 'SUPABASE_SERVICE_ROLE_KEY', autoAnalysisDisabled: false },
    },
    {
      name: 'anon as fallback',
      input: env({ SUPABASE_ANON_KEY: 'anon' }),
      expected: { url: null, key: 'anon', keyName: 'SUPABASE_ANON_KEY', autoAnalysisDisabled: false },
    },
    {
      name: 'empty service key falls back to anon',
      input: env({ SUPABASE_SERVICE_ROLE_KEY: '', SUPABASE_ANON_KEY: 'anon' }),
      expected: { url: null, key: 'anon', keyName: 'SUPABASE_ANON_KEY', autoAnalysisDisabled: false },
    },
    {
      name: 'NEXT_PUBLIC anon key as last resort',
      input: env({ NEXT_PUBLIC_SUPABASE_ANON_KEY: 'pub' }),
      expected: { url: null, key: 'pub', keyName: 'NEXT_PUBLIC_SUPABASE_ANON_KEY', autoAnalysisDisabled: false },
    },
    {
      name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false',
      input: env({ TELEMETRY_AUTO_ANALYSIS_ENABLED: 'false' }),
      expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: true },
    },
    {
      name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=FALSE',
      input: env({ TELEMETRY_AUTO_ANALYSIS_ENABLED: ' FALSE ' }),
      expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: true },
    },
    {
      name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=0',
      input: env({ TELEMETRY_AUTO_ANALYSIS_ENABLED: '0' }),
      expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: true },
    },
    {
      name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=true',
      input: env({ TELEMETRY_AUTO_ANALYSIS_ENABLED: 'true' }),
      expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: false },
    },
    {
      name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED empty',
      input: env({ TELEMETRY_AUTO_ANALYSIS_ENABLED: '' }),
      expected: { url: null, key: null, keyName: null, autoAnalysisDisabled: false },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(connectionFromEnv(c.input), c.expected));

  it('reads a realistic .env end to end', () => {
    const text = [
      '# EHG_Engineer',
      'export SUPABASE_URL="https://abcd.supabase.co" # project',
      `SUPABASE_ANON_KEY=${ANON_JWT}`,
      `SUPABASE_SERVICE_ROLE_KEY='${SERVICE_JWT}'`,
      'TELEMETRY_AUTO_ANALYSIS_ENABLED=false # off for now',
    ].join('\r\n');
    const c = connectionFromEnv(parseDotEnv(text));
    assert.deepEqual(c, {
      url: 'https://abcd.supabase.co',
      key: SERVICE_JWT,
      keyName: 'SUPABASE_SERVICE_ROLE_KEY',
      autoAnalysisDisabled: true,
    });
    assert.equal(keyRole(c.key ?? ''), 'service_role');
  });
});

describe('credentials: redact', () => {
  const opaque = 'opaque-secret-key-0123456789';
  const cases: {
    name: string;
    text: string;
    secrets: (string | null | undefined)[];
    mustNotContain: string[];
    mustContain?: string[];
  }[] = [
    {
      name: 'the key itself',
      text: `key=${opaque} end`,
      secrets: [opaque],
      mustNotContain: [opaque],
      mustContain: ['[redacted key]', 'end'],
    },
    {
      name: 'the key several times',
      text: `${opaque}${opaque} and ${opaque}`,
      secrets: [opaque],
      mustNotContain: [opaque],
    },
    {
      name: 'a service JWT not in the secret list',
      text: `Authorization: Bearer ${SERVICE_JWT}`,
      secrets: [],
      mustNotContain: [SERVICE_JWT, SERVICE_JWT.split('.')[2]],
      mustContain: ['[redacted jwt]'],
    },
    {
      name: 'an anon JWT embedded in a URL',
      text: `https://x/rest/v1/?apikey=${ANON_JWT}&x=1`,
      secrets: [null, undefined],
      mustNotContain: [ANON_JWT],
      mustContain: ['&x=1'],
    },
    {
      name: 'sb_secret_ key',
      text: 'used sb_secret_AbC123_-xyz here',
      secrets: [],
      mustNotContain: ['sb_secret_AbC123', 'AbC123_-xyz'],
    },
    { name: 'sb_publishable_ key', text: 'sb_publishable_Zz9', secrets: [], mustNotContain: ['Zz9'] },
    {
      name: 'JWT key passed as secret',
      text: `echo: ${SERVICE_JWT}`,
      secrets: [SERVICE_JWT],
      mustNotContain: [SERVICE_JWT, SERVICE_JWT.slice(0, 40)],
    },
    {
      name: 'short secrets are not used (would shred text)',
      text: 'a b c abc',
      secrets: ['abc'],
      mustNotContain: [],
      mustContain: ['a b c abc'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = redact(c.text, c.secrets);
      for (const s of c.mustNotContain) assert.ok(!out.includes(s), `${JSON.stringify(s)} survived in ${out}`);
      for (const s of c.mustContain ?? []) assert.ok(out.includes(s), `${JSON.stringify(s)} missing in ${out}`);
    });
  }
});

import * as assert from 'node:assert/strict';
import {
  ConnectionInputs,
  ConnectionState,
  describeNotConfigured,
  describeState,
  EnvFileInput,
  envAllowed,
  isFoldersOwnEnv,
  resolveConnection,
  summarizeState,
  userSettingUrl,
  withStoredKey,
} from '../../src/domain/connectionPrecedence';

// Keys as the roles claim them (unsigned: only the role claim is read).
const jwt = (role: string) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ role })).toString('base64url')}.c2lnbmF0dXJlc2lnbmF0dXJl`;
const SERVICE = jwt('service_role');
const ANON = jwt('anon');

const USER = 'https://user.supabase.co';
const ENV_URL = 'https://env.supabase.co';
const EVIL = 'https://evil.example';
const F1 = 'file:///work/one';
const F2 = 'file:///work/two';

function env(folder: string, text: string | null, fileUri = `${folder}/.env`): EnvFileInput {
  return { folderUri: folder, fileUri, displayPath: fileUri.replace('file://', ''), text };
}
const envText = (url: string | null, key: string | null, extra = '') =>
  [url ? `SUPABASE_URL=${url}` : '', key ? `SUPABASE_SERVICE_ROLE_KEY=${key}` : '', extra].join('\n');

const base: ConnectionInputs = {
  url: {},
  useWorkspaceEnv: true,
  trusted: true,
  envFiles: [],
  storedKeyOrigins: new Set(),
};

/** What a case expects: the state (role omitted for a stored key: it is known only once read) and the key's source. */
interface Expect {
  state: Partial<ConnectionState> & { kind: ConnectionState['kind'] };
  key: null | { from: 'secret-storage'; origin: string } | { from: 'env'; key: string };
  autoDisabled?: string[];
  warnings?: RegExp[];
}

const cases: { name: string; input: Partial<ConnectionInputs>; expected: Expect }[] = [
  // ---- rule 1: the user URL with its stored key ------------------------------------------------
  {
    name: 'user URL with a key stored for its origin: settings',
    input: { url: { globalValue: USER }, storedKeyOrigins: new Set([USER]) },
    expected: {
      state: { kind: 'configured', source: 'settings', url: USER, origin: USER, envFile: null, warning: null },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'user URL with a path: the key is looked up by origin, the URL keeps its path',
    input: { url: { globalValue: ' https://user.supabase.co/base/ ' }, storedKeyOrigins: new Set([USER]) },
    expected: {
      state: { kind: 'configured', source: 'settings', url: `${USER}/base`, origin: USER },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'user URL beats a usable .env (trusted)',
    input: {
      url: { globalValue: USER },
      storedKeyOrigins: new Set([USER]),
      envFiles: [env(F1, envText(ENV_URL, SERVICE))],
    },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: USER },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'user URL with a stored key works in an untrusted workspace',
    input: { url: { globalValue: USER }, storedKeyOrigins: new Set([USER]), trusted: false },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: USER },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'user URL with a stored key works with useWorkspaceEnv off',
    input: { url: { globalValue: USER }, storedKeyOrigins: new Set([USER]), useWorkspaceEnv: false },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: USER },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'plain-http user URL to a remote host: configured, with a warning',
    input: { url: { globalValue: 'http://db.example.com' }, storedKeyOrigins: new Set(['http://db.example.com']) },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: 'http://db.example.com' },
      key: { from: 'secret-storage', origin: 'http://db.example.com' },
      warnings: [/plain http/],
    },
  },
  {
    name: 'plain-http loopback URL: no warning',
    input: { url: { globalValue: 'http://127.0.0.1:54321' }, storedKeyOrigins: new Set(['http://127.0.0.1:54321']) },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: 'http://127.0.0.1:54321', warning: null },
      key: { from: 'secret-storage', origin: 'http://127.0.0.1:54321' },
      warnings: [],
    },
  },
  {
    name: 'user URL without a stored key, no .env: no-key for that origin',
    input: { url: { globalValue: USER } },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: USER }, key: null },
  },
  {
    name: 'user URL without a stored key falls back to a trusted .env',
    input: { url: { globalValue: USER }, envFiles: [env(F1, envText(ENV_URL, SERVICE))] },
    expected: {
      state: { kind: 'configured', source: 'env', origin: ENV_URL, role: 'service_role', envFile: '/work/one/.env' },
      key: { from: 'env', key: SERVICE },
    },
  },
  {
    name: 'user URL without a stored key, untrusted: no-key (not restricted, .env ignored)',
    input: { url: { globalValue: USER }, trusted: false, envFiles: [env(F1, envText(ENV_URL, SERVICE))] },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: USER }, key: null },
  },
  {
    name: 'a key stored only for another origin is never used for the user URL',
    input: { url: { globalValue: USER }, storedKeyOrigins: new Set([ENV_URL]) },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: USER }, key: null },
  },
  {
    name: 'same host, other port: another origin, no key',
    input: { url: { globalValue: 'https://user.supabase.co:8443' }, storedKeyOrigins: new Set([USER]) },
    expected: {
      state: { kind: 'not-configured', cause: 'no-key', origin: 'https://user.supabase.co:8443' },
      key: null,
    },
  },
  {
    name: 'same host, http instead of https: another origin, no key',
    input: { url: { globalValue: 'http://user.supabase.co' }, storedKeyOrigins: new Set([USER]) },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: 'http://user.supabase.co' }, key: null },
  },
  {
    name: 'invalid user URL: invalid, naming the setting, no fallback to a usable .env',
    input: { url: { globalValue: 'not a url' }, envFiles: [env(F1, envText(ENV_URL, SERVICE))] },
    expected: {
      state: {
        kind: 'invalid',
        message: 'ehgTelemetry.supabaseUrl: That is not a URL. Enter your project URL, e.g. https://abcd.supabase.co.',
      },
      key: null,
    },
  },
  {
    name: 'user URL with credentials in it: invalid, and the text is not echoed',
    input: { url: { globalValue: `https://u:${SERVICE}@user.supabase.co` }, storedKeyOrigins: new Set([USER]) },
    expected: { state: { kind: 'invalid' }, key: null },
  },
  {
    name: 'non-http user URL: invalid',
    input: { url: { globalValue: 'ftp://user.supabase.co' } },
    expected: {
      state: { kind: 'invalid', message: 'ehgTelemetry.supabaseUrl: Only http(s) URLs are supported, not ftp:' },
      key: null,
    },
  },
  {
    name: 'invalid user URL in an untrusted workspace: invalid (not restricted)',
    input: { url: { globalValue: 'javascript:alert(1)' }, trusted: false },
    expected: { state: { kind: 'invalid' }, key: null },
  },
  {
    name: 'a blank user URL counts as none',
    input: { url: { globalValue: '   ' }, storedKeyOrigins: new Set([USER]) },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'a non-string user value counts as none',
    input: { url: { globalValue: 42 }, storedKeyOrigins: new Set([USER]) },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },

  // ---- hostile workspaces: a workspace never chooses where a stored key goes --------------------
  {
    name: 'workspace value of supabaseUrl pointing elsewhere, key stored for the real origin: ignored',
    input: { url: { workspaceValue: EVIL }, storedKeyOrigins: new Set([USER, EVIL]) },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'folder value of supabaseUrl pointing elsewhere: ignored',
    input: { url: { workspaceFolderValue: EVIL }, storedKeyOrigins: new Set([USER, EVIL]) },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'user URL plus a workspace value pointing elsewhere: the user URL and its key',
    input: {
      url: { globalValue: USER, workspaceValue: EVIL, workspaceFolderValue: EVIL },
      storedKeyOrigins: new Set([USER]),
    },
    expected: {
      state: { kind: 'configured', source: 'settings', origin: USER },
      key: { from: 'secret-storage', origin: USER },
    },
  },
  {
    name: 'workspace value elsewhere and a .env with a URL but no key: the stored key is not paired with it',
    input: {
      url: { workspaceValue: EVIL },
      storedKeyOrigins: new Set([USER]),
      envFiles: [env(F1, envText(EVIL, null))],
    },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'user URL without a key and a .env URL elsewhere with no key: no-key (the stored key of another origin is not borrowed)',
    input: {
      url: { globalValue: USER },
      storedKeyOrigins: new Set([ENV_URL]),
      envFiles: [env(F1, envText(EVIL, null))],
    },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: USER }, key: null },
  },
  {
    name: 'workspace value elsewhere, untrusted, no user URL: restricted',
    input: { url: { workspaceValue: EVIL }, trusted: false, storedKeyOrigins: new Set([USER]) },
    expected: { state: { kind: 'restricted' }, key: null },
  },

  // ---- rule 2: the trusted workspace's own .env ---------------------------------------------------
  {
    name: 'no user URL, trusted, .env with URL and service key: env',
    input: { envFiles: [env(F1, envText(ENV_URL, SERVICE))] },
    expected: {
      state: {
        kind: 'configured',
        source: 'env',
        url: ENV_URL,
        origin: ENV_URL,
        role: 'service_role',
        envFile: '/work/one/.env',
        warning: null,
      },
      key: { from: 'env', key: SERVICE },
    },
  },
  {
    name: '.env with the anon key only: env, anon role',
    input: { envFiles: [env(F1, `SUPABASE_URL=${ENV_URL}\nSUPABASE_ANON_KEY=${ANON}`)] },
    expected: { state: { kind: 'configured', source: 'env', role: 'anon' }, key: { from: 'env', key: ANON } },
  },
  {
    name: '.env with NEXT_PUBLIC_ names: env',
    input: { envFiles: [env(F1, `NEXT_PUBLIC_SUPABASE_URL=${ENV_URL}\nNEXT_PUBLIC_SUPABASE_ANON_KEY=${ANON}`)] },
    expected: { state: { kind: 'configured', source: 'env', origin: ENV_URL }, key: { from: 'env', key: ANON } },
  },
  {
    name: '.env with a URL but no key: not configured',
    input: { envFiles: [env(F1, envText(ENV_URL, null))] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: '.env with a key but no URL: not configured (a key is never paired with a URL from elsewhere)',
    input: { envFiles: [env(F1, envText(null, SERVICE))] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'same-file rule: URL in one folder, key in another: not configured',
    input: { envFiles: [env(F1, envText(ENV_URL, null)), env(F2, envText(null, SERVICE))] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'same-file rule: a key-only file first, then a complete one: the complete one',
    input: { envFiles: [env(F1, envText(null, ANON)), env(F2, envText(EVIL, SERVICE))] },
    expected: {
      state: { kind: 'configured', source: 'env', origin: EVIL, envFile: '/work/two/.env' },
      key: { from: 'env', key: SERVICE },
    },
  },
  {
    name: 'two complete .env files: the first folder wins',
    input: { envFiles: [env(F1, envText(ENV_URL, SERVICE)), env(F2, envText(EVIL, ANON))] },
    expected: { state: { kind: 'configured', source: 'env', origin: ENV_URL }, key: { from: 'env', key: SERVICE } },
  },
  {
    name: '.env with an invalid URL: invalid, naming the file',
    input: { envFiles: [env(F1, envText('not-a-url', SERVICE))] },
    expected: {
      state: {
        kind: 'invalid',
        message:
          '/work/one/.env: SUPABASE_URL That is not a URL. Enter your project URL, e.g. https://abcd.supabase.co.',
      },
      key: null,
    },
  },
  {
    name: '.env with a plain-http remote URL: configured, with a warning',
    input: { envFiles: [env(F1, envText('http://db.example.com', SERVICE))] },
    expected: {
      state: { kind: 'configured', source: 'env' },
      key: { from: 'env', key: SERVICE },
      warnings: [/plain http/],
    },
  },
  {
    name: 'a .env that is not the folder’s own (elsewhere on disk): ignored',
    input: { envFiles: [env(F1, envText(EVIL, SERVICE), 'file:///home/other/.env')] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'a .env in a sub-folder: ignored',
    input: { envFiles: [env(F1, envText(EVIL, SERVICE), `${F1}/sub/.env`)] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'a .env of another folder attributed to this one: ignored',
    input: { envFiles: [env(F1, envText(EVIL, SERVICE), `${F2}/.env`)] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'a folder’s .env.local is not its .env: ignored',
    input: { envFiles: [env(F1, envText(EVIL, SERVICE), `${F1}/.env.local`)] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'a too-large .env: ignored with a warning, the next folder’s is used',
    input: { envFiles: [env(F1, null), env(F2, envText(ENV_URL, SERVICE))] },
    expected: {
      state: { kind: 'configured', source: 'env', envFile: '/work/two/.env' },
      key: { from: 'env', key: SERVICE },
      warnings: [/one\/\.env is larger than 1 MB; ignored/],
    },
  },
  {
    name: 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false: that folder is reported, even without a connection in it',
    input: {
      envFiles: [
        env(F1, 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false'),
        env(F2, envText(ENV_URL, SERVICE, 'TELEMETRY_AUTO_ANALYSIS_ENABLED=true')),
      ],
    },
    expected: { state: { kind: 'configured', source: 'env' }, key: { from: 'env', key: SERVICE }, autoDisabled: [F1] },
  },
  {
    name: 'auto-analysis flag with a user-URL connection: still reported',
    input: {
      url: { globalValue: USER },
      storedKeyOrigins: new Set([USER]),
      envFiles: [env(F1, 'TELEMETRY_AUTO_ANALYSIS_ENABLED=off')],
    },
    expected: {
      state: { kind: 'configured', source: 'settings' },
      key: { from: 'secret-storage', origin: USER },
      autoDisabled: [F1],
    },
  },

  // ---- restricted mode and useWorkspaceEnv: .env is not consulted ---------------------------------
  {
    name: 'untrusted, no user URL, a usable .env passed anyway: restricted, the .env key unused',
    input: { trusted: false, envFiles: [env(F1, envText(ENV_URL, SERVICE, 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false'))] },
    expected: { state: { kind: 'restricted' }, key: null, autoDisabled: [] },
  },
  {
    name: 'untrusted, nothing at all: restricted',
    input: { trusted: false },
    expected: { state: { kind: 'restricted' }, key: null },
  },
  {
    name: 'untrusted with useWorkspaceEnv off: still restricted',
    input: { trusted: false, useWorkspaceEnv: false },
    expected: { state: { kind: 'restricted' }, key: null },
  },
  {
    name: 'trusted, useWorkspaceEnv off, a usable .env passed anyway: not configured, the .env key unused',
    input: {
      useWorkspaceEnv: false,
      envFiles: [env(F1, envText(ENV_URL, SERVICE, 'TELEMETRY_AUTO_ANALYSIS_ENABLED=false'))],
    },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null, autoDisabled: [] },
  },
  {
    name: 'trusted, useWorkspaceEnv off, user URL without a key: no-key',
    input: { useWorkspaceEnv: false, url: { globalValue: USER }, envFiles: [env(F1, envText(ENV_URL, SERVICE))] },
    expected: { state: { kind: 'not-configured', cause: 'no-key', origin: USER }, key: null },
  },

  // ---- missing values ------------------------------------------------------------------------------
  {
    name: 'trusted, nothing configured: no-url',
    input: {},
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: 'an empty .env: no-url',
    input: { envFiles: [env(F1, '')] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
  {
    name: '.env with empty values: no-url',
    input: { envFiles: [env(F1, 'SUPABASE_URL=\nSUPABASE_SERVICE_ROLE_KEY=""')] },
    expected: { state: { kind: 'not-configured', cause: 'no-url' }, key: null },
  },
];

describe('connectionPrecedence: resolveConnection (table)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const res = resolveConnection({ ...base, ...c.input });
      const { state, key } = res.decision;
      for (const [k, v] of Object.entries(c.expected.state))
        assert.deepEqual((state as Record<string, unknown>)[k], v, `state.${k} in ${JSON.stringify(state)}`);
      assert.deepEqual(key, c.expected.key);
      if (c.expected.autoDisabled) assert.deepEqual(res.autoDisabledFolders, c.expected.autoDisabled);
      if (c.expected.warnings) {
        assert.equal(res.warnings.length, c.expected.warnings.length, JSON.stringify(res.warnings));
        c.expected.warnings.forEach((re, i) => assert.match(res.warnings[i], re));
      }
      // Security invariants, whatever the case: no message or warning carries a key, and a stored key
      // only ever goes to the user URL's origin.
      const text = JSON.stringify({ state, warnings: res.warnings });
      for (const k of [SERVICE, ANON]) assert.ok(!text.includes(k), 'a key leaked into the state or a warning');
      if (key?.from === 'secret-storage') {
        const user = userSettingUrl({ ...base, ...c.input }.url);
        assert.equal(key.origin, new URL(user).origin);
        assert.equal(state.kind === 'configured' && state.origin, key.origin);
      }
      if (key?.from === 'env') {
        const i = { ...base, ...c.input };
        assert.ok(envAllowed(i), 'a .env key was used where .env may not be read');
      }
    });
  }
});

describe('connectionPrecedence: withStoredKey', () => {
  const inputs: ConnectionInputs = {
    ...base,
    url: { globalValue: USER },
    storedKeyOrigins: new Set([USER]),
    envFiles: [env(F1, envText(ENV_URL, ANON))],
  };

  it('fills in the role the stored key claims', () => {
    const { resolution, key } = withStoredKey(inputs, resolveConnection(inputs), SERVICE);
    assert.equal(key, SERVICE);
    assert.equal(resolution.decision.state.kind === 'configured' && resolution.decision.state.role, 'service_role');
  });

  it('listed but missing from SecretStorage: decided again without it (here: the .env)', () => {
    const { resolution, key } = withStoredKey(inputs, resolveConnection(inputs), null);
    assert.equal(key, ANON);
    assert.equal(resolution.decision.state.kind === 'configured' && resolution.decision.state.source, 'env');
  });

  it('listed but missing, no .env: no-key', () => {
    const i = { ...inputs, envFiles: [] };
    const { resolution, key } = withStoredKey(i, resolveConnection(i), null);
    assert.equal(key, null);
    assert.deepEqual(resolution.decision.state, { kind: 'not-configured', cause: 'no-key', origin: USER });
  });

  it('an env decision keeps its own key whatever is passed', () => {
    const i = { ...inputs, url: {} };
    const { key } = withStoredKey(i, resolveConnection(i), SERVICE);
    assert.equal(key, ANON);
  });

  it('a not-configured decision gets no key', () => {
    const i = { ...inputs, url: {}, envFiles: [] };
    assert.equal(withStoredKey(i, resolveConnection(i), SERVICE).key, null);
  });
});

describe('connectionPrecedence: helpers and text', () => {
  it('envAllowed needs trust and the setting', () => {
    assert.equal(envAllowed({ trusted: true, useWorkspaceEnv: true }), true);
    assert.equal(envAllowed({ trusted: false, useWorkspaceEnv: true }), false);
    assert.equal(envAllowed({ trusted: true, useWorkspaceEnv: false }), false);
    assert.equal(envAllowed({ trusted: false, useWorkspaceEnv: false }), false);
  });

  it('isFoldersOwnEnv: only <folder>/.env', () => {
    assert.equal(isFoldersOwnEnv(F1, `${F1}/.env`), true);
    assert.equal(isFoldersOwnEnv(`${F1}/`, `${F1}/.env`), true);
    assert.equal(isFoldersOwnEnv(F1, `${F1}/a/.env`), false);
    assert.equal(isFoldersOwnEnv(F1, `${F1}/.env/`), false);
    assert.equal(isFoldersOwnEnv(F1, `${F1}x/.env`), false);
    assert.equal(isFoldersOwnEnv(F1, 'file:///work/.env'), false);
  });

  it('userSettingUrl reads only the user value', () => {
    assert.equal(userSettingUrl({ globalValue: ' https://a.b ', workspaceValue: EVIL }), 'https://a.b');
    assert.equal(userSettingUrl({ workspaceValue: EVIL, workspaceFolderValue: EVIL }), '');
    assert.equal(userSettingUrl(undefined), '');
  });

  it('each not-configured cause has its own text, derived in one place', () => {
    const texts = [
      describeNotConfigured({ kind: 'not-configured', cause: 'resolving' }),
      describeNotConfigured({ kind: 'not-configured', cause: 'no-url' }),
      describeNotConfigured({ kind: 'not-configured', cause: 'no-key', origin: USER }),
    ];
    assert.equal(new Set(texts).size, 3);
    assert.equal(texts[2], `No key is stored for ${USER}. Run "EHG Telemetry: Configure Connection…".`);
    assert.equal(texts[1], 'No URL is configured and no usable .env was found.');
  });

  it('describeState is "Connection: " + summarizeState, with the texts the log and e2e tests rely on', () => {
    const configured: ConnectionState = {
      kind: 'configured',
      source: 'settings',
      url: USER,
      origin: USER,
      role: 'anon',
      envFile: null,
      warning: null,
    };
    assert.equal(describeState(configured), `Connection: ${USER} (from user settings), key role anon`);
    assert.equal(
      describeState({ ...configured, source: 'env', envFile: '/w/.env' }),
      `Connection: ${USER} (from /w/.env), key role anon`,
    );
    assert.equal(
      summarizeState({ kind: 'not-configured', cause: 'no-key', origin: USER }),
      `not configured. No key is stored for ${USER}. Run "EHG Telemetry: Configure Connection…".`,
    );
    assert.equal(
      summarizeState({ kind: 'restricted' }),
      'restricted mode — .env is not read and nothing is triggered.',
    );
    assert.equal(describeState({ kind: 'invalid', message: 'x' }), 'Connection: invalid. x');
  });
});

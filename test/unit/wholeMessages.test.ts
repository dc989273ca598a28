// The data and analysis layers word their failures as whole messages through the seam t (issue 12):
// "Could not load runs" is one message, not a verb phrase spliced into "Could not {0}", and the
// capability texts and no-analyzer reasons are translated, with the English unchanged.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { locateAnalyzer } from '../../src/analysis/executeRun';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { english, setTranslate } from '../../src/domain/l10n';
import { SERVICE_JWT } from './helpers';

/** Installs a translator that records each message and marks its output «…». */
function recording(): string[] {
  const seen: string[] = [];
  setTranslate((m, ...a) => (seen.push(m), `«${english(m, ...a)}»`));
  return seen;
}

function backend(answer: (url: string, method: string) => { status: number; body: unknown }): SupabaseBackend {
  return new SupabaseBackend({
    url: 'https://project.example',
    origin: 'https://project.example',
    key: SERVICE_JWT,
    timeoutMs: 5_000,
    clientInfo: 'ehg-telemetry-unit',
    baseFetch: (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const { status, body } = answer(url, (init?.method ?? 'GET').toUpperCase());
      return Promise.resolve(
        new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }),
      );
    },
  });
}

describe('whole messages: SupabaseBackend', () => {
  afterEach(() => setTranslate(undefined));

  it('a shut-down backend: "Could not load runs" is one message, the reason another', async () => {
    const b = backend(() => ({ status: 200, body: [] }));
    b.dispose();
    const plain = await b.listRuns({ kind: 'all' }, 0, 10);
    assert.ok(!plain.ok);
    assert.equal(plain.error.message, 'Could not load runs: the extension is shutting down.');
    const seen = recording();
    const r = await b.getRunRow('r1');
    assert.ok(!r.ok);
    assert.equal(r.error.message, '««Could not load the run»: the extension is shutting down.»');
    assert.deepEqual(seen, ['Could not load the run', '{0}: the extension is shutting down.']);
  });

  it('a server failure starts with the whole "Could not …" message, never "Could not {0}"', async () => {
    const seen = recording();
    const b = backend(() => ({ status: 500, body: { message: 'boom' } }));
    try {
      const r = await b.readHeartbeat();
      assert.ok(!r.ok);
      assert.match(r.error.message, /^««Could not read the scheduler heartbeat»: https:\/\/project\.example failed/);
      assert.ok(seen.includes('Could not read the scheduler heartbeat'));
      assert.ok(!seen.includes('Could not {0}'));
      setTranslate(undefined);
      const e = await b.getRunStatus('r1');
      assert.ok(!e.ok);
      assert.match(
        e.error.message,
        /^Could not read the run's status: https:\/\/project\.example failed \(500: boom\)/,
      );
    } finally {
      b.dispose();
    }
  });

  it('the capability texts are translated (English unchanged)', async () => {
    // Reads answer with no rows (a service-role key: the heartbeat has none yet); the write probe is
    // refused by the CHECK constraint, which means the key may write.
    const b = backend((_url, method) =>
      method === 'POST'
        ? { status: 400, body: { code: '23514', message: 'violates check constraint' } }
        : { status: 200, body: [] },
    );
    try {
      const caps = await b.probeCapabilities();
      assert.deepEqual(
        [caps.readRuns, caps.readHeartbeat, caps.writeRuns],
        [
          { ok: true, detail: 'can read analysis runs' },
          { ok: true, detail: 'can read the scheduler heartbeat (no scheduler has written one yet)' },
          { ok: true, detail: 'can enqueue and cancel runs' },
        ],
      );
      recording();
      const translated = await b.probeCapabilities();
      assert.deepEqual(
        [translated.readRuns.detail, translated.readHeartbeat.detail, translated.writeRuns.detail],
        [
          '«can read analysis runs»',
          '«can read the scheduler heartbeat (no scheduler has written one yet)»',
          '«can enqueue and cancel runs»',
        ],
      );
    } finally {
      b.dispose();
    }
  });
});

describe('whole messages: the no-analyzer reasons', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-l10n-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => setTranslate(undefined));

  const reason = (folder: string, setting: string): string => {
    const r = locateAnalyzer(folder, setting);
    assert.ok(!r.ok);
    return r.reason;
  };

  it('English as before', () => {
    fs.mkdirSync(path.join(dir, 'lib', 'dir.js'), { recursive: true });
    assert.equal(
      reason(dir, 'lib/telemetry/not-there.js'),
      'this folder is not an EHG_Engineer checkout: lib/telemetry/not-there.js was not found',
    );
    assert.equal(reason(dir, 'lib/dir.js'), 'lib/dir.js is not a file');
    const missing = path.join(dir, 'missing');
    assert.equal(reason(missing, 'lib/a.js'), `the folder ${missing} cannot be read`);
  });

  it('through the seam', () => {
    const seen = recording();
    assert.equal(
      reason(dir, 'lib/telemetry/not-there.js'),
      '«this folder is not an EHG_Engineer checkout: lib/telemetry/not-there.js was not found»',
    );
    assert.deepEqual(seen, ['this folder is not an EHG_Engineer checkout: {0} was not found']);
  });

  it('a symlink out of the folder', function () {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-l10n-out-'));
    try {
      fs.writeFileSync(path.join(outside, 'a.js'), '');
      try {
        fs.symlinkSync(path.join(outside, 'a.js'), path.join(dir, 'link.js'));
      } catch {
        this.skip();
      }
      assert.equal(reason(dir, 'link.js'), 'link.js resolves outside the workspace folder');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

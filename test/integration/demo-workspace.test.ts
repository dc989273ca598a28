// `npm start -- --workspace <dir>` never touches what it did not create (issue 18): a folder that
// holds anything the demo did not write is refused before any write, byte for byte unchanged; an
// empty folder gets the demo workspace, and SIGINT to the start process removes exactly what it wrote.
// The workspace rules are exercised directly (scripts/demoWorkspace.ts, fast), and through the real
// start process (out/scripts/start.js, what `npm start` runs after scripts/bootstrap.js) with the
// real stack behind it.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DemoWorkspace, foldersOn, MARKER, WorkspaceRefusedError } from '../../devkit/demo/demoWorkspace';
import { DEMO_ENV, cleanupDemoWorkspace, demoFiles, openDemoWorkspace, parseArgs } from '../../devkit/demo/demo';
import { repoRoot } from '../../devkit/stack/postgres';
import { waitFor } from '../../devkit/wait';

/** Every entry under `dir` (files with their sha256 and mode, folders, links) — a byte-level snapshot. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o7777).toString(8)}`;
        visit(r);
      } else
        out[r] =
          `file ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    }
  };
  visit('');
  return out;
}

/** A folder like a real EHG_Engineer checkout: README, package.json, the analyzer and its helper, a .env. */
function fakeCheckout(root: string): string {
  const dir = path.join(root, 'EHG_Engineer');
  fs.mkdirSync(path.join(dir, 'lib', 'telemetry'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib', 'db'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# EHG_Engineer\nthe real one\n');
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "ehg-engineer", "type": "module" }\n');
  fs.writeFileSync(
    path.join(dir, 'lib', 'telemetry', 'bottleneck-analyzer.js'),
    'export async function analyzeBottlenecks() {}\n',
  );
  fs.writeFileSync(path.join(dir, 'lib', 'db', 'fetch-all-paginated.mjs'), 'export {};\n');
  fs.writeFileSync(
    path.join(dir, '.env'),
    'SUPABASE_URL=https://real.supabase.co\nSUPABASE_SERVICE_ROLE_KEY=real-key\n',
    {
      mode: 0o600,
    },
  );
  return dir;
}

const PLANNED = () => [...Object.keys(demoFiles()), DEMO_ENV];

describe('demo workspace: the demo writes only into its own folder', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-demo-ws-test-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('options: --no-scheduler or EHG_NO_SCHEDULER=1 turn the simulator off; --workspace is resolved; unknown ones are refused', function () {
    assert.deepEqual(parseArgs([], {}), { backendOnly: false, scheduler: true, intervalMs: 5_000, preflight: false });
    const a = parseArgs(['--backend-only', '--no-scheduler', '--workspace=rel/dir', '--port', '5433'], {});
    assert.ok(a !== 'help');
    assert.equal(a.backendOnly, true);
    assert.equal(a.scheduler, false);
    assert.equal(a.workspace, path.resolve('rel/dir'));
    assert.equal(a.port, 5433);
    assert.equal((parseArgs([], { EHG_NO_SCHEDULER: '1' }) as { scheduler: boolean }).scheduler, false);
    assert.equal((parseArgs([], { EHG_NO_SCHEDULER: '0' }) as { scheduler: boolean }).scheduler, true);
    assert.equal(parseArgs(['--help'], {}), 'help');
    assert.throws(() => parseArgs(['--workspaces', 'x'], {}), /unknown argument --workspaces/);
    assert.throws(() => parseArgs(['--workspace'], {}), /needs a value/);
  });

  it('a checkout-like folder (README, package.json, analyzer, .env) is refused before any write, every byte unchanged', function () {
    const dir = fakeCheckout(root);
    const before = snapshot(root);
    assert.throws(
      () => openDemoWorkspace(dir),
      (e: unknown) =>
        e instanceof WorkspaceRefusedError &&
        /not empty/.test(e.message) &&
        /Nothing was written/.test(e.message) &&
        /--backend-only/.test(e.message),
    );
    assert.deepEqual(snapshot(root), before);
  });

  it('one stray file is enough to refuse; so are a file, a link, and a marker that is not the demo’s', function () {
    const one = path.join(root, 'one');
    fs.mkdirSync(one);
    fs.writeFileSync(path.join(one, 'notes.txt'), 'mine');
    const file = path.join(root, 'file');
    fs.writeFileSync(file, 'x');
    const link = path.join(root, 'link');
    fs.symlinkSync(one, link);
    const fake = path.join(root, 'fake');
    fs.mkdirSync(fake);
    fs.writeFileSync(path.join(fake, MARKER), 'not json');
    const before = snapshot(root);
    for (const [dir, why] of [
      [one, /not empty/],
      [file, /not a folder/],
      [link, /symbolic link/],
      [fake, /not one the demo wrote/],
    ] as const)
      assert.throws(
        () => DemoWorkspace.open(dir, PLANNED()),
        (e: unknown) => e instanceof WorkspaceRefusedError && why.test(e.message),
      );
    assert.deepEqual(snapshot(root), before);
  });

  it('an empty folder: the demo workspace is set up, and cleanup removes exactly what was written (the folder stays)', function () {
    const dir = path.join(root, 'empty');
    fs.mkdirSync(dir);
    const { ws, tempBase } = openDemoWorkspace(dir);
    assert.equal(fs.readdirSync(dir).length, 0, 'open() writes nothing');
    ws.setUp(demoFiles());
    ws.write(DEMO_ENV, 'SUPABASE_URL=http://127.0.0.1:1\n', 0o600);
    const fixture = path.join(repoRoot(), 'test', 'fixtures', 'ehg-workspace');
    for (const rel of ['package.json', 'lib/telemetry/bottleneck-analyzer.js', 'lib/db/fetch-all-paginated.mjs'])
      assert.deepEqual(fs.readFileSync(path.join(dir, rel)), fs.readFileSync(path.join(fixture, rel)), rel);
    assert.equal(fs.statSync(path.join(dir, DEMO_ENV)).mode & 0o777, 0o600);
    assert.deepEqual(Object.keys(snapshot(dir)).sort(), [...PLANNED(), MARKER, ...foldersOn(PLANNED())].sort());
    assert.deepEqual(cleanupDemoWorkspace(ws, tempBase), []);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a missing folder with missing parents: made, then removed again up to what existed', function () {
    const dir = path.join(root, 'a', 'b', 'EHG_Engineer');
    const { ws, tempBase } = openDemoWorkspace(dir);
    assert.equal(fs.existsSync(path.join(root, 'a')), false, 'open() writes nothing');
    ws.setUp(demoFiles());
    assert.ok(fs.existsSync(path.join(dir, 'lib', 'telemetry', 'bottleneck-analyzer.js')));
    assert.deepEqual(cleanupDemoWorkspace(ws, tempBase), []);
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('a folder an earlier demo left (killed before cleanup) is reused; what others wrote there is kept', function () {
    const dir = path.join(root, 'ws');
    const first = DemoWorkspace.open(dir, PLANNED());
    first.setUp(demoFiles());
    first.write(DEMO_ENV, 'SUPABASE_URL=http://127.0.0.1:1\n');
    // (no cleanup: as after SIGKILL) Someone adds a file of their own.
    fs.writeFileSync(path.join(dir, 'lib', 'notes.md'), 'mine');
    const second = DemoWorkspace.open(dir, PLANNED());
    second.setUp(demoFiles());
    second.write(DEMO_ENV, 'SUPABASE_URL=http://127.0.0.1:2\n');
    const kept = second.cleanup();
    assert.deepEqual(Object.keys(snapshot(dir)).sort(), ['lib', 'lib/notes.md']);
    assert.equal(fs.readFileSync(path.join(dir, 'lib', 'notes.md'), 'utf8'), 'mine');
    assert.ok(
      kept.some((k) => k.startsWith(path.join(dir, 'lib')) && /did not write/.test(k)),
      kept.join('\n'),
    );
  });

  it('a demo file someone changed is not overwritten (refused) and not removed (kept, with the marker)', function () {
    const dir = path.join(root, 'ws');
    const first = DemoWorkspace.open(dir, PLANNED());
    first.setUp(demoFiles());
    fs.appendFileSync(path.join(dir, 'README.md'), 'my notes\n');
    const before = snapshot(root);
    assert.throws(
      () => DemoWorkspace.open(dir, PLANNED()),
      (e: unknown) => e instanceof WorkspaceRefusedError && /README.md changed since the demo wrote it/.test(e.message),
    );
    assert.deepEqual(snapshot(root), before);
    const kept = first.cleanup();
    assert.ok(kept.some((k) => k.includes('README.md')));
    assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /my notes/);
    assert.ok(fs.existsSync(path.join(dir, MARKER)), 'the marker stays with a kept file');
    assert.equal(fs.existsSync(path.join(dir, 'package.json')), false);
  });

  it('a folder the demo made before it kept a marker is adopted only when every file is byte-identical to what it wrote', function () {
    const make = (name: string) => {
      const dir = path.join(root, name);
      for (const [rel, content] of Object.entries(demoFiles())) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), content);
      }
      fs.writeFileSync(
        path.join(dir, 'README.md'),
        '# EHG_Engineer (demo workspace)\n\nOpen the **EHG Telemetry** view in the activity bar. The `.env` here points at the local demo backend.\n',
      );
      fs.writeFileSync(
        path.join(dir, '.env'),
        '# Written by npm start: the local demo backend (not a real Supabase project)\nSUPABASE_URL=http://127.0.0.1:41234\nSUPABASE_SERVICE_ROLE_KEY=eyJ.abc-_.x\n',
      );
      return dir;
    };
    const old = make('old');
    const { ws, tempBase } = openDemoWorkspace(old);
    ws.setUp(demoFiles());
    assert.deepEqual(cleanupDemoWorkspace(ws, tempBase), []);
    assert.deepEqual(fs.readdirSync(old), [], 'everything the earlier demo wrote is gone; the folder stays');
    // One byte of someone else's, or one file more, and it is not the demo's.
    const edited = make('edited');
    fs.appendFileSync(path.join(edited, 'lib', 'telemetry', 'bottleneck-analyzer.js'), '// mine\n');
    const extra = make('extra');
    fs.writeFileSync(path.join(extra, 'notes.md'), 'mine');
    const realEnv = make('real-env');
    fs.writeFileSync(path.join(realEnv, '.env'), 'SUPABASE_URL=https://real.supabase.co\n');
    const before = snapshot(root);
    for (const dir of [edited, extra, realEnv])
      assert.throws(
        () => openDemoWorkspace(dir),
        (e: unknown) => e instanceof WorkspaceRefusedError && /not empty/.test(e.message),
      );
    assert.deepEqual(snapshot(root), before);
  });

  describe('a marker the demo did not write is refused before any write (review of issue 18)', function () {
    const sha = (t: string) => createHash('sha256').update(t).digest('hex');
    /** A folder holding `files` and the given marker, next to a file outside it that must survive. */
    const forged = (name: string, marker: unknown, files: Record<string, string> = {}) => {
      const dir = path.join(root, name);
      fs.mkdirSync(dir);
      for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      }
      fs.writeFileSync(path.join(dir, MARKER), JSON.stringify(marker));
      return dir;
    };
    const refused = (dir: string, why: RegExp) =>
      assert.throws(
        () => openDemoWorkspace(dir),
        (e: unknown) =>
          e instanceof WorkspaceRefusedError &&
          new RegExp(`${MARKER.replace(/\./g, '\\.')} is not one the demo wrote|has no record`).test(e.message) &&
          why.test(e.message) &&
          /Nothing was written/.test(e.message),
      );

    it('the reproduction: README.md and ../victim.txt listed with null hashes', function () {
      fs.writeFileSync(path.join(root, 'victim.txt'), 'outside the folder\n');
      const dir = forged(
        'ws',
        { what: 'x', files: { 'README.md': null, '../victim.txt': null }, dirs: [] },
        { 'README.md': '# mine\n' },
      );
      const before = snapshot(root);
      refused(dir, /lists "\.\.\/victim\.txt", which the demo does not write/);
      assert.deepEqual(snapshot(root), before);
    });

    it('forged keys: a file the demo does not write, `..`, an absolute path — even with the right hash', function () {
      fs.writeFileSync(path.join(root, 'victim.txt'), 'outside\n');
      const cases: [unknown, Record<string, string>, RegExp][] = [
        [{ what: 'x', files: { 'notes.txt': sha('mine') }, dirs: [] }, { 'notes.txt': 'mine' }, /"notes\.txt"/],
        [{ what: 'x', files: { '../victim.txt': sha('outside\n') }, dirs: [] }, {}, /"\.\.\/victim\.txt"/],
        [{ what: 'x', files: { 'lib/../../victim.txt': null }, dirs: [] }, {}, /victim\.txt/],
        [{ what: 'x', files: { [path.join(root, 'victim.txt')]: sha('outside\n') }, dirs: [] }, {}, /victim\.txt/],
        [{ what: 'x', files: { 'README.md': 'not-a-hash' }, dirs: [] }, { 'README.md': 'x' }, /not a sha256/],
        [{ what: 'x', files: [], dirs: [] }, {}, /"files" is not an object/],
        [{ what: 'x', files: {}, dirs: [], more: 1 }, {}, /unexpected key "more"/],
        [{ files: {}, dirs: [] }, {}, /"what"/],
        [[], {}, /not an object/],
      ];
      const dirs = cases.map(([m, files], i) => forged(`ws${i}`, m, files));
      const before = snapshot(root);
      cases.forEach(([, , why], i) => refused(dirs[i], why));
      assert.deepEqual(snapshot(root), before);
    });

    it('forged folders: outside the folder, an unplanned one inside it, `/`, a parent out of the chain, a relative one', function () {
      const outside = path.join(root, 'outside');
      fs.mkdirSync(outside);
      const dir = (i: number) => path.join(root, `ws${i}`);
      const cases: [string[], RegExp][] = [
        [[outside], /lists .*outside, which is neither this folder/],
        [[path.join(root, 'ws1', 'src')], /neither this folder, one the demo makes in it, nor a parent/],
        [['/'], /lists \/, which is neither/],
        [[root], /lists the parent .* but not this folder/],
        [['lib'], /not a plain absolute path/],
        [[`${dir(5)}/../outside`], /not a plain absolute path/],
        [[path.join(root, 'elsewhere', 'EHG_Engineer')], /neither this folder/], // a copied old demo folder
      ];
      cases.forEach(([dirs], i) => forged(`ws${i}`, { what: 'x', files: {}, dirs }));
      const before = snapshot(root);
      cases.forEach(([, why], i) => refused(dir(i), why));
      assert.deepEqual(snapshot(root), before);
      assert.ok(fs.existsSync(outside));
    });

    it('a null entry over a file that is there: unknown content, so not the demo’s (refused, unchanged)', function () {
      const dir = forged(
        'ws',
        { what: 'x', files: { 'README.md': null, '.env': null }, dirs: [] },
        { 'README.md': '# mine\n', '.env': 'SUPABASE_URL=https://real.supabase.co\n' },
      );
      const before = snapshot(root);
      assert.throws(
        () => openDemoWorkspace(dir),
        (e: unknown) =>
          e instanceof WorkspaceRefusedError &&
          /(README\.md|\.env) is there and the demo has no record/.test(e.message) &&
          /delete it and \.ehg-telemetry-demo\.json, then start again/.test(e.message),
      );
      assert.deepEqual(snapshot(root), before);
    });

    it('a real marker left by a killed demo (parents it made included) is accepted and cleaned up', function () {
      const dir = path.join(root, 'a', 'b', 'EHG_Engineer');
      const first = DemoWorkspace.open(dir, PLANNED());
      first.setUp(demoFiles());
      first.write(DEMO_ENV, 'SUPABASE_URL=http://127.0.0.1:1\n');
      // (no cleanup: as after SIGKILL)
      const { ws, tempBase } = openDemoWorkspace(dir);
      ws.setUp(demoFiles());
      assert.deepEqual(cleanupDemoWorkspace(ws, tempBase), []);
      assert.deepEqual(fs.readdirSync(root), []);
    });
  });

  it('a file that appears or changes after open() is kept as it is: write() refuses, cleanup() keeps it', function () {
    const dir = path.join(root, 'ws');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(root, 'victim.txt'), 'outside\n');
    const ws = DemoWorkspace.open(dir, PLANNED());
    ws.setUp(demoFiles());
    // The .env appears between the check and the write (start.ts writes it once the backend is up).
    fs.writeFileSync(path.join(dir, DEMO_ENV), 'SUPABASE_URL=https://real.supabase.co\n', { mode: 0o600 });
    // And a file the demo wrote is edited.
    fs.appendFileSync(path.join(dir, 'README.md'), 'my notes\n');
    const before = snapshot(root);
    assert.throws(
      () => ws.write(DEMO_ENV, 'SUPABASE_URL=http://127.0.0.1:1\n', 0o600),
      (e: unknown) =>
        e instanceof WorkspaceRefusedError && /changed since the demo checked it; kept it/.test(e.message),
    );
    assert.throws(
      () => ws.write('README.md', 'demo'),
      (e: unknown) =>
        e instanceof WorkspaceRefusedError && /README\.md changed since the demo checked it/.test(e.message),
    );
    assert.deepEqual(snapshot(root), before);
    const kept = ws.cleanup();
    assert.ok(
      kept.some((k) => k.endsWith(`${DEMO_ENV} (the demo has no record of writing it)`)),
      kept.join('\n'),
    );
    assert.ok(
      kept.some((k) => k.includes('README.md (changed since the demo wrote it)')),
      kept.join('\n'),
    );
    assert.equal(fs.readFileSync(path.join(dir, DEMO_ENV), 'utf8'), 'SUPABASE_URL=https://real.supabase.co\n');
    assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /my notes/);
    assert.equal(fs.readFileSync(path.join(root, 'victim.txt'), 'utf8'), 'outside\n');
    assert.equal(fs.existsSync(path.join(dir, 'package.json')), false, 'what the demo wrote unchanged is removed');
  });

  it('a link put where the demo writes is refused, and never written through', function () {
    const dir = path.join(root, 'ws');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const first = DemoWorkspace.open(dir, PLANNED());
    first.setUp(demoFiles());
    fs.rmSync(path.join(dir, 'lib'), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, 'lib'));
    assert.throws(
      () => DemoWorkspace.open(dir, PLANNED()),
      (e: unknown) => e instanceof WorkspaceRefusedError && /lib is not a folder/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(outside), []);
  });
});

// ---- the real start process ------------------------------------------------------------------

function startProcess(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'out', 'scripts', 'start.js'), ...args], {
    cwd: repoRoot(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}

describe('demo workspace: the start process (npm start -- --backend-only --no-scheduler --workspace)', function () {
  this.timeout(120_000);
  let root: string;
  let running: ChildProcess | null = null;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-demo-start-test-'));
  });
  afterEach(() => {
    if (running && running.exitCode === null) running.kill('SIGKILL');
    running = null;
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses a checkout-like folder with a clear message and exit code 2; every byte unchanged', async function () {
    const dir = fakeCheckout(root);
    const before = snapshot(root);
    const p = startProcess(['--backend-only', '--no-scheduler', '--workspace', dir]);
    running = p.child;
    const code = await p.exited;
    assert.equal(code, 2, p.out());
    assert.match(p.out(), /Refusing to use .*EHG_Engineer as the demo workspace: it is not empty/);
    assert.match(p.out(), /npm start -- --backend-only/);
    assert.doesNotMatch(p.out(), /Starting the local backend/);
    assert.deepEqual(snapshot(root), before);
  });

  it('an empty folder: the workspace is set up against a live backend; SIGINT removes exactly what was created', async function () {
    const dir = path.join(root, 'empty');
    fs.mkdirSync(dir);
    const p = startProcess(['--backend-only', '--no-scheduler', '--workspace', dir]);
    running = p.child;
    await waitFor(() => /Ctrl-C stops everything\./.test(p.out()) || p.child.exitCode !== null, {
      message: 'the backend to be ready',
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    assert.equal(p.child.exitCode, null, p.out());
    assert.deepEqual(Object.keys(snapshot(dir)).sort(), [...PLANNED(), MARKER, ...foldersOn(PLANNED())].sort());
    // The .env it wrote points at the live backend, which holds the demo runs for this folder and,
    // with --no-scheduler, no heartbeat row.
    const env = Object.fromEntries(
      fs
        .readFileSync(path.join(dir, '.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.match(p.out(), new RegExp(`SUPABASE_URL=${env.SUPABASE_URL}\\n`), 'the .env to paste is printed');
    const get = async (q: string) => {
      const r = await fetch(`${env.SUPABASE_URL}/rest/v1/${q}`, {
        headers: { apikey: env.SUPABASE_SERVICE_ROLE_KEY },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(r.status, 200);
      return (await r.json()) as unknown[];
    };
    const runs = await get(`telemetry_analysis_runs?select=run_id&scope_id=eq.${encodeURIComponent(dir)}&limit=5`);
    assert.ok(runs.length > 0, 'demo runs seeded for the folder');
    assert.deepEqual(
      await get('eva_scheduler_heartbeat?select=id'),
      [],
      '--no-scheduler: nothing writes the heartbeat',
    );
    assert.match(p.out(), /code --install-extension .*ehg-telemetry\.vsix/);
    const dataDir = /data dir (\S+);/.exec(p.out())?.[1];
    assert.ok(dataDir && fs.existsSync(dataDir), p.out());

    p.child.kill('SIGINT');
    const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    assert.notEqual(code, 'hung', `start process did not exit after SIGINT:\n${p.out()}`);
    assert.deepEqual(fs.readdirSync(dir), [], 'everything the demo wrote is gone; the folder it did not make stays');
    assert.ok(fs.existsSync(dir));
    await waitFor(() => !fs.existsSync(dataDir), {
      message: 'the data directory to go',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});

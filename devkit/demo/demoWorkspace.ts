// The demo's workspace folder (`npm start -- --workspace <dir>`): the demo writes only into a folder
// that is missing, empty, or one an earlier demo made (it carries MARKER), and it never changes or
// removes a file it did not write. Everything is checked before the first write; cleanup() removes
// exactly what the demo wrote (a file changed since is kept and reported) and the folders it made
// (only once empty). Synchronous on purpose: cleanup runs from a process 'exit' handler too.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Written first, removed last: the list of what this demo wrote, so a later run can tell. */
export const MARKER = '.ehg-telemetry-demo.json';

/** The folder is not the demo's to write into; the message says why and what to do instead. */
export class WorkspaceRefusedError extends Error {
  override name = 'WorkspaceRefusedError';
}

interface MarkerFile {
  what: string;
  /** Relative path → sha256 of what the demo wrote (null: planned, not written yet). */
  files: Record<string, string | null>;
  /** Absolute paths of the folders the demo made (the workspace itself and parents included), outermost first. */
  dirs: string[];
}

const FIX =
  'Use an empty or new folder (or leave out --workspace for a temporary one). To see the extension on your own ' +
  'EHG_Engineer checkout, run `npm start -- --backend-only` and open the checkout in your own VS Code with the printed .env and VSIX.';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function lstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export class DemoWorkspace {
  private constructor(
    readonly dir: string,
    private readonly marker: MarkerFile,
    /** Folders under `dir` still to make (relative), in order. */
    private readonly pendingDirs: string[],
  ) {}

  /**
   * Checks `dir` for the files the demo will write (`rels`, relative), without writing anything.
   * Throws WorkspaceRefusedError when the folder holds anything the demo did not write that it would
   * touch, or anything at all when it is not a demo folder. `legacy` recognises a folder made by a
   * demo from before the marker: adopted only when every entry in it is a planned file whose bytes
   * `legacy` says such a demo wrote (and the folders on their way).
   */
  static open(dir: string, rels: string[], legacy?: (rel: string, content: Buffer) => boolean): DemoWorkspace {
    dir = path.resolve(dir);
    const refuse = (why: string): never => {
      throw new WorkspaceRefusedError(
        `Refusing to use ${dir} as the demo workspace: ${why}. Nothing was written. ${FIX}`,
      );
    };
    const st = lstat(dir);
    let previous: MarkerFile | null = null;
    const createdDirs: string[] = [];
    if (!st) {
      // Missing: the demo makes it, and any missing parents, and removes them again.
      for (let d = dir; !lstat(d); d = path.dirname(d)) createdDirs.unshift(d);
    } else if (st.isSymbolicLink()) refuse('it is a symbolic link');
    else if (!st.isDirectory()) refuse('it is not a folder');
    else {
      const entries = fs.readdirSync(dir);
      if (entries.length && !entries.includes(MARKER) && legacy) previous = adoptLegacy(dir, rels, legacy);
      if (entries.length && !entries.includes(MARKER) && !previous)
        refuse(
          `it is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries.slice(0, 3).join(', ')}) and no earlier demo made it (no ${MARKER})`,
        );
      if (entries.includes(MARKER)) {
        const m = lstat(path.join(dir, MARKER));
        if (!m?.isFile()) refuse(`${MARKER} is not a plain file`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
        } catch {
          refuse(`${MARKER} is not one the demo wrote (not JSON)`);
        }
        const why = markerProblem(parsed, dir, rels);
        if (why) refuse(`${MARKER} is not one the demo wrote (${why})`);
        previous = parsed as MarkerFile;
      }
    }
    const owned = previous?.files ?? {};
    const pendingDirs: string[] = [];
    for (const rel of rels) {
      if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw new Error(`not a relative path: ${rel}`);
      const parts = rel.split('/');
      // Every folder on the way must be a real folder (or missing), never a link out of the workspace.
      for (let i = 1; i < parts.length; i++) {
        const sub = parts.slice(0, i).join('/');
        const s = st ? lstat(path.join(dir, sub)) : null;
        if (!s) {
          if (!pendingDirs.includes(sub)) pendingDirs.push(sub);
        } else if (!s.isDirectory()) refuse(`${sub} is not a folder`);
      }
      const target = st ? lstat(path.join(dir, rel)) : null;
      if (!target) continue;
      if (!Object.hasOwn(owned, rel)) refuse(`${rel} is there and the demo did not write it`);
      if (!target.isFile()) refuse(`${rel} is not a plain file`);
      const want = owned[rel];
      // null: the demo meant to write it but has no record of what it wrote, so what is there is not known to be ours.
      if (want === null)
        refuse(
          `${rel} is there and the demo has no record of writing it (an earlier demo may have been killed while writing it: if that file is the demo's, delete it and ${MARKER}, then start again)`,
        );
      if (sha256(fs.readFileSync(path.join(dir, rel))) !== want) refuse(`${rel} changed since the demo wrote it`);
    }
    const marker: MarkerFile = {
      what: 'Written by `npm start` (EHG Telemetry demo): the files it wrote here, removed again when it stops.',
      files: { ...owned, ...Object.fromEntries(rels.filter((r) => !Object.hasOwn(owned, r)).map((r) => [r, null])) },
      dirs: [...(previous?.dirs ?? []), ...createdDirs],
    };
    return new DemoWorkspace(dir, marker, pendingDirs);
  }

  /** Makes the folders and writes the marker (before any other file), then `files`. */
  setUp(files: Record<string, string | Buffer>): void {
    for (const d of this.marker.dirs) if (!lstat(d)) fs.mkdirSync(d);
    this.saveMarker();
    for (const sub of this.pendingDirs) {
      const abs = path.join(this.dir, sub);
      if (!lstat(abs)) {
        fs.mkdirSync(abs);
        this.marker.dirs.push(abs);
      }
    }
    this.saveMarker();
    for (const [rel, content] of Object.entries(files)) this.write(rel, content);
  }

  /** Writes one of the planned files (never one outside the plan, never through a link). */
  write(rel: string, content: string | Buffer, mode = 0o644): void {
    if (!Object.hasOwn(this.marker.files, rel)) throw new Error(`the demo did not plan to write ${rel}`);
    const abs = path.join(this.dir, rel);
    const cur = lstat(abs);
    if (cur) {
      // Ours when open() checked it; checked again now (the .env is written long after open()), then
      // replaced, not written through, so a link put there is not followed.
      const want = this.marker.files[rel];
      if (!cur.isFile() || want === null || sha256(fs.readFileSync(abs)) !== want)
        throw new WorkspaceRefusedError(
          `${abs} changed since the demo checked it; kept it as it is, and did not write the demo's ${rel}.`,
        );
      fs.unlinkSync(abs);
    }
    this.marker.files[rel] = null;
    this.saveMarker();
    fs.writeFileSync(abs, content, { flag: 'wx', mode });
    this.marker.files[rel] = sha256(content);
    this.saveMarker();
  }

  /** Everything the demo wrote and the folders it made, as absolute paths. */
  created(): string[] {
    return [
      ...this.marker.dirs,
      path.join(this.dir, MARKER),
      ...Object.keys(this.marker.files).map((r) => path.join(this.dir, r)),
    ];
  }

  /**
   * Removes what the demo wrote (unchanged files only), the marker, then the folders it made once
   * empty. Returns what it kept, with why.
   */
  cleanup(): string[] {
    const kept: string[] = [];
    let allGone = true;
    for (const [rel, hash] of Object.entries(this.marker.files)) {
      const abs = path.join(this.dir, rel);
      const s = lstat(abs);
      if (!s) continue;
      // A null entry is never removed: the demo has no record of what it wrote there (or never wrote it).
      if (s.isFile() && hash !== null && sha256(fs.readFileSync(abs)) === hash) fs.unlinkSync(abs);
      else {
        kept.push(
          `${abs} (${hash === null ? 'the demo has no record of writing it' : 'changed since the demo wrote it'})`,
        );
        allGone = false;
      }
    }
    // With a file kept, the marker stays so that a later run knows which files are the demo's.
    if (allGone) fs.rmSync(path.join(this.dir, MARKER), { force: true });
    for (const d of [...this.marker.dirs].reverse()) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT')
          kept.push(`${d} (${code === 'ENOTEMPTY' ? 'holds files the demo did not write' : code})`);
      }
    }
    return kept;
  }

  private saveMarker(): void {
    // Its path is ours: absent, or a plain-file marker (checked in open()).
    fs.writeFileSync(path.join(this.dir, MARKER), `${JSON.stringify(this.marker, null, 2)}\n`);
  }
}

/**
 * Why `m` is not a marker this demo could have written for `dir` (null: it could have). Checked
 * before any write, because the marker decides what the demo overwrites and removes, and it may have
 * been copied along with an old demo folder or committed to a repository: the files must be ones
 * the demo plans to write (so relative, no `..`), each with a sha256 or null; the folders must be
 * `dir` itself, one of the planned folders inside it, or a chain of `dir`'s own parents down to it
 * (those a demo made when `dir` was missing).
 */
export function markerProblem(m: unknown, dir: string, rels: string[]): string | null {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not an object';
  const o = m as Record<string, unknown>;
  const files = o.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return '"files" is not an object';
  for (const [rel, hash] of Object.entries(files as Record<string, unknown>)) {
    if (!rels.includes(rel)) return `it lists ${JSON.stringify(rel)}, which the demo does not write`;
    if (hash !== null && (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)))
      return `the entry for ${rel} is not a sha256`;
  }
  if (!Array.isArray(o.dirs)) return '"dirs" is not a list';
  const inside = new Set([
    dir,
    ...rels.flatMap((r) =>
      r
        .split('/')
        .slice(0, -1)
        .map((_, i, a) => path.join(dir, ...a.slice(0, i + 1))),
    ),
  ]);
  const parents = o.dirs.filter((d) => typeof d !== 'string' || !inside.has(d));
  for (const d of parents) {
    if (typeof d !== 'string' || !path.isAbsolute(d) || path.normalize(d) !== d)
      return `it lists a folder ${JSON.stringify(d)} that is not a plain absolute path`;
    if (d === path.dirname(d) || !dir.startsWith(`${d}${path.sep}`))
      return `it lists ${d}, which is neither this folder, one the demo makes in it, nor a parent of it`;
  }
  // Parents only as a chain that ends at `dir` (each one's child on the way to `dir` listed too).
  const listed = new Set(o.dirs as string[]);
  for (const d of parents as string[]) {
    if (!listed.has(dir)) return `it lists the parent ${d} but not this folder`;
    for (let c = dir; c !== d; c = path.dirname(c))
      if (!listed.has(c)) return `it lists the parent ${d} but not ${c} between it and this folder`;
  }
  // Last, so that the message names what the marker would have touched, when it would.
  const extra = Object.keys(o).filter((k) => !['what', 'files', 'dirs'].includes(k));
  if (extra.length) return `unexpected key ${JSON.stringify(extra[0])}`;
  if (typeof o.what !== 'string') return '"what" is not a string';
  return null;
}

/**
 * The folders on the way to the files `rels` (relative, `/`), outermost first, each once: what the demo
 * makes in its workspace besides the files (e.g. `.claude`, `.claude/agents`, `scripts/modules/…/gates`
 * for the fixture's gate and sub-agent declarations).
 */
export function foldersOn(rels: string[]): string[] {
  const dirs = rels.flatMap((r) =>
    r
      .split('/')
      .slice(0, -1)
      .map((_, i, a) => a.slice(0, i + 1).join('/')),
  );
  return [...new Set(dirs)];
}

/** A folder from a demo before the marker: every file planned and byte-identical to what it wrote, nothing else. */
function adoptLegacy(
  dir: string,
  rels: string[],
  legacy: (rel: string, content: Buffer) => boolean,
): MarkerFile | null {
  const dirsOnTheWay = new Set(foldersOn(rels));
  const files: Record<string, string> = {};
  const dirs: string[] = [];
  const visit = (rel: string): boolean => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory() && dirsOnTheWay.has(r)) {
        dirs.push(path.join(dir, r));
        if (!visit(r)) return false;
      } else if (st.isFile() && rels.includes(r)) {
        const content = fs.readFileSync(path.join(dir, r));
        if (!legacy(r, content)) return false;
        files[r] = sha256(content);
      } else return false;
    }
    return true;
  };
  return visit('') ? { what: 'adopted', files, dirs } : null;
}

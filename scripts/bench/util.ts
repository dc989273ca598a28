// Small helpers shared by the benchmark sections: cleanup on every exit path, statistics, logging.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onCleanup, releaseAll as releaseAllWith, withTimeout } from '../../devkit/cleanup';

const t0 = Date.now();
let quiet = false;

/** With --json, progress goes to stderr so stdout carries only the JSON object. */
export function setQuiet(q: boolean): void {
  quiet = q;
}

export function log(line: string): void {
  const text = `[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`;
  if (quiet) process.stderr.write(text);
  else process.stdout.write(text);
}

export { sleep } from '../../devkit/wait';

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---- cleanup -------------------------------------------------------------------------------

export { onCleanup, withTimeout };

/** Runs every registered stopper, newest first, each bounded in time. */
export function releaseAll(): Promise<void> {
  return releaseAllWith(log);
}

/** A fresh temp folder (removed by releaseAll). */
const tempDirs = new Set<string>();
let exitHook = false;

export function tempDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  tempDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    // Last resort when the process ends before releaseAll() got to them (e.g. a second Ctrl-C).
    process.on('exit', () => {
      for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  onCleanup(`temp dir ${dir}`, () => {
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  });
  return dir;
}

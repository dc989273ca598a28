// What the fault and security suites check after every case: nothing crashed in the extension host,
// the database did not change behind the user's back, rendered Markdown stays inert, and what the
// extension wrote to its log.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DB_FINGERPRINT_SQL } from '../shared';
import { config, sql } from './helpers';

export { assertNoCrashSince, crashCount, installCrashRecorder } from './crashes';

// ---- the database ---------------------------------------------------------------------------------

/** See DB_FINGERPRINT_SQL; `except` leaves out runs the test meant to add. */
export async function dbFingerprint(except: string[] = []): Promise<string> {
  const [row] = await sql<{ n: number; md5: string }>(DB_FINGERPRINT_SQL, [except]);
  return `${row.n}:${row.md5}`;
}

export async function assertDbUnchanged(before: string, what: string, except: string[] = []): Promise<void> {
  const after = await dbFingerprint(except);
  if (after === before) return;
  const recent = await sql(
    'select run_id, scope_id, status, triggered_by, triggered_at, updated_at from telemetry_analysis_runs order by updated_at desc limit 5',
  );
  assert.fail(
    `${what}: telemetry_analysis_runs changed (${before} → ${after}); most recently changed rows: ${JSON.stringify(recent)}`,
  );
}

// ---- Markdown that must render inert ------------------------------------------------------------

/**
 * Markup in Markdown *source* that a renderer would act on: an unescaped `<` (HTML, autolinks),
 * `[` (links, images), or `](`. Backslash escapes are skipped. Returns each finding with context.
 */
export function activeMarkup(md: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < md.length; i++) {
    const c = md[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '<' || c === '[') found.push(`unescaped ${c} at ${i}: …${md.slice(Math.max(0, i - 20), i + 40)}…`);
  }
  return found;
}

/** The text a reader sees (backslash escapes removed). */
export function unescapeMarkdown(md: string): string {
  return md.replace(/\\(.)/g, '$1');
}

/**
 * Markdown outside code: fenced blocks and inline code spans removed (what is left is rendered as
 * Markdown, so it must not hold the hostile markup).
 */
export function outsideCode(md: string): string {
  let out = '';
  const lines = md.split('\n');
  let fence: string | null = null;
  const prose: string[] = [];
  for (const line of lines) {
    const m = /^(`{3,})/.exec(line);
    if (fence) {
      if (m && m[1].length >= fence.length && line.trim() === m[1]) fence = null;
      continue;
    }
    if (m) {
      fence = m[1];
      continue;
    }
    prose.push(line);
  }
  // Inline code spans: a run of n backticks up to the next run of exactly n.
  const text = prose.join('\n');
  for (let i = 0; i < text.length;) {
    if (text[i] === '`') {
      let n = 0;
      while (text[i + n] === '`') n++;
      const closing = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, 'g');
      closing.lastIndex = i + n;
      const close = closing.exec(text);
      if (close) {
        i = close.index + n;
        continue;
      }
      out += text.slice(i, i + n);
      i += n;
      continue;
    }
    out += text[i++];
  }
  return out;
}

// ---- the extension's log file ---------------------------------------------------------------------

function newestFile(dir: string, name: string): string | undefined {
  let best: { file: string; mtime: number } | undefined;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === name) {
        const mtime = fs.statSync(p).mtimeMs;
        if (!best || mtime > best.mtime) best = { file: p, mtime };
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return best?.file;
}

/** The "EHG Telemetry" log channel as written to disk by this window (empty when not found yet). */
export function extensionLog(): string {
  assert.ok(config.userDataDir, 'the runner passes the code-server user-data-dir');
  const file = newestFile(path.join(config.userDataDir, 'logs'), 'EHG Telemetry.log');
  return file ? fs.readFileSync(file, 'utf8') : '';
}

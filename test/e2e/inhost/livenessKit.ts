// Shared by the scheduler liveness scenarios (schedulerLiveness.test.ts in the reload window,
// schedulerUnkind.test.ts in a window of its own): sampling the status bar and the heartbeat row,
// summaries, timelines and the bounds they are held to.
import { StatusBarSnapshot } from '../shared';
import { config, refresh, sleep, sql, Testing, waitFor } from './helpers';

export interface SimState {
  instanceId: string;
  pollCount: number;
  nextWaitMs: number | null;
  baseIntervalMs: number;
  polling: boolean;
}
export interface Sample {
  at: number;
  state: string;
  text: string;
  pollCount: number;
}

export const SAMPLE_MS = 100;
export const GRACE_MS = 1_000; // ehgTelemetry.heartbeatGraceSeconds in the runner's user settings
/**
 * How late a verdict may show: the monitor re-judges 0.5 s after the moment, its server clock comes
 * from the Date header (whole seconds, so up to 1 s behind), and samples are 0.1 s apart. It is never early.
 */
export const LATE_MS = 2_000;

export async function dbRow(): Promise<
  { instance_id: string; poll_count: number; last_poll_at: Date | null } | undefined
> {
  return (
    await sql<{ instance_id: string; poll_count: number; last_poll_at: Date | null }>(
      'select instance_id, poll_count, last_poll_at from eva_scheduler_heartbeat where id = 1',
    )
  )[0];
}

/** Samples the status bar every 100 ms until `stop` says so (or `maxMs` passes: then it fails with the states seen). */
export async function sampleUntil(
  t: Testing,
  what: string,
  stop: (s: Sample, all: Sample[]) => boolean,
  maxMs: number,
): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = Date.now() + maxMs;
  for (;;) {
    const bar = t.statusBar();
    const row = await dbRow();
    const s: Sample = { at: Date.now(), state: bar.state, text: bar.text, pollCount: row?.poll_count ?? -1 };
    out.push(s);
    if (stop(s, out)) return out;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${maxMs} ms; states seen: ${summary(out)}`);
    await sleep(SAMPLE_MS); // the sampling period, not a wait for something
  }
}

/** "healthy×212 → stale×230 → not-polling×1" */
export function summary(samples: Sample[]): string {
  const runs: Array<[string, number]> = [];
  for (const s of samples) {
    const last = runs[runs.length - 1];
    if (last && last[0] === s.state) last[1]++;
    else runs.push([s.state, 1]);
  }
  return runs.map(([k, n]) => `${k}×${n}`).join(' → ');
}

/** Reads the heartbeat until the status bar says healthy (30 s at most). */
export function untilHealthy(t: Testing): Promise<StatusBarSnapshot> {
  return waitFor(
    async () => {
      await refresh();
      return t.statusBar();
    },
    { message: 'healthy after a fresh start', until: (s) => s.state === 'healthy', timeoutMs: 30_000, intervalMs: 500 },
  );
}

export function background(s: StatusBarSnapshot): 'none' | 'warning' | 'error' {
  const id = String(s.backgroundColor ?? '');
  return /error/i.test(id) ? 'error' : /warning/i.test(id) ? 'warning' : 'none';
}

export const plain = (md: string) => md.replace(/\\(.)/g, '$1');

/** How long each transition took to show, printed as one table at the end of the file. */
export const transitions: Array<[string, number]> = [];
/** Registers the root hook that prints this file's transition timings (call once per test file). */
export function reportTransitions(): void {
  after(() => {
    if (!transitions.length) return;
    console.log(
      `[liveness] transition timings (status bar, base ${config.schedulerIntervalMs / 1000} s, grace ${GRACE_MS / 1000} s):\n${transitions
        .map(([what, ms]) => `  ${what.padEnd(64)} ${(ms / 1000).toFixed(1).padStart(6)} s`)
        .join('\n')}`,
    );
  });
}

export interface Row {
  instance_id: string;
  poll_count: number;
  last_poll_at: Date | null;
  round_error_count: number | null;
}
export async function fullRow(): Promise<Row | undefined> {
  return (
    await sql<Row>(
      "select instance_id, poll_count, last_poll_at, (metadata->>'round_error_count')::int as round_error_count from eva_scheduler_heartbeat where id = 1",
    )
  )[0];
}
export interface RowSample extends Sample {
  instanceId: string | null;
  roundErrors: number;
  lastPollAt: number | null;
  background: 'none' | 'warning' | 'error';
  /** The window's heartbeat reads so far (t.heartbeatReads()). */
  reads: number;
}
/** Samples the status bar and the row every 100 ms until `stop` (or fails after `maxMs` with the states seen). */
export async function sampleRows(
  t: Testing,
  what: string,
  stop: (s: RowSample, all: RowSample[]) => boolean,
  maxMs: number,
): Promise<RowSample[]> {
  const out: RowSample[] = [];
  const end = Date.now() + maxMs;
  for (;;) {
    const bar = t.statusBar();
    // The moment the status bar was read (the row's read after it may be slow on a loaded machine).
    const at = Date.now();
    const row = await fullRow();
    const s: RowSample = {
      at,
      state: bar.state,
      text: bar.text,
      pollCount: row?.poll_count ?? -1,
      instanceId: row?.instance_id ?? null,
      roundErrors: row?.round_error_count ?? 0,
      lastPollAt: row?.last_poll_at?.getTime() ?? null,
      background: background(bar),
      reads: t.heartbeatReads(),
    };
    out.push(s);
    if (stop(s, out)) return out;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${maxMs} ms; states seen: ${summary(out)}`);
    await sleep(SAMPLE_MS);
  }
}
/**
 * Like sampleRows, but the window reads each new write as soon as the row shows it (a forced read), so
 * this window's history holds every write of the stretch: what it learns from their gaps then does not
 * depend on when its own schedule happened to read (a window that misses a write averages two gaps).
 */
export async function sampleRowsReadEach(
  t: Testing,
  what: string,
  stop: (s: RowSample) => boolean,
  maxMs: number,
): Promise<RowSample[]> {
  const end = Date.now() + maxMs;
  let seen = (await fullRow())?.last_poll_at?.getTime() ?? null;
  const all: RowSample[] = [];
  for (;;) {
    const part = await sampleRows(
      t,
      what,
      (s) => stop(s) || (s.lastPollAt !== null && s.lastPollAt !== seen),
      Math.max(0, end - Date.now()),
    );
    all.push(...part);
    const last = part[part.length - 1];
    if (last.lastPollAt !== null && last.lastPollAt !== seen) {
      seen = last.lastPollAt;
      await t.refreshHeartbeat();
    }
    if (stop(last)) return all;
  }
}
/** "healthy: 312, stale: 0": counts per state. */
export function counts(samples: Sample[]): string {
  const m = new Map<string, number>();
  for (const s of samples) m.set(s.state, (m.get(s.state) ?? 0) + 1);
  return [...m].map(([k, n]) => `${k}: ${n}`).join(', ');
}
/** "+0.0 s stale (reads 41), +6.1 s read, +6.2 s reviving, …": when the window read and what it showed, from `from`. */
export function timeline(samples: RowSample[], from: number): string {
  const out: string[] = [];
  samples.forEach((s, i) => {
    const p = samples[i - 1];
    const at = `${((s.at - from) / 1000).toFixed(1)} s`;
    if (!p || p.state !== s.state) out.push(`${at} ${s.state} (reads ${s.reads})`);
    else if (p.reads !== s.reads) out.push(`${at} read`);
    if (p && p.instanceId !== s.instanceId) out.push(`${at} row ${s.instanceId}`);
  });
  return out.join(', ');
}
export const firstAt = (samples: Sample[], state: string) => samples.find((s) => s.state === state)?.at ?? null;

/** REVIVAL_BOUND_MS and TRANSITIONAL_READ_MS of src/domain/heartbeat.ts: the bound and the read cadence while reviving. */
export const REVIVAL_BOUND_MS = 30_000;
export const TRANSITIONAL_READ_MS = 10_000;

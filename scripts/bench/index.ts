// `npm run bench` (after `npm run package && npm run compile`): measures EHG Telemetry against its
// performance targets on the local backend (devkit/stack) and a real VS Code (code-server + Chromium).
// Prints a table; with `-- --json`, prints one JSON object of named figures on stdout instead (progress
// goes to stderr). A missed target is printed as MISS; the exit code is 0 unless the bench itself failed.
//
// Options: --json; --quick (short idle windows, 2 loads, 200 cycles, scale up to 100k: a smoke run,
// not a measurement); --sections=size,editor,memory,scale,evidence (default: all); `activation` alone runs only the
// editor section's activation loads (and session start), without its idle windows; `evidence` is the
// drill-down's evidence query at 1M workflow_trace_log spans (100k with --quick).
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, ensureCodeServer } from '../../devkit/codeServer';
import { startStack, Stack } from '../../devkit/stack';
import { measureAtScale, QUERY_NAMES, ScaleResult } from './db';
import {
  editorSession,
  EditorFigures,
  firstLine,
  launchBrowser,
  NAIVE_SCALED_MS,
  REAL_SCHEDULER_INTERVAL_MS,
  SCHEDULER_INTERVAL_MS,
} from './editor';
import { memorySession, MemoryFigures } from './memory';
import { EvidenceFigures, measureEvidence } from './evidence';
import type { HeapCurve } from './inhost/shared';
import { log, onCleanup, releaseAll, round, setQuiet } from './util';

const args = process.argv.slice(2);
const JSON_OUT = args.includes('--json');
const QUICK = args.includes('--quick');
const sectionsArg = args.find((a) => a.startsWith('--sections='));
// The long heap curve (pooled vs naive fetch, in the host): 10,000 cycles each; --curve-cycles=N to change, 0 to skip.
const curveArg = args.find((a) => a.startsWith('--curve-cycles='));
const CURVE_CYCLES = curveArg ? Number(curveArg.slice('--curve-cycles='.length)) : QUICK ? 500 : 10_000;
if (!Number.isInteger(CURVE_CYCLES) || CURVE_CYCLES < 0) throw new Error(`--curve-cycles must be a whole number ≥ 0`);
const SECTIONS = new Set(
  sectionsArg ? sectionsArg.slice('--sections='.length).split(',') : ['size', 'editor', 'memory', 'scale', 'evidence'],
);
setQuiet(JSON_OUT);

type Row = { figure: string; value: string; target: string; verdict: 'PASS' | 'MISS' | '' };

async function main(): Promise<void> {
  const t0 = Date.now();
  const figures: Record<string, unknown> = {};
  const rows: Row[] = [];
  const row = (figure: string, value: string, target = '', pass?: boolean) =>
    rows.push({ figure, value, target, verdict: pass === undefined ? '' : pass ? 'PASS' : 'MISS' });
  // A figure (or a whole section) the run could not get: said in the table with why, and the run goes on.
  const notMeasured = (what: string, e: unknown) => {
    const why = e === null ? '' : firstLine(e);
    log(`not measured: ${what}${why ? ` — ${why}` : ''}`);
    rows.push({ figure: `NOT MEASURED: ${what}`, value: why, target: '', verdict: 'MISS' });
    ((figures.not_measured ??= []) as string[]).push(why ? `${what}: ${why}` : what);
  };

  // ---- 2. size -----------------------------------------------------------------------------
  if (SECTIONS.has('size')) {
    const bundle = path.join(REPO_ROOT, 'dist', 'extension.js');
    const app = path.join(REPO_ROOT, 'dist', 'app.js');
    const vsix = path.join(REPO_ROOT, 'ehg-telemetry.vsix');
    for (const f of [bundle, app, vsix])
      if (!fs.existsSync(f)) throw new Error(`${f} is missing (run \`npm run package\`)`);
    figures.bundle_kb = round(fs.statSync(bundle).size / 1024, 1);
    figures.app_bundle_kb = round(fs.statSync(app).size / 1024, 1);
    figures.vsix_kb = round(fs.statSync(vsix).size / 1024, 1);
    row(
      'dist/extension.js (minified): loaded at activation',
      `${figures.bundle_kb} KB`,
      '≤ 300 KB',
      (figures.bundle_kb as number) <= 300,
    );
    row('dist/app.js (minified): the wiring, one tick after activate()', `${figures.app_bundle_kb} KB`, 'report');
    row('VSIX', `${figures.vsix_kb} KB`, 'report');
  }

  // ---- the backend ---------------------------------------------------------------------------
  log('starting the local stack (PostgreSQL + PostgREST + edge + scheduler simulator)');
  const stack: Stack = await startStack({ explainLog: true, scheduler: { intervalMs: SCHEDULER_INTERVAL_MS } });
  onCleanup('stack', () => stack.stop());

  const needEditor = SECTIONS.has('editor') || SECTIONS.has('activation') || SECTIONS.has('memory');
  const browser = needEditor ? (ensureCodeServer((l) => log(`[install] ${l}`)), await launchBrowser()) : null;

  // ---- 1, 3, 4 in the editor -----------------------------------------------------------------
  let editor: EditorFigures | null = null;
  if ((SECTIONS.has('editor') || SECTIONS.has('activation')) && browser) {
    const s = QUICK ? 1_000 : 1;
    editor = await editorSession(stack, browser, {
      loads: QUICK ? 2 : 9,
      idle: SECTIONS.has('editor'),
      windows: QUICK
        ? { visible: 10 * s, hidden: 10 * s, unfocused: 15 * s, erroring: 25 * s }
        : { visible: 30_000, hidden: 30_000, unfocused: 60_000, erroring: 80_000 },
    }).catch((e: unknown) => {
      notMeasured('the editor section (activation, session start, idle requests)', e);
      return null;
    });
  }
  if (editor) {
    const a = editor.activation;
    Object.assign(figures, {
      activation_ratio: a.ratio,
      activation_ours_ms_median: a.oursMedianMs,
      activation_hello_world_ms_median: a.helloMedianMs,
      activation_ours_ms: a.oursMs,
      activation_hello_world_ms: a.helloMs,
      activation_ready_ours_ms_median: a.readyOursMedianMs,
      activation_ready_hello_world_ms_median: a.readyHelloMedianMs,
      activation_ready_ours_ms: a.readyOursMs,
      activation_ready_hello_world_ms: a.readyHelloMs,
      activation_load_ours_ms_median: a.loadOursMedianMs,
      activation_load_hello_world_ms_median: a.loadHelloMedianMs,
      requests_before_activate_returned: a.requestsBeforeActivateReturned,
      first_request_after_activate_ms_min: a.firstRequestMarginsMs.length ? Math.min(...a.firstRequestMarginsMs) : null,
    });
    // (with no load measured, the NOT MEASURED row says why instead)
    if (a.loads > 0) {
      row(
        'activation, ours / hello-world (code load + activate call, median of loads)',
        `${a.ratio}× (${a.oursMedianMs} ms / ${a.helloMedianMs} ms; loads: ${a.oursMs.join(',')} vs ${a.helloMs.join(',')})`,
        '≤ 1.5×',
        a.ratio <= 1.5,
      );
      row(
        'until active, ours vs hello-world (require + activate() until its promise resolves, incl. what the host ran before the wiring tick; host marks, median)',
        `${a.readyOursMedianMs} ms vs ${a.readyHelloMedianMs} ms (require alone ${a.loadOursMedianMs} vs ${a.loadHelloMedianMs} ms; loads: ${a.readyOursMs.join(',')} vs ${a.readyHelloMs.join(',')})`,
        'report',
      );
      row(
        'requests started before activate() returned (gateway log vs exthost trace)',
        `${a.requestsBeforeActivateReturned} (first request ≥ ${figures.first_request_after_activate_ms_min} ms after)`,
        '0',
        a.requestsBeforeActivateReturned === 0,
      );
    }

    row(
      'activation loads retried (a row or mark that did not appear; bounded to 3 attempts a load)',
      a.retried.length
        ? `${a.retried.length}: ${a.retried.map((r) => `load ${r.load} attempt ${r.attempt} (${r.reason.slice(0, 120)})`).join('; ')}`
        : '0',
      'report',
    );
    figures.activation_loads_retried = a.retried;
    figures.activation_loads_failed = a.failedLoads;
    for (const f of a.failedLoads)
      row(`activation load ${f.load}: no figures after 3 attempts (left out of the medians)`, f.reason, 'report');
    for (const m of a.missing) notMeasured(m, null);

    const ss = editor.sessionStart;
    figures.enqueue_round_trips_editor = ss.roundTripsToInsert;
    figures.enqueue_ms_activation_to_insert_editor = ss.msActivationToInsert;
    row(
      'session start in the editor: sequential round trips to the insert',
      `${ss.roundTripsToInsert} (${ss.chain.map((c) => c.kind).join(', ')}; ${ss.msActivationToInsert} ms after activation)`,
      '≤ 2',
      ss.roundTripsToInsert <= 2,
    );
  }
  if (editor?.idle.length) {
    const [vis, hid, unf, err] = editor.idle;
    const hbPerPoll = round(vis.ours.heartbeat / Math.max(1, vis.schedulerPolls), 3);
    const reduction = round(unf.naiveScaled / Math.max(1, unf.ours.total), 1);
    const reductionReal = round(unf.naiveRealtime / Math.max(1, unf.ours.total), 1);
    const gapsHb = err.gapsMs?.heartbeat ?? [];
    const gapsList = err.gapsMs?.list ?? [];
    const growing = (g: number[]) => g.length >= 2 && g.every((x, i) => i === 0 || x >= 1.5 * g[i - 1]);
    Object.assign(figures, {
      heartbeat_reads_per_write_focused: hbPerPoll,
      scheduler_writes_focused: vis.schedulerPolls,
      list_reads_while_hidden: hid.ours.list,
      unfocused_reduction_x: reduction,
      unfocused_reduction_x_realtime_naive: reductionReal,
      naive_scaled_interval_ms: NAIVE_SCALED_MS,
      scheduler_interval_ms: SCHEDULER_INTERVAL_MS,
      backoff_gaps_heartbeat_ms: gapsHb,
      backoff_gaps_list_ms: gapsList,
      backoff_exponential: growing(gapsHb) && growing(gapsList),
      focus_method: editor.focusMethod,
      idle: editor.idle,
    });
    for (const c of editor.idle) {
      row(
        `idle: ${c.name} (${round(c.windowMs / 1000, 1)} s, ${c.schedulerPolls} scheduler writes)`,
        `ours ${c.ours.total} (heartbeat ${c.ours.heartbeat}, list ${c.ours.list}, watch ${c.ours.watch}, other ${c.ours.total - c.ours.heartbeat - c.ours.list - c.ours.watch}); naive ${NAIVE_SCALED_MS} ms: ${c.naiveScaled}; naive 10 s: ${c.naiveRealtime}; ext host focused=${c.focused}`,
      );
    }
    row(
      'heartbeat reads per scheduler write (adaptive simulator, idle: every 3 × base; focused, view visible)',
      `${hbPerPoll} (${vis.ours.heartbeat} reads / ${vis.schedulerPolls} writes)`,
      '≤ 1',
      hbPerPoll <= 1 && vis.schedulerPolls >= 3 && vis.focused === true,
    );
    row('run-list reads while the view is hidden', `${hid.ours.list}`, '0', hid.ours.list === 0);
    row(
      `unfocused: naive (scaled ${NAIVE_SCALED_MS} ms) / ours`,
      `${reduction}×${unf.focused === false ? '' : ' (focus not confirmed!)'}`,
      '≥ 10×',
      reduction >= 10 && unf.focused === false,
    );
    row('unfocused: naive (real-time 10 s, same window) / ours', `${reductionReal}×`, 'report (see notes)');
    row(
      'backoff while erroring: gaps between heartbeat reads (ms)',
      gapsHb.join(', ') || 'none',
      'exponential',
      growing(gapsHb),
    );
    row(
      'backoff while erroring: gaps between list reads (ms)',
      gapsList.join(', ') || 'none',
      'exponential',
      growing(gapsList),
    );
  }

  // ---- the drill-down's evidence query at 1M spans ---------------------------------------------
  if (SECTIONS.has('evidence')) {
    const ev = await measureEvidence(stack, QUICK ? 100_000 : 1_000_000).catch((e: unknown) => {
      notMeasured('the evidence query', e);
      return null;
    });
    if (ev) evidenceRows(ev, figures, row);
  }

  // ---- 5, 6, 4 against the database; 7 in the host ------------------------------------------
  const scales: ScaleResult[] = [];
  let rowsNow = (
    await stack.query<{ n: string }>('select count(*)::bigint as n from public.telemetry_analysis_runs')
  )[0].n;
  const sizes = QUICK ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  let memory: MemoryFigures | null = null;
  for (const target of sizes) {
    if (!SECTIONS.has('scale') && target > 10_000) break;
    const r = await measureAtScale(stack, Number(rowsNow), target, target === sizes[sizes.length - 1]).catch(
      (e: unknown) => {
        notMeasured(`the scale section at ${target.toLocaleString('en')} rows (and above)`, e);
        return null;
      },
    );
    if (!r) break;
    rowsNow = String(r.rows);
    scales.push(r);
    log(
      `scale ${r.rows.toLocaleString('en')} rows: ${[...QUERY_NAMES, 'list_all_scopes', 'list_all_scopes_with_index', 'naive_list_select_star'].map((q) => `${q} ${r.queries[q as keyof typeof r.queries].ms} ms`).join(', ')}`,
    );
    if (target === 10_000 && SECTIONS.has('memory') && browser) {
      memory = await memorySession(stack, browser, QUICK ? 200 : 1_000, CURVE_CYCLES).catch((e: unknown) => {
        notMeasured('the memory section', e);
        return null;
      });
      if (memory)
        log(
          `memory: heap ${round(memory.heapBeforeMb ?? 0, 2)} → ${round(memory.heapAfterMb ?? 0, 2)} MB over ${memory.cycles} cycles`,
        );
    }
  }

  if (scales.length) {
    const top = scales[scales.length - 1];
    const tag = top.rows >= 1_000_000 ? '1m' : `${Math.round(top.rows / 1000)}k`;
    const mine = QUERY_NAMES.map((q) => top.queries[q]);
    figures[`max_query_ms_at_${tag}`] = Math.max(...mine.map((q) => q.ms));
    figures[`seq_scans_at_${tag}`] = mine.filter((q) => !q.usesIndex).length;
    figures[`seq_scans_runs_table_at_${tag}`] = QUERY_NAMES.filter((q) => q !== 'heartbeat').filter(
      (q) => !top.queries[q].usesIndex,
    ).length;
    figures.enqueue_round_trips = top.enqueue.roundTripsToInsert;
    figures.enqueue_ms_to_insert = top.enqueue.msToInsert;
    figures.enqueue_ms_total_with_convergence = top.enqueue.msTotal;
    figures.plain_request_ms = top.enqueue.plainRequestMs;
    figures.enqueue_vs_plain_request_x = round(top.enqueue.msToInsert / top.enqueue.plainRequestMs, 2);
    const list = top.queries.list_workspace;
    const heads = top.queries.list_heads;
    const naive = top.queries.naive_list_select_star;
    // The first refresh reads the list and the heads; later ones the list alone (heads are kept).
    figures.bytes_per_row = round((list.responseBytes + heads.responseBytes) / Math.max(1, list.rowsReturned), 1);
    figures.bytes_per_row_warm_refresh = round(list.responseBytes / Math.max(1, list.rowsReturned), 1);
    figures.bytes_per_row_select_star = round(naive.responseBytes / Math.max(1, naive.rowsReturned), 1);
    figures.list_response_bytes = list.responseBytes;
    figures.list_response_bytes_select_star = naive.responseBytes;
    for (const s of scales) {
      const t = s.rows >= 1_000_000 ? '1m' : `${Math.round(s.rows / 1000)}k`;
      for (const [q, v] of Object.entries(s.queries)) {
        figures[`query_ms_${q}_${t}`] = v.ms;
        figures[`query_index_${q}_${t}`] =
          v.indexes.join('+') || (v.seqScans.length ? `Seq Scan on ${v.seqScans.join(',')}` : 'none');
      }
      figures[`generate_ms_${t}`] = s.generateMs;
    }
    figures.query_sql = Object.fromEntries(Object.entries(top.queries).map(([q, v]) => [q, v.sql]));
    figures.query_plan = Object.fromEntries(Object.entries(top.queries).map(([q, v]) => [q, v.plan]));
    for (const [q, v] of Object.entries(top.queries))
      log(`plan at ${top.rows.toLocaleString('en')} rows, ${q} (${v.ms} ms):\n    ${v.plan.join('\n    ')}`);

    for (const q of [
      ...QUERY_NAMES,
      'list_all_scopes',
      'list_all_scopes_with_index',
      'naive_list_select_star',
    ] as const) {
      const curve = scales.map((s) => `${s.queries[q].ms}`).join(' → ');
      const v = top.queries[q];
      const own = (QUERY_NAMES as readonly string[]).includes(q);
      row(
        `query ${q}: server ms at ${scales.map((s) => s.rows.toLocaleString('en')).join(' / ')} rows`,
        `${curve} ms; ${v.indexes.length ? `index ${v.indexes.join('+')}` : ''}${v.seqScans.length ? ` SEQ SCAN ${v.seqScans.join(',')}` : ''}; ${v.rowsReturned} rows, ${v.sharedHit + v.sharedRead} buffers`,
        own ? '≤ 5 ms at 1M, index' : 'report',
        own ? v.ms <= 5 && v.usesIndex : undefined,
      );
    }
    figures.workspace_scope_runs = top.workspaceScopeRuns;
    row(
      `This Workspace list: runs in the measured scope (each one read and sorted)`,
      `${top.workspaceScopeRuns.toLocaleString('en')} of ${top.rows.toLocaleString('en')}`,
      'report',
    );
    if (top.busy) {
      const b = top.busy;
      figures.query_ms_list_busy_workspace = b.list.ms;
      figures.query_ms_list_busy_workspace_with_index = b.listWithIndex.ms;
      for (const [label, v] of [
        ['contract indexes', b.list],
        ['recommended scope index', b.listWithIndex],
      ] as const)
        row(
          `This Workspace list, a workspace with ${b.scopeRuns.toLocaleString('en')} runs, ${label}`,
          `${v.ms} ms; index ${v.indexes.join('+') || 'none'}${v.seqScans.length ? ` SEQ SCAN ${v.seqScans.join(',')}` : ''}; ${v.sharedHit + v.sharedRead} buffers`,
          'report',
        );
      log(`plan, busy workspace, contract indexes (${b.list.ms} ms):\n    ${b.list.plan.join('\n    ')}`);
      log(`plan, busy workspace, scope index (${b.listWithIndex.ms} ms):\n    ${b.listWithIndex.plan.join('\n    ')}`);
    }
    row(
      `max of the extension's queries at ${top.rows.toLocaleString('en')} rows`,
      `${figures[`max_query_ms_at_${tag}`]} ms`,
      '≤ 5 ms',
      (figures[`max_query_ms_at_${tag}`] as number) <= 5,
    );
    row(
      `queries not using an index at ${top.rows.toLocaleString('en')} rows`,
      `${figures[`seq_scans_at_${tag}`]} (runs table: ${figures[`seq_scans_runs_table_at_${tag}`]})`,
      '0',
      figures[`seq_scans_at_${tag}`] === 0,
    );
    row(
      'session start (enqueueRun, new scope): sequential round trips to the insert',
      `${top.enqueue.roundTripsToInsert} (${top.enqueue.requestsToInsert} requests)`,
      '≤ 2',
      top.enqueue.roundTripsToInsert <= 2,
    );
    row(
      'session start wall time to the insert vs one plain request',
      `${top.enqueue.msToInsert} ms vs ${top.enqueue.plainRequestMs} ms = ${figures.enqueue_vs_plain_request_x}× (with convergence: ${top.enqueue.msTotal} ms)`,
      'report',
    );
    row(
      'bytes per run row in a tree refresh (first: list + heads)',
      `${figures.bytes_per_row} B ((${list.responseBytes} + ${heads.responseBytes}) B / ${list.rowsReturned} rows); nothing new: ${figures.bytes_per_row_warm_refresh} B`,
      '≤ 1024 B',
      (figures.bytes_per_row as number) <= 1024,
    );
    row(
      'bytes per run row with select=*',
      `${figures.bytes_per_row_select_star} B (${naive.responseBytes} B / ${naive.rowsReturned} rows)`,
      'report',
    );
  }

  if (memory) {
    const timersBefore = memory.resourcesBefore?.Timeout ?? 0;
    const timersAfter = memory.resourcesAfter?.Timeout ?? 0;
    const totalBefore = Object.values(memory.resourcesBefore ?? {}).reduce((a, b) => a + b, 0);
    const totalAfter = Object.values(memory.resourcesAfter ?? {}).reduce((a, b) => a + b, 0);
    Object.assign(figures, {
      heap_growth_mb: memory.heapGrowthMb,
      heap_before_mb: round(memory.heapBeforeMb ?? NaN, 2),
      heap_after_mb: round(memory.heapAfterMb ?? NaN, 2),
      gc_exposed: memory.gcExposed,
      refresh_cycles: memory.cycles,
      refresh_cycle_ms_median: round(memory.cycleMsMedian ?? NaN, 2),
      timers_before: timersBefore,
      timers_after: timersAfter,
      active_resources_before: memory.resourcesBefore,
      active_resources_after: memory.resourcesAfter,
      heap_curve_mb: memory.heapCurveMb?.map((p) => ({ cycle: p.cycle, mb: round(p.mb, 2) })),
      heap_growth_runs_only_mb: round(memory.heapGrowthRunsOnlyMb ?? NaN, 2),
      heap_growth_heartbeat_only_mb: round(memory.heapGrowthHeartbeatOnlyMb ?? NaN, 2),
      requests_at_activate_inhost: memory.requestsAtActivate,
      gateway_requests_before_activate_inhost: memory.gatewayRequestsBeforeActivate,
      heap_owners_before: memory.heapOwnersBefore,
      heap_owners_after: memory.heapOwnersAfter,
      heap_after_idle_mb: round(memory.heapAfterIdleMb ?? NaN, 2),
      heap_growth_after_idle_mb: round((memory.heapAfterIdleMb ?? NaN) - (memory.heapBeforeMb ?? NaN), 2),
      heap_idle_wait_ms: memory.idleWaitMs,
    });
    const curveFigures = (c: HeapCurve | undefined) =>
      c && {
        cycles: c.points[c.points.length - 1]?.cycle,
        slope_last_80pct_kb_per_1000_cycles: round(c.slopeKbPer1000, 1),
        growth_mb: round(c.points[c.points.length - 1].mb - c.points[0].mb, 2),
        cycle_ms_median: round(c.cycleMsMedian, 2),
        points_mb: c.points.map((p) => ({ cycle: p.cycle, mb: round(p.mb, 2) })),
      };
    if (memory.curvePooled) figures.heap_curve_long = curveFigures(memory.curvePooled);
    if (memory.curveNaive) figures.heap_curve_long_naive = curveFigures(memory.curveNaive);
    row(
      `extension-host heap growth over ${memory.cycles} refresh cycles (after GC)`,
      `${memory.heapGrowthMb} MB (${round(memory.heapBeforeMb ?? 0, 2)} → ${round(memory.heapAfterMb ?? 0, 2)} MB; GC ${memory.gcExposed ? 'forced' : 'NOT exposed'}; ${memory.requestsDuringCycles} requests)`,
      '≤ 5 MB',
      memory.heapGrowthMb <= 5 && (memory.requestsDuringCycles ?? 0) >= (memory.cycles ?? 1),
    );
    row(
      'heap after GC along the run (cycle: MB)',
      (memory.heapCurveMb ?? []).map((p) => `${p.cycle}: ${round(p.mb, 1)}`).join(', '),
      'report',
    );
    const ob = memory.heapOwnersBefore,
      oa = memory.heapOwnersAfter;
    if (ob && oa) {
      const d = (x: number) => `${x >= 0 ? '+' : ''}${round(x, 2)} MB`;
      row(
        `heap growth by owner (V8 heap snapshots, cycle 0 → ${memory.cycles})`,
        `undici connection pools (VS Code's fetch patch: a new Agent per fetch, kept by its idle keep-alive socket) ${d(oa.undiciConnectionsMb - ob.undiciConnectionsMb)} (${ob.undiciAgents} → ${oa.undiciAgents} Agents, ${ob.undiciSockets} → ${oa.undiciSockets} sockets); V8 compiled code ${d(oa.v8CodeMb - ob.v8CodeMb)}; everything else (the extension, VS Code's API objects, …) ${d(oa.restMb - ob.restMb)} (${round(ob.restMb, 2)} → ${round(oa.restMb, 2)} MB)`,
        'report',
      );
    }
    if (memory.heapAfterIdleMb !== undefined) {
      const idleGrowth = round(memory.heapAfterIdleMb - (memory.heapBeforeMb ?? NaN), 2);
      row(
        `heap after GC ${(memory.idleWaitMs ?? 0) / 1000} s after the last request (idle sockets closed)`,
        `${round(memory.heapAfterIdleMb, 2)} MB (${idleGrowth} MB vs cycle 0)`,
        '≤ 5 MB growth',
        idleGrowth <= 5,
      );
    }
    for (const [label, c] of [
      ['extension fetch (one keep-alive pool per backend)', memory.curvePooled],
      ["naive: the host's global fetch (a new undici Agent per call)", memory.curveNaive],
    ] as const) {
      if (!c) continue;
      const last = c.points[c.points.length - 1];
      row(
        `heap along ${last.cycle} data-layer cycles, ${label}: slope of the last 80 %`,
        `${round(c.slopeKbPer1000, 1)} KB / 1,000 cycles (${round(c.points[0].mb, 1)} → ${round(last.mb, 1)} MB; ${round(c.cycleMsMedian, 1)} ms a cycle)`,
        c === memory.curvePooled ? 'flat (|slope| ≤ 100 KB / 1,000)' : 'report',
        c === memory.curvePooled ? Math.abs(c.slopeKbPer1000) <= 100 : undefined,
      );
    }
    row(
      `heap growth, ${(memory.cycles ?? 0) / 2} calls of one refresh alone`,
      `refreshRuns ${figures.heap_growth_runs_only_mb} MB, refreshHeartbeat ${figures.heap_growth_heartbeat_only_mb} MB`,
      'report',
    );
    row(
      'active timers in the extension host before → after',
      `${timersBefore} → ${timersAfter}`,
      'no growth',
      timersAfter <= timersBefore,
    );
    row(
      'active handles/requests (all kinds) before → after',
      `${totalBefore} → ${totalAfter} (${JSON.stringify(memory.resourcesAfter)})`,
      'no growth',
      totalAfter <= totalBefore,
    );
    row(
      'requests counted by the extension when activate() resolved (in-host)',
      `${memory.requestsAtActivate} (gateway: ${memory.gatewayRequestsBeforeActivate} before; first ${memory.firstRequestAfterActivateMs} ms after)`,
      '0',
      memory.requestsAtActivate === 0 && memory.gatewayRequestsBeforeActivate === 0,
    );
  }

  figures.scale = {
    real_scheduler_interval_ms: REAL_SCHEDULER_INTERVAL_MS,
    compressed_scheduler_interval_ms: SCHEDULER_INTERVAL_MS,
  };
  figures.misses = rows.filter((r) => r.verdict === 'MISS').map((r) => r.figure);
  figures.bench_seconds = round((Date.now() - t0) / 1000, 1);
  figures.quick = QUICK;

  // The table always; with --json it goes to stderr and stdout carries only the JSON object.
  const print = (line: string) => (JSON_OUT ? process.stderr : process.stdout).write(`${line}\n`);
  printTable(rows, print);
  print(
    `\n${(figures.misses as string[]).length} target(s) missed; bench took ${figures.bench_seconds} s${QUICK ? ' (--quick: smoke run, not a measurement)' : ''}`,
  );
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function evidenceRows(
  ev: EvidenceFigures,
  figures: Record<string, unknown>,
  row: (figure: string, value: string, target?: string, pass?: boolean) => void,
): void {
  const tag = ev.spans >= 1_000_000 ? '1m' : `${Math.round(ev.spans / 1000)}k`;
  const describe = (q: EvidenceFigures['evidence']) =>
    `${q.ms} ms; ${q.indexes.length ? `index ${q.indexes.join('+')}` : ''}${q.seqScans.length ? ` SEQ SCAN ${q.seqScans.join(',')}` : ''}; ${q.rowsReturned} rows, ${q.responseBytes} B, ${q.sharedHit + q.sharedRead} buffers`;
  const at = `${ev.spans.toLocaleString('en')} spans`;
  row(
    `query evidence_spans (5 trace ids, one gate): server ms at ${at}`,
    describe(ev.evidence),
    '≤ 5 ms at 1M, index',
    ev.evidence.ms <= 5 && ev.evidence.usesIndex,
  );
  row(`  naive: same traces, select=*, gate filtered client-side, at ${at}`, describe(ev.naiveClientFilter), 'report');
  row(
    `  naive: same request without ${'idx_workflow_trace_log_trace_id'}, at ${at}`,
    describe(ev.withoutTraceIndex),
    'report',
  );
  log(`evidence plan at ${at} (${ev.evidence.ms} ms):\n    ${ev.evidence.plan.join('\n    ')}`);
  log(
    `evidence plan without the trace_id index (${ev.withoutTraceIndex.ms} ms):\n    ${ev.withoutTraceIndex.plan.join('\n    ')}`,
  );
  Object.assign(figures, {
    [`query_ms_evidence_spans_${tag}`]: ev.evidence.ms,
    [`query_index_evidence_spans_${tag}`]: ev.evidence.indexes.join('+') || 'none',
    [`evidence_response_bytes_${tag}`]: ev.evidence.responseBytes,
    [`query_ms_evidence_naive_select_star_${tag}`]: ev.naiveClientFilter.ms,
    [`evidence_naive_select_star_response_bytes_${tag}`]: ev.naiveClientFilter.responseBytes,
    [`query_ms_evidence_without_trace_index_${tag}`]: ev.withoutTraceIndex.ms,
    [`generate_ms_evidence_spans_${tag}`]: ev.generateMs,
    evidence_query_sql: ev.evidence.sql,
  });
}

function printTable(rows: Row[], print: (line: string) => void): void {
  const w0 = Math.min(90, Math.max(...rows.map((r) => r.figure.length)));
  const w2 = Math.max(...rows.map((r) => r.target.length));
  print('');
  for (const r of rows) print(`${r.verdict.padEnd(4)}  ${r.figure.padEnd(w0)}  ${r.target.padEnd(w2)}  ${r.value}`);
}

let exiting = false;
async function exit(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    await releaseAll();
  }
  process.exit(code);
}
process.on('SIGINT', () => {
  log('interrupted');
  void exit(130);
});
process.on('SIGTERM', () => {
  log('terminated');
  void exit(143);
});
main().then(
  () => exit(0),
  (err) => {
    // The reason, not a stack: every figure measured so far was already logged above.
    log(`bench stopped: ${firstLine(err)}`);
    void exit(1);
  },
);

// triggered_at ≤ started_at ≤ finished_at on every row we write — claim, finish, cancel, orphan —
// when our estimate of the server clock is wrong both ways. The estimate comes from the HTTP Date
// header (whole seconds); here the header itself is skewed by ±5 s (a backend whose gateway clock
// is off, or simply the truncation at its worst), and each path is checked on the real row, by
// PostgreSQL, to the microsecond.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { enqueueAndExecute } from '../../src/analysis/executeRun';
import { enqueueRun } from '../../src/data/enqueueRun';
import { finishRunWithRetry } from '../../src/data/lifecycleWrites';
import { markOrphanedRuns } from '../../src/data/orphans';
import type { SupabaseBackend } from '../../src/data/supabaseBackend';
import { finishFromFailure, RunnerInfo } from '../../src/domain/analysisRun';
import { REASON_CANCELLED_FROM_EDITOR } from '../../src/domain/run';
import { startStack, Stack } from '../../devkit/stack';
import { analysisContext, makeFixtureWorkspace, sessionRequest, tmpRoot } from './support/analysis';
import { TestBackends } from './support/backends';

const SKEWS_MS = [-5_000, 5_000];

/** fetch whose answers carry a Date header moved by `skewMs` (the backend's clock offset follows it). */
function skewedFetch(skewMs: number): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const headers = new Headers(res.headers);
    const date = res.headers.get('date');
    if (date) headers.set('date', new Date(Date.parse(date) + skewMs).toUTCString());
    const body = res.status === 204 || res.status === 304 ? null : await res.arrayBuffer();
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

interface Row {
  run_id: string;
  status: string;
  triggered_at: string;
  started_at: string | null;
  finished_at: string | null;
  ordered: boolean;
  /** finished_at - started_at = duration_ms (to the millisecond), as the hook writes them; null: not finished. */
  duration_matches: boolean | null;
  duration_ms: number | null;
}

describe('run timestamps are ordered on every path we write, with the clock estimate skewed both ways (real stack)', function () {
  this.timeout(300_000);
  let stack: Stack;
  let root: string;
  const backends = new TestBackends(() => stack, 'timestamps');
  const backend = (skewMs: number) => backends.create({ baseFetch: skewedFetch(skewMs) });
  /** Reads the row and, in SQL, whether triggered_at ≤ started_at ≤ finished_at (nulls skipped). */
  const row = async (runId: string): Promise<Row> => {
    const rows = await stack.query<Row>(
      `select run_id, status, triggered_at::text, started_at::text, finished_at::text,
              (started_at is null or triggered_at <= started_at)
          and (finished_at is null or triggered_at <= finished_at)
          and (finished_at is null or started_at is null or started_at <= finished_at) as ordered,
              abs(extract(epoch from finished_at - started_at) * 1000 - duration_ms) <= 1 as duration_matches,
              duration_ms
         from public.telemetry_analysis_runs where run_id = $1`,
      [runId],
    );
    assert.equal(rows.length, 1, `run ${runId} exists`);
    return rows[0];
  };
  /** Primes the backend's clock estimate (a first answer with a Date header), as any earlier request would. */
  const prime = async (b: SupabaseBackend, skewMs: number) => {
    await b.getRunStatus(randomUUID());
    // The estimate is to the second and late by the answer's latency (under load, over a second):
    // it must at least be well on the skewed side.
    const off = b.clockOffsetMs();
    assert.ok(skewMs < 0 ? off < -2_500 : off > 2_500, `offset ${off} follows the skew ${skewMs}`);
  };
  const runner: RunnerInfo = {
    extension: 'ehg-telemetry',
    extension_version: 'test',
    window_id: 'w-ts',
    activation_id: 'a-ts',
    analyzer: 'lib/telemetry/bottleneck-analyzer.js',
  };

  before(async () => {
    stack = await startStack({});
    root = tmpRoot();
  });
  after(async () => {
    backends.disposeAll();
    await stack?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  for (const skew of SKEWS_MS) {
    describe(`clock estimate ${skew > 0 ? '+' : ''}${skew / 1000} s`, () => {
      it('cancel (Cancel Run, no timestamps known to the caller): a queued run just inserted', async () => {
        const b = backend(skew);
        await prime(b, skew);
        const id = randomUUID();
        const ins = await b.insertRun({
          runId: id,
          correlationId: id,
          scopeId: `/ts/cancel-queued${skew}`,
          triggeredBy: 'SESSION_START',
          metadata: sessionRequest('/x').metadata,
        });
        assert.ok(ins.ok);
        const r = await b.cancelRuns([id], REASON_CANCELLED_FROM_EDITOR);
        assert.deepEqual(r.ok && r.value, [id]);
        const got = await row(id);
        assert.equal(got.status, 'CANCELLED');
        assert.ok(got.ordered, JSON.stringify(got));
      });

      it('cancel: a running run whose started_at came from a clock 3 s ahead of the server', async () => {
        const b = backend(skew);
        await prime(b, skew);
        const id = randomUUID();
        await stack.query(
          `insert into public.telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_at, started_at, metadata)
           values ($1, 'workspace', $2, 'RUNNING', now(), now() + interval '3 seconds', '{"timeout_ms":120000}')`,
          [id, `/ts/cancel-running${skew}`],
        );
        const r = await b.cancelRuns([id], REASON_CANCELLED_FROM_EDITOR, ['RUNNING']);
        assert.deepEqual(r.ok && r.value, [id]);
        const got = await row(id);
        assert.equal(got.status, 'CANCELLED');
        assert.ok(got.ordered, JSON.stringify(got));
      });

      for (const holdMs of [0, 1_500]) {
        it(`claim, ${holdMs ? `held ${holdMs} ms for the CLI hook, ` : ''}then finish by the real analysis process: duration_ms = finished_at - started_at`, async () => {
          const b = backend(skew);
          await prime(b, skew);
          const folder = makeFixtureWorkspace(root, `ts-claim${skew}-${holdMs}`, 'no-findings');
          const r = await enqueueAndExecute(
            b,
            sessionRequest(folder, 120_000, { hookHoldMs: holdMs }),
            analysisContext({ url: stack.url, key: stack.keys.serviceRole, folder, log: () => undefined }),
          );
          assert.equal(r.outcome.kind, 'enqueued', JSON.stringify(r.outcome));
          const end = await r.execution!.done;
          assert.equal(end.status, 'SUCCEEDED');
          const got = await row(r.execution!.runId);
          assert.equal(got.status, 'SUCCEEDED');
          assert.ok(got.started_at && got.finished_at);
          assert.ok(got.ordered, JSON.stringify(got));
          assert.equal(got.duration_matches, true, JSON.stringify(got));
          // The hold is part of the run's duration (started_at is the claim's).
          if (holdMs) assert.ok(got.duration_ms! >= holdMs - 500, JSON.stringify(got));
        });
      }

      it('claim, then a finish row computed on the skewed clock itself', async () => {
        const b = backend(skew);
        await prime(b, skew);
        const scope = `/ts/claim-finish${skew}`;
        const out = await enqueueRun(b, {
          ...sessionRequest(scope, 120_000, { hookHoldMs: 0 }),
          execute: { prepare: () => Promise.resolve({ ok: true as const, runner }) },
        });
        assert.equal(out.kind, 'enqueued', JSON.stringify(out));
        if (out.kind !== 'enqueued' || !out.claim) throw new Error('not claimed');
        let got = await row(out.runId);
        assert.equal(got.status, 'RUNNING');
        assert.ok(got.ordered, `claim: ${JSON.stringify(got)}`);
        // A writer whose clock is behind the claim (it ran only 10 ms, but its clock says 5 s earlier).
        const fields = finishFromFailure(
          { kind: 'error', errorClass: 'Error', message: 'x' },
          out.claim.startedAt.getTime(),
          Date.now() + b.clockOffsetMs() - 5_000,
        );
        const fin = await finishRunWithRetry(b, out.runId, fields);
        assert.ok(fin.ok && fin.value);
        got = await row(out.runId);
        assert.equal(got.status, 'FAILED');
        assert.ok(got.ordered, `finish: ${JSON.stringify(got)}`);
      });

      it('orphan: marked TIMED_OUT after its own triggered_at and started_at', async () => {
        const b = backend(skew);
        await prime(b, skew);
        const scope = `/ts/orphan${skew}`;
        const ids = [randomUUID(), randomUUID()];
        // One as the hook leaves it (killed mid-analysis), one whose started_at came from a clock ahead.
        await stack.query(
          `insert into public.telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_at, started_at, metadata) values
             ($1, 'workspace', $3, 'RUNNING', now() - interval '30 seconds', now() - interval '29 seconds', '{"timeout_ms":1000}'),
             ($2, 'workspace', $3, 'RUNNING', now() - interval '30 seconds', now() - interval '12 seconds', '{"timeout_ms":1000}')`,
          [ids[0], ids[1], scope],
        );
        const r = await markOrphanedRuns(b, [scope], 1_000);
        assert.ok(r.ok, JSON.stringify(r));
        assert.deepEqual(new Set(r.ok ? r.marked : []), new Set(ids));
        for (const id of ids) {
          const got = await row(id);
          assert.equal(got.status, 'TIMED_OUT');
          assert.ok(got.ordered, JSON.stringify(got));
        }
      });
    });
  }
});

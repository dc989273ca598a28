// The data behind "what changed since the last run" and "Bottleneck Trends": the row's top
// bottleneck from the list query, the previous SUCCEEDED run of a scope and the last N of them,
// against real PostgreSQL + PostgREST 12.0.2 + supabase-js.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SupabaseBackend } from '../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../src/domain/credentials';
import { compareRuns, parseBottleneckList } from '../../src/domain/runComparison';
import { startStack, Stack } from '../../devkit/stack';

const HOUR = 3_600_000;

function backendFor(stack: Stack, key: string): SupabaseBackend {
  const c = checkProjectUrl(stack.url);
  if (!c.ok) throw new Error(c.message);
  return new SupabaseBackend({
    url: c.url,
    origin: c.origin,
    key,
    timeoutMs: 5_000,
    clientInfo: 'ehg-telemetry-tests',
  });
}

const bn = (type: string, key: string, ratio: number) => ({
  dimension_type: type,
  dimension_key: key,
  ratio,
  observed_p50_ms: ratio * 1000,
  baseline_p50_ms: 1000,
  sample_count: 5,
});

describe('comparison and trend data against the local stack', function () {
  this.timeout(120_000);
  let stack: Stack;
  let anon: SupabaseBackend;
  const t0 = Date.now() - 48 * HOUR;

  async function insert(row: Record<string, unknown>): Promise<string> {
    const runId = randomUUID();
    const full: Record<string, unknown> = { run_id: runId, scope_type: 'workspace', ...row };
    const cols = Object.keys(full);
    await stack.query(
      `insert into public.telemetry_analysis_runs (${cols.join(',')}) values (${cols.map((_, i) => `$${i + 1}`).join(',')})`,
      cols.map((c) => full[c]),
    );
    return runId;
  }
  const at = (h: number) => new Date(t0 + h * HOUR);

  before(async () => {
    stack = await startStack({});
    anon = backendFor(stack, stack.keys.anon);
  });
  after(async () => {
    anon?.dispose();
    await stack?.stop();
  });
  beforeEach(async () => {
    await stack.query('delete from public.telemetry_analysis_runs');
    stack.gateway.clearLog();
  });

  it('the list query carries the first stored bottleneck (type, key, ratio) without output_ref', async () => {
    const id = await insert({
      scope_id: '/w',
      status: 'SUCCEEDED',
      finished_at: at(1),
      top_bottleneck_category: 'gate',
      output_ref: { bottlenecks: [bn('gate', 'GATE_PRD_REQUIRED', 3.2), bn('phase', 'LEAD', 2)], traces_scanned: 10 },
    });
    const other = await insert({
      scope_id: '/w',
      status: 'SUCCEEDED',
      finished_at: at(2),
      output_ref: JSON.stringify('not an object'),
    });
    const page = await anon.listRuns({ kind: 'workspace', scopeIds: ['/w'] }, 0, 10);
    assert.ok(page.ok, JSON.stringify(page));
    assert.deepEqual(page.value.runs.find((r) => r.runId === id)?.topBottleneck, {
      dimensionType: 'gate',
      dimensionKey: 'GATE_PRD_REQUIRED',
      ratio: 3.2,
    });
    assert.equal(page.value.runs.find((r) => r.runId === other)?.topBottleneck, null);
  });

  it('getPreviousSucceeded: the last SUCCEEDED run of the same scope before the given time, skipping failed runs and other scopes', async () => {
    const older = await insert({
      scope_id: '/w',
      status: 'SUCCEEDED',
      finished_at: at(1),
      output_ref: { bottlenecks: [bn('gate', 'A', 2)], traces_scanned: 5 },
    });
    const prev = await insert({
      scope_id: '/w',
      status: 'SUCCEEDED',
      finished_at: at(2),
      output_ref: { bottlenecks: [bn('gate', 'A', 3.2), bn('phase', 'LEAD', 2)], traces_scanned: 5 },
    });
    await insert({ scope_id: '/w', status: 'FAILED', finished_at: at(3), error_class: 'DatabaseError' });
    await insert({ scope_id: '/other', status: 'SUCCEEDED', finished_at: at(3.5), output_ref: { bottlenecks: [] } });
    await insert({
      scope_id: null,
      scope_type: 'global',
      status: 'SUCCEEDED',
      finished_at: at(3.6),
      output_ref: { bottlenecks: [] },
    });
    await insert({
      scope_id: '/w',
      scope_type: 'user',
      status: 'SUCCEEDED',
      finished_at: at(3.7),
      output_ref: { bottlenecks: [] },
    });
    const current = await insert({
      scope_id: '/w',
      status: 'SUCCEEDED',
      finished_at: at(4),
      output_ref: { bottlenecks: [bn('gate', 'A', 4), bn('subagent', 'DESIGN', 5)] },
    });

    const res = await anon.getPreviousSucceeded({ scopeType: 'workspace', scopeId: '/w' }, at(4));
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.value?.runId, prev);
    assert.deepEqual(
      res.value?.bottlenecks.map((b) => `${b.dimensionType}:${b.dimensionKey}:${b.ratio}`),
      ['gate:A:3.2', 'phase:LEAD:2'],
    );

    const cur = parseBottleneckList({ bottlenecks: [bn('gate', 'A', 4), bn('subagent', 'DESIGN', 5)] });
    const c = compareRuns(cur, res.value);
    assert.ok(c.kind === 'compared');
    assert.deepEqual(c.counts, { new: 1, worse: 1, better: 0, unchanged: 0, resolved: 1 });

    const first = await anon.getPreviousSucceeded({ scopeType: 'workspace', scopeId: '/w' }, at(1));
    assert.ok(first.ok && first.value === null, 'the oldest run has no predecessor');
    assert.ok(older && current);
    // One request each, selecting only the bottlenecks and traces_scanned of output_ref.
    const gets = stack.gateway.requestLog.filter((r) => r.method === 'GET' && r.query.includes('status=eq.SUCCEEDED'));
    assert.equal(gets.length, 2);
    const select = decodeURIComponent(new URLSearchParams(gets[0].query).get('select') ?? '');
    assert.ok(!select.split(',').includes('output_ref'), select);
  });

  it('global runs compare with global runs only', async () => {
    const g1 = await insert({
      scope_id: null,
      scope_type: 'global',
      status: 'SUCCEEDED',
      finished_at: at(1),
      output_ref: { bottlenecks: [bn('gate', 'G', 2)] },
    });
    await insert({ scope_id: '/w', status: 'SUCCEEDED', finished_at: at(2), output_ref: { bottlenecks: [] } });
    const res = await anon.getPreviousSucceeded({ scopeType: 'global', scopeId: null }, at(3));
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.value?.runId, g1);
  });

  it('scope ids with PostgREST syntax characters select only their own runs', async () => {
    const hostile = '/tmp/a,b"c)(d\\e.f:g';
    const mine = await insert({
      scope_id: hostile,
      status: 'SUCCEEDED',
      finished_at: at(1),
      output_ref: { bottlenecks: [] },
    });
    await insert({ scope_id: '/tmp/a', status: 'SUCCEEDED', finished_at: at(2), output_ref: { bottlenecks: [] } });
    const res = await anon.getPreviousSucceeded({ scopeType: 'workspace', scopeId: hostile }, at(5));
    assert.ok(res.ok && res.value?.runId === mine, JSON.stringify(res));
  });

  it('listSucceededRuns: the last N succeeded runs of the scope, newest first, hostile output_ref tolerated', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(
        await insert({
          scope_id: '/w',
          status: 'SUCCEEDED',
          finished_at: at(i),
          output_ref: { bottlenecks: [bn('gate', 'A', 2 + i / 10)] },
        }),
      );
    await insert({ scope_id: '/w', status: 'SUCCEEDED', finished_at: at(6.5), output_ref: { bottlenecks: 'nope' } });
    await insert({ scope_id: '/w', status: 'RUNNING', started_at: at(7) });
    const res = await anon.listSucceededRuns({ scopeType: 'workspace', scopeId: '/w' }, 4);
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.value.length, 4);
    assert.deepEqual(res.value[0].bottlenecks, [], 'unreadable bottlenecks become an empty list');
    assert.deepEqual(
      res.value.slice(1).map((r) => r.runId),
      [ids[5], ids[4], ids[3]],
    );
  });
});

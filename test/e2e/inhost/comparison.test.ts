// What changed since the previous run, in the real tree: the marks on an expanded run and the
// row's summary agree with the database, and each run costs at most one comparison request.
import * as assert from 'assert';
import { randomUUID } from 'crypto';
import { compareRuns, parseBottleneckList, summaryParts } from '../../../src/domain/runComparison';
import { config, refresh, sql, testing, waitFor } from './helpers';

const b = (type: string, key: string, ratio: number) => ({
  dimension_type: type,
  dimension_key: key,
  ratio,
  observed_p50_ms: ratio * 10_000,
  baseline_p50_ms: 10_000,
  sample_count: 9,
});

async function insertSucceeded(secondsAgo: number, bottlenecks: unknown[]): Promise<string> {
  const runId = randomUUID();
  await sql(
    `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, output_ref)
     values ($1, 'workspace', $2, 'SUCCEEDED', 'CLI', now() - make_interval(secs => $3), now() - make_interval(secs => $3), now() - make_interval(secs => $3 - 5), 5000, $4, $5, $6)`,
    [
      runId,
      config.workspace,
      secondsAgo,
      bottlenecks.length,
      (bottlenecks[0] as { dimension_type?: string } | undefined)?.dimension_type ?? null,
      JSON.stringify({ bottlenecks, traces_scanned: 50 }),
    ],
  );
  return runId;
}

describe('change since the previous run', () => {
  let current: string;

  before(async () => {
    await insertSucceeded(40, [b('gate', 'GATE_PRD_REQUIRED', 2.1), b('phase', 'LEAD', 2.5), b('subagent', 'GONE', 3)]);
    current = await insertSucceeded(20, [
      b('gate', 'GATE_PRD_REQUIRED', 3.2),
      b('subagent', 'DESIGN', 4),
      b('phase', 'LEAD', 2.5),
    ]);
  });

  it('marks each bottleneck against the previous SUCCEEDED run of the scope and summarises it in the row', async () => {
    const t = await testing();
    await refresh();
    // The expectation comes from the database: this run and the SUCCEEDED run of the scope that finished last before it.
    const [row] = await sql<{ output_ref: unknown; finished_at: Date }>(
      'select output_ref, finished_at from telemetry_analysis_runs where run_id = $1',
      [current],
    );
    const [prev] = await sql<{ run_id: string; output_ref: unknown; finished_at: Date }>(
      "select run_id, output_ref, finished_at from telemetry_analysis_runs where scope_type = 'workspace' and scope_id = $1 and status = 'SUCCEEDED' and finished_at < $2 order by finished_at desc limit 1",
      [config.workspace, row.finished_at],
    );
    assert.ok(prev, 'a previous succeeded run exists');
    const expected = compareRuns(parseBottleneckList(row.output_ref), {
      runId: prev.run_id,
      finishedAt: prev.finished_at,
      bottlenecks: parseBottleneckList(prev.output_ref),
      insufficientData: false,
    });
    assert.ok(expected.kind === 'compared');
    const summary = summaryParts(expected)
      .map(([n, k]) => `${n} ${k}`)
      .join(' · ');
    assert.ok(summary.length > 0, 'the seeded pair differs');

    const before = t.comparisonRequests();
    const items = await waitFor(() => t.runsTree({ expand: true }), {
      message: 'the run in the tree',
      until: (list) => list.some((i) => i.runId === current),
      timeoutMs: 20_000,
    });
    const item = items.find((i) => i.runId === current)!;
    const kids = item.children ?? [];
    for (const c of expected.changes.filter((x) => x.kind !== 'resolved')) {
      const kid = kids.find((k) => k.label.includes(`${c.dimensionType}:${c.dimensionKey}`));
      assert.ok(kid, `row for ${c.dimensionType}:${c.dimensionKey}: ${JSON.stringify(kids)}`);
      assert.match(
        kid.description ?? '',
        new RegExp(`^${c.kind}\\b`),
        `mark of ${c.dimensionKey}: ${JSON.stringify(kid)}`,
      );
    }
    for (const c of expected.changes.filter((x) => x.kind === 'resolved').slice(0, 5)) {
      assert.ok(
        kids.some((k) => k.label === `${c.dimensionType}:${c.dimensionKey}` && /^resolved/.test(k.description ?? '')),
        `resolved ${c.dimensionKey}: ${JSON.stringify(kids)}`,
      );
    }
    const worse = kids.find((k) => /^worse/.test(k.description ?? ''));
    if (worse) assert.match(worse.description!, /\d\.\d× → \d\.\d×/, 'worse says then → now');
    // The row's description now starts with the summary (it is re-rendered when the comparison arrives).
    const row2 = await waitFor(() => t.runsTree(), {
      message: 'the summary in the row',
      until: (list) => (list.find((i) => i.runId === current)?.description ?? '').startsWith(summary),
      timeoutMs: 10_000,
    });
    assert.ok(row2.find((i) => i.runId === current)!.tooltip.includes(summary), 'the tooltip names it too');
    const succeededListed = items.filter((i) => /\bstatus-succeeded\b/.test(i.contextValue)).length;
    const used = t.comparisonRequests() - before;
    // The newest run may have been compared ahead of expansion (its row leads the list); either way at most one request per run.
    assert.ok(
      t.comparisonRequests() >= 1 && used <= succeededListed,
      `${used} comparison requests for ${succeededListed} succeeded runs (at most one each)`,
    );
    // Expanding again costs nothing.
    const again = t.comparisonRequests();
    await t.runsTree({ expand: true });
    assert.strictEqual(t.comparisonRequests(), again, 'a second expansion makes no comparison request');
  });
});

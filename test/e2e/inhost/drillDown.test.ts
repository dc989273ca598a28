// From a finding to its cause and its fix, in the real tree: a bottleneck row expands into the
// evidence spans and the improvement item seeded in the database; Show Improvement Item and Show
// Run Details show them; Go to Definition opens the gate's declaration at its line; with a read-only
// key the rows say the key cannot read them (never "no evidence").
import * as assert from 'assert';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TestTreeChild } from '../../../src/testingApi';
import { config, refresh, sql, testing, Testing, waitFor } from './helpers';

const KEY = `GATE_E2E_DRILL_${randomUUID().slice(0, 8).toUpperCase()}`;
const T_OLD = randomUUID();
const T_NEW = randomUUID();
const T_GONE = randomUUID(); // no row: gone (retention)
/** The declaration's 0-based line in the gate file this test writes. */
const DECL_LINE = 6;
const GATE_FILE = path.join(config.workspace, 'scripts/modules/handoff/executors/plan-to-exec/gates/e2e-drill-gate.js');

async function insertSpan(traceId: string, sdId: string, secondsAgo: number): Promise<void> {
  await sql(
    `insert into workflow_trace_log (trace_id, span_id, workflow_execution_id, sd_id, gate_name, span_name, span_type, start_time_ms, end_time_ms, duration_ms, created_at)
     values ($1, gen_random_uuid(), $2, $3, $4, 'gate.execute', 'gate', 1, 4301, 4300, now() - make_interval(secs => $5))`,
    [traceId, `PLAN-TO-EXEC-${sdId}-1765100000000`, sdId, KEY, secondsAgo],
  );
}

/** An APPROVED item as the table's CHECKs allow it (the analyzer's own inserts are refused there). */
async function insertItem(runId: string): Promise<string> {
  const [row] = await sql<{ id: string }>(
    `insert into protocol_improvement_queue (source_type, source_id, improvement_type, target_table, target_operation, target_phase, payload, description, evidence_count, status, reviewed_by, reviewed_at)
     values ('PLAN_TO_EXEC', gen_random_uuid(), 'VALIDATION_RULE', 'workflow_trace_log', 'INSERT', 'ALL', $1, $2, 3, 'APPROVED', 'e2e-reviewer', now() - interval '2 hours')
     returning id`,
    [
      JSON.stringify({
        run_id: runId,
        dimension_type: 'gate',
        dimension_key: KEY,
        dedupe_key: `telemetry_bottleneck:gate:${KEY}`,
      }),
      `Bottleneck detected: gate:${KEY} (4.8x baseline)`,
    ],
  );
  return row.id;
}

async function insertRun(runId: string, itemId: string): Promise<void> {
  const bottlenecks = [
    {
      dimension_type: 'gate',
      dimension_key: KEY,
      observed_p50_ms: 4300,
      baseline_p50_ms: 900,
      ratio: 4.8,
      sample_count: 12,
      exceedance_count: 9,
      evidence_trace_ids: [T_NEW, T_OLD, T_GONE],
      improvement_id: itemId,
    },
    {
      dimension_type: 'phase',
      dimension_key: 'EXEC',
      observed_p50_ms: 3000,
      baseline_p50_ms: 1500,
      ratio: 2,
      sample_count: 12,
      exceedance_count: 6,
      evidence_trace_ids: [],
      improvement_id: null,
    },
  ];
  await sql(
    `insert into telemetry_analysis_runs (run_id, scope_type, scope_id, status, triggered_by, triggered_at, started_at, finished_at, duration_ms, findings_count, top_bottleneck_category, output_ref)
     values ($1, 'workspace', $2, 'SUCCEEDED', 'CLI', now(), now(), now() + interval '5 seconds', 5000, 2, 'gate', $3)`,
    [runId, config.workspace, JSON.stringify({ bottlenecks, traces_scanned: 40, items_created: 1 })],
  );
}

/** The rows of the run's bottleneck row for KEY (or `dimension`), once `until` accepts them. */
async function bottleneckRows(
  t: Testing,
  runId: string,
  until: (rows: TestTreeChild[]) => boolean,
  message: string,
  dimension = `gate:${KEY}`,
): Promise<{ row: TestTreeChild; rows: TestTreeChild[] }> {
  const found = await waitFor(
    async () => {
      const run = (await t.runsTree({ expandBottlenecks: true, runId })).find((i) => i.runId === runId);
      const row = run?.children?.find((c) => c.label.includes(dimension));
      return row ? { row, rows: row.children ?? [] } : undefined;
    },
    { message, until: (x) => !!x && until(x.rows), timeoutMs: 20_000 },
  );
  return found!;
}

describe('drill-down: evidence, improvement item, definition', () => {
  let t: Testing;
  const runId = randomUUID();
  let itemId: string;

  before(async () => {
    t = await testing();
    await t.settle();
    await insertSpan(T_OLD, 'SD-E2E-OLD', 120);
    await insertSpan(T_NEW, 'SD-E2E-NEW', 30);
    itemId = await insertItem(runId);
    await insertRun(runId, itemId);
    await refresh();
  });

  after(async () => {
    fs.rmSync(GATE_FILE, { force: true });
    await sql('delete from workflow_trace_log where gate_name = $1', [KEY]);
  });

  it('expanding a bottleneck shows its evidence spans newest first, the missing one, and its item', async () => {
    const { row, rows } = await bottleneckRows(
      t,
      runId,
      (r) => r.some((c) => c.contextValue === 'improvementItem'),
      'the bottleneck expanded into evidence and an item row',
    );
    assert.match(row.contextValue ?? '', /\bbottleneck\b/);
    assert.match(row.contextValue ?? '', /\bhasDefinition\b/, 'Go to Definition applies to a gate row');
    const evidence = rows.filter((c) => c.contextValue === 'evidence');
    assert.deepStrictEqual(
      evidence.map((c) => c.label),
      ['SD-E2E-NEW · gate.execute', 'SD-E2E-OLD · gate.execute'],
      `newest first: ${JSON.stringify(rows)}`,
    );
    for (const e of evidence) assert.match(e.description ?? '', /^4\.3 s · 4\.8× p50 900 ms · /);
    assert.match(evidence[0].tooltip ?? '', new RegExp(T_NEW.replace(/-/g, '\\\\?-')), 'the tooltip has the trace id');
    assert.match(evidence[0].tooltip ?? '', /PLAN\\?-TO\\?-EXEC\\?-SD\\?-E2E\\?-NEW/, 'and the workflow execution');
    assert.ok(
      rows.some((c) => c.label === '1 of 3 evidence spans are gone (retention)'),
      `the missing span is counted: ${JSON.stringify(rows.map((c) => c.label))}`,
    );
    const item = rows.find((c) => c.contextValue === 'improvementItem')!;
    assert.strictEqual(item.label, 'Improvement item APPROVED');
    assert.match(item.description ?? '', /reviewed by e2e-reviewer 2h ago/);
    assert.strictEqual(rows[rows.length - 1], item, 'the item row comes last');
  });

  it('a phase bottleneck has no Go to Definition', async () => {
    const { row } = await bottleneckRows(t, runId, () => true, 'the phase bottleneck row', 'phase:EXEC');
    assert.doesNotMatch(row.contextValue ?? '', /\bhasDefinition\b/);
  });

  it('Show Improvement Item opens the item read-only, every field shown', async () => {
    const { rows } = await bottleneckRows(
      t,
      runId,
      (r) => r.some((c) => c.contextValue === 'improvementItem'),
      'the item row',
    );
    const item = rows.find((c) => c.contextValue === 'improvementItem')!;
    assert.strictEqual(item.command?.command, 'ehgTelemetry.showImprovementItem');
    await vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
    const doc = await waitFor(() => t.lastDocument(), {
      message: 'the item document',
      until: (d) => !!d && d.includes(itemId),
      timeoutMs: 15_000,
    });
    assert.match(doc!, /\*\*Status:\*\* `APPROVED`/);
    assert.match(doc!, /\*\*Reviewed by:\*\* `e2e-reviewer`/);
    assert.ok(doc!.includes(`telemetry_bottleneck:gate:${KEY}`), 'the dedupe key');
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.scheme, 'ehg-telemetry', 'a read-only document');
  });

  it('Show Run Details lists each bottleneck with its evidence and item', async () => {
    await vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId });
    const doc = await waitFor(() => t.lastDocument(), {
      message: 'the run document with its drill-down',
      until: (d) => !!d && d.includes(runId) && d.includes('## Evidence and improvement items'),
      timeoutMs: 20_000,
    });
    assert.ok(doc!.includes('`SD-E2E-NEW · gate.execute`'), doc);
    assert.ok(doc!.includes('`1 of 3 evidence spans are gone (retention)`'), doc);
    assert.ok(doc!.includes('`Improvement item APPROVED`'), doc);
  });

  it("the Trends page's link (Show Run Details with a bottleneck) opens the details at that bottleneck's section", async () => {
    await vscode.commands.executeCommand('ehgTelemetry.showRunDetails', {
      runId,
      dimensionType: 'phase',
      dimensionKey: 'EXEC',
    });
    const editor = await waitFor(() => vscode.window.activeTextEditor, {
      message: 'the run document open at the phase:EXEC section',
      until: (e) => !!e && e.document.getText().includes(runId) && e.selection.active.line > 0,
      timeoutMs: 20_000,
    });
    const line = editor!.document.lineAt(editor!.selection.active.line).text;
    assert.match(line, /^### .*phase:EXEC/, line);
  });

  it('Go to Definition opens the gate declaration at its line', async () => {
    fs.mkdirSync(path.dirname(GATE_FILE), { recursive: true });
    fs.writeFileSync(
      GATE_FILE,
      [
        "'use strict';",
        '// A gate declared as EHG_Engineer declares them (written by the drill-down e2e test).',
        'function createGate(supabase) {',
        '  return {',
        '    // the gate object',
        '    required: true,',
        `    name: '${KEY}',`,
        '    validator: async () => ({ passed: true, score: 100 }),',
        '  };',
        '}',
        'module.exports = { createGate };',
        '',
      ].join('\n'),
    );
    await vscode.commands.executeCommand('ehgTelemetry.goToDefinition', {
      runId,
      dimensionType: 'gate',
      dimensionKey: KEY,
    });
    const editor = await waitFor(() => vscode.window.activeTextEditor, {
      message: 'the gate file open',
      until: (e) => !!e && e.document.uri.fsPath === GATE_FILE,
      timeoutMs: 20_000,
    });
    assert.strictEqual(editor!.selection.active.line, DECL_LINE, 'at the declaration line');
    assert.ok(editor!.document.lineAt(DECL_LINE).text.includes(KEY));
  });

  it('with a read-only key the rows say the key cannot read them, never "no evidence"', async () => {
    const envFile = path.join(config.workspace, '.env');
    const original = fs.readFileSync(envFile, 'utf8');
    try {
      fs.writeFileSync(envFile, `SUPABASE_URL=${config.supabaseUrl}\nSUPABASE_SERVICE_ROLE_KEY=${config.keys.anon}\n`);
      await waitFor(() => t.state(), {
        message: 'the anon key from .env in effect',
        until: (s) => s.connection === 'configured' && s.canWrite === false,
        timeoutMs: 20_000,
      });
      await refresh();
      const { rows } = await bottleneckRows(
        t,
        runId,
        (r) => r.some((c) => /^Needs a key that can read traces/.test(c.label)),
        'the evidence row to say the key cannot read traces',
      );
      const labels = rows.map((c) => c.label);
      assert.ok(!labels.some((l) => /no evidence/i.test(l)), JSON.stringify(labels));
      assert.ok(!rows.some((c) => c.contextValue === 'evidence'), 'no span rows');
      assert.ok(
        labels.some((l) => /^Needs a key that can read improvement items/.test(l)),
        `the item row says why: ${JSON.stringify(labels)}`,
      );
    } finally {
      fs.writeFileSync(envFile, original);
      await waitFor(() => t.state(), {
        message: 'the service-role key back in effect',
        until: (s) => s.connection === 'configured' && s.canWrite !== false,
        timeoutMs: 20_000,
      });
      await refresh();
    }
  });
});

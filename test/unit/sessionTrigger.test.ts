import * as assert from 'node:assert/strict';
import {
  ActiveRun,
  AutoTriggerMode,
  claimStands,
  compareRunOrder,
  competingHookRun,
  deduplicatedReason,
  HOOK_BUDGET_MS,
  HOOK_HOLD_MS,
  hookYieldMessage,
  windowIdFor,
  decideSessionTrigger,
  decisionLine,
  duplicatesToCancel,
  FreshRun,
  gateSessionTrigger,
  pickWinner,
  TriggerDecision,
  TriggerGateInput,
} from '../../src/domain/sessionTrigger';

const T = Date.UTC(2026, 1, 15, 12, 0, 0);

function active(
  runId: string,
  offsetMs: number,
  triggeredBy: string | null = 'SESSION_START',
  status = 'QUEUED',
  extra: Partial<ActiveRun> = {},
): ActiveRun {
  return {
    runId,
    status,
    triggeredBy,
    triggeredAt: new Date(T + offsetMs),
    scopeId: '/w',
    ours: true,
    updatedAt: null,
    ...extra,
  };
}
/** A run the CLI hook wrote: no metadata.source. */
const hook = (runId: string, offsetMs: number, status = 'RUNNING') =>
  active(runId, offsetMs, 'SESSION_START', status, { ours: false });
const claimed = (runId: string, offsetMs: number, claimAtMs: number) =>
  active(runId, offsetMs, 'SESSION_START', 'RUNNING', { updatedAt: new Date(T + claimAtMs) });

describe('sessionTrigger: gateSessionTrigger', () => {
  const ok: TriggerGateInput = {
    mode: 'whenStale',
    trusted: true,
    configured: true,
    disabledByEnv: false,
    canWrite: true,
  };
  const cases: { name: string; input: TriggerGateInput; expected: string }[] = [
    { name: 'all good (whenStale)', input: ok, expected: 'proceed' },
    { name: 'all good (always)', input: { ...ok, mode: 'always' }, expected: 'proceed' },
    { name: 'unknown key role proceeds', input: { ...ok, canWrite: null }, expected: 'proceed' },
    { name: 'untrusted', input: { ...ok, trusted: false }, expected: 'skipped_restricted' },
    { name: 'mode off', input: { ...ok, mode: 'off' }, expected: 'skipped_disabled' },
    { name: 'disabled by .env', input: { ...ok, disabledByEnv: true }, expected: 'skipped_disabled' },
    { name: 'not configured', input: { ...ok, configured: false }, expected: 'skipped_not_configured' },
    { name: 'read-only key', input: { ...ok, canWrite: false }, expected: 'skipped_read_only' },
    {
      name: 'untrusted beats everything',
      input: { mode: 'off', trusted: false, configured: false, disabledByEnv: true, canWrite: false },
      expected: 'skipped_restricted',
    },
    {
      name: 'off beats not configured',
      input: { ...ok, mode: 'off', configured: false },
      expected: 'skipped_disabled',
    },
    {
      name: 'env-disabled beats not configured',
      input: { ...ok, disabledByEnv: true, configured: false },
      expected: 'skipped_disabled',
    },
    {
      name: 'not configured beats read-only',
      input: { ...ok, configured: false, canWrite: false },
      expected: 'skipped_not_configured',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = gateSessionTrigger(c.input);
      assert.equal(g.kind === 'skip' ? g.code : g.kind, c.expected);
      if (g.kind === 'skip') assert.ok(g.reason.length > 0);
    });
  }

  it('names the .env flag when disabled by .env and the setting when off', () => {
    const env = gateSessionTrigger({ ...ok, disabledByEnv: true });
    const off = gateSessionTrigger({ ...ok, mode: 'off' });
    assert.match(env.kind === 'skip' ? env.reason : '', /TELEMETRY_AUTO_ANALYSIS_ENABLED/);
    assert.match(off.kind === 'skip' ? off.reason : '', /autoTrigger/);
  });
});

describe('sessionTrigger: decideSessionTrigger', () => {
  const fresh: FreshRun = { runId: 'fresh', finishedAt: new Date(T - 86_400_000) };
  const a = active('b-run', 0);
  const b = active('a-run', 0);
  const manual = active('manual', -5000, 'MANUAL', 'RUNNING');
  const cases: {
    name: string;
    mode: Exclude<AutoTriggerMode, 'off'>;
    fresh: FreshRun | null;
    active: ActiveRun[];
    expected: TriggerDecision;
  }[] = [
    {
      name: 'whenStale: nothing fresh, nothing active → enqueue',
      mode: 'whenStale',
      fresh: null,
      active: [],
      expected: { kind: 'enqueue' },
    },
    {
      name: 'whenStale: fresh → skip-fresh',
      mode: 'whenStale',
      fresh,
      active: [],
      expected: { kind: 'skip-fresh', run: fresh },
    },
    {
      name: 'whenStale: active → skip-active',
      mode: 'whenStale',
      fresh: null,
      active: [a],
      expected: { kind: 'skip-active', run: a },
    },
    {
      name: 'whenStale: active and fresh → active wins (dedup first)',
      mode: 'whenStale',
      fresh,
      active: [a],
      expected: { kind: 'skip-active', run: a },
    },
    { name: 'always: fresh is ignored → enqueue', mode: 'always', fresh, active: [], expected: { kind: 'enqueue' } },
    {
      name: 'always: still dedups on active',
      mode: 'always',
      fresh,
      active: [a],
      expected: { kind: 'skip-active', run: a },
    },
    {
      name: 'active MANUAL run also counts for dedup',
      mode: 'always',
      fresh: null,
      active: [manual],
      expected: { kind: 'skip-active', run: manual },
    },
    {
      name: 'skip-active names the winner (tie broken by run_id)',
      mode: 'whenStale',
      fresh: null,
      active: [a, b],
      expected: { kind: 'skip-active', run: b },
    },
  ];
  for (const c of cases)
    it(c.name, () => assert.deepEqual(decideSessionTrigger(c.mode, c.fresh, c.active), c.expected));
});

describe('sessionTrigger: compareRunOrder', () => {
  const cases: { name: string; a: ActiveRun; b: ActiveRun; expected: -1 | 0 | 1 }[] = [
    { name: 'earlier triggered_at first', a: active('z', -1), b: active('a', 0), expected: -1 },
    { name: 'later triggered_at second', a: active('a', 1), b: active('z', 0), expected: 1 },
    { name: 'tie on triggered_at: smaller run_id first', a: active('0a', 0), b: active('0b', 0), expected: -1 },
    { name: 'tie on triggered_at: larger run_id second', a: active('f0', 0), b: active('e9', 0), expected: 1 },
    { name: 'same run', a: active('x', 0), b: active('x', 0), expected: 0 },
    { name: '1 ms decides before run_id', a: active('ffff', 0), b: active('0000', 1), expected: -1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(Math.sign(compareRunOrder(c.a, c.b)), c.expected);
      assert.equal(Math.sign(compareRunOrder(c.b, c.a)), -c.expected || 0);
    });
  }
});

describe('sessionTrigger: pickWinner', () => {
  const cases: { name: string; input: ActiveRun[]; expected: string | null }[] = [
    { name: 'empty', input: [], expected: null },
    { name: 'single', input: [active('only', 0)], expected: 'only' },
    { name: 'earliest wins', input: [active('b', 10), active('c', 5), active('a', 20)], expected: 'c' },
    {
      name: 'tie broken by run_id',
      input: [active('9d2e', 0), active('1a7f', 0), active('5c3b', 0)],
      expected: '1a7f',
    },
    {
      name: 'tie with uuids',
      input: [active('e0c1d9f2-0000-4000-8000-000000000002', 0), active('e0c1d9f2-0000-4000-8000-000000000001', 0)],
      expected: 'e0c1d9f2-0000-4000-8000-000000000001',
    },
    { name: 'MANUAL run can be the winner', input: [active('s', 10), active('m', 0, 'MANUAL')], expected: 'm' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(pickWinner(c.input)?.runId ?? null, c.expected));

  it('every order of the same rows picks the same winner', () => {
    const rows = [active('c', 0), active('a', 0), active('b', 0), active('0', 1), active('z', -1, 'MANUAL')];
    const perms = (xs: ActiveRun[]): ActiveRun[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const p of perms(rows)) assert.equal(pickWinner(p)?.runId, 'z');
  });
});

describe('sessionTrigger: duplicatesToCancel', () => {
  const cases: { name: string; input: ActiveRun[]; winner: string | null; losers: string[] }[] = [
    { name: 'empty', input: [], winner: null, losers: [] },
    { name: 'one run, nothing to cancel', input: [active('a', 0)], winner: 'a', losers: [] },
    {
      name: 'two racing windows, same instant: larger run_id loses',
      input: [active('bbb', 0), active('aaa', 0)],
      winner: 'aaa',
      losers: ['bbb'],
    },
    { name: 'three windows', input: [active('c', 2), active('b', 1), active('a', 3)], winner: 'b', losers: ['c', 'a'] },
    {
      name: 'MANUAL loser is never cancelled',
      input: [active('s', 0), active('m', 5, 'MANUAL')],
      winner: 's',
      losers: [],
    },
    {
      name: 'CLI and SCHEDULED losers are never cancelled',
      input: [active('s', 0), active('c', 1, 'CLI'), active('x', 2, 'SCHEDULED'), active('s2', 3)],
      winner: 's',
      losers: ['s2'],
    },
    {
      name: 'unknown trigger is never cancelled',
      input: [active('s', 0), active('n', 1, null), active('w', 2, 'WEBHOOK')],
      winner: 's',
      losers: [],
    },
    {
      name: 'MANUAL winner: SESSION_START runs after it are cancelled',
      input: [active('s1', 5), active('m', 0, 'MANUAL'), active('s2', 6)],
      winner: 'm',
      losers: ['s1', 's2'],
    },
    {
      name: 'a claimed (RUNNING) run beats earlier QUEUED ones, which are cancelled',
      input: [active('q', 0), claimed('r', 1, 2)],
      winner: 'r',
      losers: ['q'],
    },
    {
      name: 'a claimed loser is never cancelled by convergence (its own window gives it up)',
      input: [claimed('r1', 5, 10), claimed('r2', 0, 20)],
      winner: 'r1',
      losers: [],
    },
    {
      name: 'the earliest claim wins among RUNNING runs, not the earliest trigger',
      input: [claimed('late-trigger', 9, 1), claimed('early-trigger', 0, 3)],
      winner: 'late-trigger',
      losers: [],
    },
    {
      name: 'a hook run (no metadata.source) wins over ours and is never cancelled',
      input: [active('ours', 0), hook('h', 5)],
      winner: 'h',
      losers: ['ours'],
    },
    {
      name: 'a QUEUED hook run wins too (the hook executes it whatever its status)',
      input: [claimed('ours', 0, 1), hook('h', 5, 'QUEUED')],
      winner: 'h',
      losers: [],
    },
    {
      name: 'the winner listed twice (scope and global reads overlap) is never cancelled',
      input: [active('w', 0), active('l', 1), active('w', 0)],
      winner: 'w',
      losers: ['l'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = duplicatesToCancel(c.input);
      assert.equal(r.winner?.runId ?? null, c.winner);
      assert.deepEqual(
        r.losers.map((l) => l.runId),
        c.losers,
      );
      if (r.winner) assert.ok(!r.losers.some((l) => l.runId === r.winner?.runId), 'winner among losers');
    });
  }

  it('converges: any subset a window sees never cancels the global winner', () => {
    const all = [active('r3', 0), active('r1', 0), active('r2', 0), active('r0', 1)];
    const globalWinner = pickWinner(all)?.runId;
    assert.equal(globalWinner, 'r1');
    for (let mask = 1; mask < 1 << all.length; mask++) {
      const subset = all.filter((_, i) => mask & (1 << i));
      const { losers } = duplicatesToCancel(subset);
      assert.ok(!losers.some((l) => l.runId === globalWinner), `mask ${mask}`);
    }
    const union = new Set<string>();
    for (let mask = 1; mask < 1 << all.length; mask++)
      duplicatesToCancel(all.filter((_, i) => mask & (1 << i))).losers.forEach((l) => union.add(l.runId));
    assert.deepEqual([...union].sort(), ['r0', 'r2', 'r3']);
  });
});

describe('sessionTrigger: claimStands', () => {
  const cases: { name: string; me: string; input: ActiveRun[]; expected: boolean }[] = [
    { name: 'alone', me: 'a', input: [claimed('a', 0, 1)], expected: true },
    { name: 'our run is gone (cancelled under us)', me: 'a', input: [claimed('b', 0, 1)], expected: false },
    { name: 'an earlier claim beats ours', me: 'a', input: [claimed('a', 0, 5), claimed('b', 3, 2)], expected: false },
    { name: 'ours is the earlier claim', me: 'a', input: [claimed('a', 3, 2), claimed('b', 0, 5)], expected: true },
    {
      name: 'a late-committing QUEUED run with an earlier trigger does not beat a claim',
      me: 'a',
      input: [claimed('a', 5, 6), active('early', 0)],
      expected: true,
    },
    { name: 'a hook run appeared: ours yields', me: 'a', input: [claimed('a', 0, 1), hook('h', 3)], expected: false },
    {
      name: 'same claim time: run_id decides',
      me: 'b',
      input: [claimed('a', 0, 1), claimed('b', 0, 1)],
      expected: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(claimStands(c.me, c.input), c.expected));

  it('two windows that both claimed agree on one winner whatever each saw', () => {
    const a = claimed('a', 0, 10);
    const b = claimed('b', 1, 12);
    // b claimed second, so its re-check saw a; a may or may not have seen b.
    assert.equal(claimStands('b', [a, b]), false);
    assert.equal(claimStands('a', [a]), true);
    assert.equal(claimStands('a', [a, b]), true);
  });
});

describe('sessionTrigger: decisionLine', () => {
  const cases: {
    name: string;
    code: Parameters<typeof decisionLine>[0];
    fields: Parameters<typeof decisionLine>[1];
    expected: string;
  }[] = [
    { name: 'no fields', code: 'enqueued', fields: {}, expected: 'telemetry-auto-trigger decision=enqueued' },
    {
      name: 'strings are JSON-quoted, numbers/booleans/null bare, undefined omitted',
      code: 'already_queued',
      fields: {
        scope_id: '/home/u/EHG Engineer',
        run_id: 'abc',
        age_ms: 1200,
        fresh: false,
        winner: null,
        skipped: undefined,
      },
      expected:
        'telemetry-auto-trigger decision=already_queued scope_id="/home/u/EHG Engineer" run_id="abc" age_ms=1200 fresh=false winner=null',
    },
    {
      name: 'newlines and quotes in values stay on one line',
      code: 'error_non_fatal',
      fields: { error: 'bad "x"\nnext' },
      expected: 'telemetry-auto-trigger decision=error_non_fatal error="bad \\"x\\"\\nnext"',
    },
    {
      name: 'skipped_fresh',
      code: 'skipped_fresh',
      fields: { run_id: 'f' },
      expected: 'telemetry-auto-trigger decision=skipped_fresh run_id="f"',
    },
    {
      name: 'deduplicated',
      code: 'deduplicated',
      fields: { cancelled: 2 },
      expected: 'telemetry-auto-trigger decision=deduplicated cancelled=2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const line = decisionLine(c.code, c.fields);
      assert.equal(line, c.expected);
      assert.ok(!/[\r\n]/.test(line));
    });
  }
});

describe('sessionTrigger: the CLI hook that checked before our row was visible', () => {
  it('the hold covers the hook’s 5 s budget (.claude/settings.json "timeout": 5) plus a margin', () => {
    assert.equal(HOOK_BUDGET_MS, 5_000);
    assert.ok(HOOK_HOLD_MS > HOOK_BUDGET_MS, `${HOOK_HOLD_MS}`);
  });
  const cases: { name: string; seen: string[]; rows: ActiveRun[]; expected: string | null }[] = [
    { name: 'nothing new: null', seen: [], rows: [], expected: null },
    {
      name: 'a new hook run: it (whatever its status)',
      seen: [],
      rows: [hook('h1', 5_000, 'SUCCEEDED')],
      expected: 'h1',
    },
    {
      name: 'a hook run the pre-check already saw (an earlier analysis): not a contender',
      seen: ['old'],
      rows: [hook('old', -60_000, 'FAILED')],
      expected: null,
    },
    {
      name: 'runs of ours (other windows) are for convergence, not this check',
      seen: [],
      rows: [active('w2', 100)],
      expected: null,
    },
    {
      name: 'new queued, running and finished hook runs: the earliest',
      seen: ['old'],
      rows: [hook('old', -1), hook('h2', 300, 'QUEUED'), hook('h1', 200, 'FAILED')],
      expected: 'h1',
    },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(competingHookRun(new Set(c.seen), c.rows)?.runId ?? null, c.expected));

  it('the log names the winner: the hook, or another window', () => {
    assert.equal(deduplicatedReason({ winner: 'h', winnerIsHook: true }), 'the CLI hook enqueued first (run h)');
    assert.match(deduplicatedReason({ winner: 'h', winnerIsHook: true, stage: 'hook-hold' }), /CLI hook .*\(h\).*held/);
    assert.equal(deduplicatedReason({ winner: 'w' }), 'another window enqueued first (run w)');
    assert.match(deduplicatedReason({ winner: 'w', stage: 'claim' }), /^another window claimed first/);
    assert.match(hookYieldMessage('h'), /CLI hook's run h/);
  });
});

describe('sessionTrigger: windowIdFor', () => {
  const cases: { name: string; sessionId: string | undefined; expected: string }[] = [
    {
      name: "desktop VS Code's per-window id is kept",
      sessionId: '3f2a9c1e-1111-4e6b-9a1b-123456789abc1700000000000',
      expected: '3f2a9c1e-1111-4e6b-9a1b-123456789abc1700000000000',
    },
    { name: "code-server's placeholder: the generated id", sessionId: 'someValue.sessionId', expected: 'gen' },
    { name: 'another someValue.* placeholder: the generated id', sessionId: 'someValue.machineId', expected: 'gen' },
    { name: 'empty: the generated id', sessionId: '', expected: 'gen' },
    { name: 'blank: the generated id', sessionId: '  ', expected: 'gen' },
    { name: 'missing: the generated id', sessionId: undefined, expected: 'gen' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(windowIdFor(c.sessionId, 'gen'), c.expected));
});

// DrillDown: which requests it makes (none when the key's role decides), caching per run and
// bottleneck, sharing in flight, dropping the cache on a new backend, and never rejecting.
// The backend is a stand-in that records calls; the real one is exercised in
// test/integration/drilldown.test.ts against the local stack.
import * as assert from 'node:assert/strict';
import type { BackendError, Result, TelemetryBackend } from '../../src/data/backend';
import type { KeyRole } from '../../src/domain/credentials';
import type { Bottleneck, RunOutcome, RunSummary } from '../../src/domain/run';
import { DrillDown, DrillDownConnection } from '../../src/runs/drillDown';

const A = '11111111-1111-4111-8111-111111111111';
const ITEM = 'abcdefab-cdef-4abc-8def-abcdefabcdef';
const RUN = '99999999-9999-4999-8999-999999999999';

const run = { runId: RUN, startedAt: new Date('2026-02-15T12:00:00Z'), triggeredAt: null } as unknown as RunSummary;
const outcome: RunOutcome = { kind: 'no-bottlenecks', tracesScanned: 1 };
const gate = (over: Partial<Bottleneck> = {}): Bottleneck => ({
  dimensionType: 'gate',
  dimensionKey: 'GATE_A',
  observedP50Ms: 4,
  baselineP50Ms: 1,
  ratio: 4,
  sampleCount: 5,
  exceedanceCount: 5,
  evidenceTraceIds: [A],
  improvementId: null,
  ...over,
});
const serverError: BackendError = {
  kind: 'server',
  message: 'Could not load the evidence spans: 503',
  status: 503,
  code: null,
  retryAfterMs: null,
};

class FakeBackend {
  calls: string[] = [];
  gate: Promise<void> = Promise.resolve();
  fail = false;
  outputRef: unknown = {};
  dedupe: Record<string, unknown> | null = null;
  constructor(readonly role: KeyRole) {}
  private async answer<T>(name: string, value: T): Promise<Result<T>> {
    this.calls.push(name);
    await this.gate;
    return this.fail ? { ok: false, error: serverError } : { ok: true, value };
  }
  readEvidenceSpans(ids: readonly string[]) {
    return this.answer(
      'evidence',
      ids.map((id) => ({ trace_id: id, span_name: 'gate.execute', created_at: '2026-02-15T11:00:00Z' })),
    );
  }
  readImprovementItem(id: string) {
    return this.answer('item', {
      id,
      status: 'APPLIED',
      knownStatus: true,
      createdAt: new Date('2026-02-01T00:00:00Z'),
    });
  }
  getRunDetail() {
    return this.answer('run', { outputRef: this.outputRef });
  }
  findDedupeItem() {
    return this.answer('dedupe', this.dedupe);
  }
}

function connection(backend: FakeBackend | null) {
  const listeners: (() => void)[] = [];
  const c = {
    snapshot: { backend: backend as unknown as TelemetryBackend | null },
    onDidChangeBackend: (l: () => void) => {
      listeners.push(l);
      return { dispose: () => undefined };
    },
    replace(b: FakeBackend | null) {
      c.snapshot = { backend: b as unknown as TelemetryBackend | null };
      for (const l of listeners) l();
    },
  };
  return c;
}

function drill(backend: FakeBackend | null) {
  const c = connection(backend);
  return { c, d: new DrillDown(c as unknown as DrillDownConnection) };
}

describe('DrillDown', () => {
  it('evidence: one request per run and bottleneck, shared in flight and cached', async () => {
    const b = new FakeBackend('service_role');
    let open!: () => void;
    b.gate = new Promise((r) => (open = r));
    const { d } = drill(b);
    const p1 = d.evidence(run, gate());
    const p2 = d.evidence(run, gate());
    open();
    const [a1, a2] = await Promise.all([p1, p2]);
    assert.equal(a1.kind, 'spans');
    assert.deepEqual(a1, a2);
    await d.evidence(run, gate());
    assert.deepEqual(b.calls, ['evidence']);
    await d.evidence(run, gate({ dimensionKey: 'GATE_B' }));
    assert.deepEqual(b.calls, ['evidence', 'evidence'], 'another bottleneck is another request');
  });

  it('the cache is bounded: the oldest answer goes first', async () => {
    const b = new FakeBackend('service_role');
    const { d } = drill(b);
    for (let i = 0; i <= 500; i++) await d.evidence(run, gate({ dimensionKey: `G${i}` }));
    assert.equal(b.calls.length, 501);
    await d.evidence(run, gate({ dimensionKey: 'G500' }));
    assert.equal(b.calls.length, 501, 'the newest is kept');
    await d.evidence(run, gate({ dimensionKey: 'G0' }));
    assert.equal(b.calls.length, 502, 'the oldest was dropped');
  });

  it('evidence: read-only keys get needs-service-key with no request', async () => {
    for (const role of ['anon', 'authenticated'] as const) {
      const b = new FakeBackend(role);
      const { d } = drill(b);
      assert.deepEqual(await d.evidence(run, gate()), { kind: 'needs-service-key', role });
      assert.deepEqual(b.calls, []);
    }
  });

  it('a failure is an answer (never a rejection) and is not cached', async () => {
    const b = new FakeBackend('service_role');
    b.fail = true;
    const { d } = drill(b);
    assert.deepEqual(await d.evidence(run, gate()), { kind: 'error', message: serverError.message });
    b.fail = false;
    assert.equal((await d.evidence(run, gate())).kind, 'spans');
    assert.deepEqual(b.calls, ['evidence', 'evidence']);
  });

  it('a backend that throws is an error answer', async () => {
    const b = new FakeBackend('service_role');
    b.readEvidenceSpans = () => Promise.reject(new Error('boom'));
    const { d } = drill(b);
    const a = await d.evidence(run, gate());
    assert.equal(a.kind, 'error');
  });

  it('not connected: an error answer', async () => {
    const { d } = drill(null);
    assert.equal((await d.evidence(run, gate())).kind, 'error');
    assert.equal((await d.itemById(ITEM)).kind, 'error');
  });

  it('a new backend drops the cache', async () => {
    const b1 = new FakeBackend('service_role');
    const { c, d } = drill(b1);
    await d.evidence(run, gate());
    const b2 = new FakeBackend('service_role');
    c.replace(b2);
    await d.evidence(run, gate());
    assert.deepEqual([b1.calls, b2.calls], [['evidence'], ['evidence']]);
    d.clear();
    await d.evidence(run, gate());
    assert.deepEqual(b2.calls, ['evidence', 'evidence']);
  });

  it('itemById: cached, unless asked for fresh (Show Improvement Item reads the item as it is now)', async () => {
    const b = new FakeBackend('service_role');
    const { d } = drill(b);
    await d.itemById('00000000-0000-4000-8000-0000000000aa');
    await d.itemById('00000000-0000-4000-8000-0000000000aa');
    const before = b.calls.length;
    await d.itemById('00000000-0000-4000-8000-0000000000aa', undefined, { fresh: true });
    assert.equal(b.calls.length, before + 1, `one more request for fresh: ${JSON.stringify(b.calls)}`);
  });

  it('an improvement_id that is no item id: says so, asks nothing, never "gone"', async () => {
    const b = new FakeBackend('service_role');
    const { d } = drill(b);
    for (const id of ['', 'not-a-uuid', '[x](command:y)']) {
      const a = await d.itemById(id);
      assert.equal(a.kind, 'error', id);
      assert.match((a as { message: string }).message, /not an item id/);
    }
    assert.deepEqual(b.calls, []);
  });

  it('clear() tells its listeners (the tree redraws expanded rows), once per clear, and not after dispose', async () => {
    const { c, d } = drill(new FakeBackend('service_role'));
    let cleared = 0;
    const sub = d.onDidClear(() => cleared++);
    d.clear();
    c.replace(new FakeBackend('service_role'));
    assert.equal(cleared, 2, 'Refresh and a new backend each redraw once');
    sub.dispose();
    d.clear();
    assert.equal(cleared, 2, 'a disposed listener is not called');
    d.onDidClear(() => cleared++);
    d.dispose();
    assert.equal(cleared, 2, 'dispose does not redraw');
  });

  it('a caller’s timeout reads as a timeout with what to do, an abort as a cancel', async () => {
    const b = new FakeBackend('service_role');
    b.gate = new Promise(() => undefined);
    const { d } = drill(b);
    const timedOut = await d.evidence(run, gate(), AbortSignal.timeout(5));
    assert.equal(timedOut.kind, 'error');
    assert.match((timedOut as { message: string }).message, /took too long.*Refresh/);
    const ac = new AbortController();
    const mine = d.evidence(run, gate(), ac.signal);
    ac.abort();
    assert.match(((await mine) as { message: string }).message, /cancelled/);
  });

  it('a caller’s abort ends its own wait; the shared request goes on for others', async () => {
    const b = new FakeBackend('service_role');
    let open!: () => void;
    b.gate = new Promise((r) => (open = r));
    const { d } = drill(b);
    const ac = new AbortController();
    const mine = d.evidence(run, gate(), ac.signal);
    const other = d.evidence(run, gate());
    ac.abort();
    assert.equal((await mine).kind, 'error');
    open();
    assert.equal((await other).kind, 'spans');
  });

  it('item: improvement_id set → the item by id (one request); anon → needs-key, no request', async () => {
    const b = new FakeBackend('authenticated');
    const { d } = drill(b);
    const a = await d.item(run, gate({ improvementId: ITEM }), outcome);
    assert.equal(a.kind, 'item');
    assert.deepEqual(b.calls, ['item']);
    const anon = new FakeBackend('anon');
    assert.deepEqual(await drill(anon).d.item(run, gate({ improvementId: ITEM }), outcome), {
      kind: 'needs-key',
      role: 'anon',
    });
    assert.deepEqual(anon.calls, []);
  });

  it('item: refused is read from the run (one request), even for anon', async () => {
    const b = new FakeBackend('anon');
    b.outputRef = { errors: ['create_failed:GATE_A: lineage_required: …'] };
    const { d } = drill(b);
    assert.deepEqual(await d.item(run, gate(), outcome), {
      kind: 'none',
      reason: 'refused',
      detail: 'lineage_required: …',
    });
    assert.deepEqual(b.calls, ['run']);
  });

  it('item: not refused → the dedupe lookup (two requests); anon stops at needs-key', async () => {
    const b = new FakeBackend('service_role');
    b.dedupe = { id: ITEM, status: 'PENDING', createdAt: new Date('2026-01-01T00:00:00Z') };
    const { d } = drill(b);
    const a = await d.item(run, gate(), outcome);
    assert.equal(a.kind, 'deduplicated');
    assert.deepEqual(b.calls, ['run', 'dedupe']);
    await d.item(run, gate(), outcome);
    assert.deepEqual(b.calls, ['run', 'dedupe'], 'cached');
    await d.item(run, gate({ dimensionKey: 'GATE_B' }), outcome);
    assert.deepEqual(b.calls, ['run', 'dedupe', 'dedupe'], 'the run is read once for all its bottlenecks');
    const anon = new FakeBackend('anon');
    assert.deepEqual(await drill(anon).d.item(run, gate(), outcome), { kind: 'needs-key', role: 'anon' });
    assert.deepEqual(anon.calls, ['run']);
  });

  it('item: a "deduplicating" row created after the run started is not taken; the reason stays unknown', async () => {
    const b = new FakeBackend('service_role');
    b.dedupe = { id: ITEM, status: 'PENDING', createdAt: new Date('2026-03-01T00:00:00Z') };
    assert.deepEqual(await drill(b).d.item(run, gate(), outcome), { kind: 'none', reason: 'unknown', detail: null });
  });
});

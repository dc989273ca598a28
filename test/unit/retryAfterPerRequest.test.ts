// Retry-After belongs to the response it came with: two requests in flight at once (an enqueue sends
// two) each report their own, whichever answers first. Real supabase-js and postgrest-js; only the
// network is replaced.
import * as assert from 'node:assert/strict';
import { createGuardedFetch } from '../../src/data/guardedFetch';
import { SupabaseBackend } from '../../src/data/supabaseBackend';

/**
 * Answers 503 with the Retry-After chosen by URL, after the delay chosen by URL. With `together`, no
 * body is delivered until every expected request has arrived, and then all at once: the responses are
 * read in the same instant, the case one shared "last Retry-After" field gets wrong (the second
 * response overwrites it before the first failure is classified).
 */
function busyServer(
  byPath: { match: RegExp; retryAfter: string; delayMs: number }[],
  seen: string[] = [],
  together = 0,
) {
  let release!: () => void;
  let reading = 0;
  const gate = new Promise<void>((r) => (release = r));
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const rule = byPath.find((r) => r.match.test(url));
    if (!rule) throw new Error(`unexpected request ${url}`);
    seen.push(url);
    await new Promise((r) => setTimeout(r, rule.delayMs));
    if (init?.signal?.aborted) throw init.signal.reason;
    const res = new Response(JSON.stringify({ message: 'busy' }), {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': rule.retryAfter },
    });
    if (together) {
      const read = res.arrayBuffer.bind(res);
      Object.defineProperty(res, 'arrayBuffer', {
        value: async () => {
          if (++reading === together) release();
          await gate;
          return read();
        },
      });
    }
    return res;
  }) as typeof fetch;
}

describe('Retry-After travels with each response', () => {
  it('guarded fetch: concurrent requests each get their own observation, keyed by their signal', async () => {
    const g = createGuardedFetch({
      timeoutMs: 5_000,
      base: busyServer([
        { match: /\/slow/, retryAfter: '30', delayMs: 60 },
        { match: /\/fast/, retryAfter: '7', delayMs: 5 },
      ]),
    });
    const a = new AbortController();
    const b = new AbortController();
    const none = new AbortController();
    await Promise.all([
      g.fetch('https://x/slow', { signal: a.signal }),
      g.fetch('https://x/fast', { signal: b.signal }),
    ]);
    assert.equal(g.observationFor(a.signal)?.retryAfterMs, 30_000);
    assert.equal(g.observationFor(b.signal)?.retryAfterMs, 7_000);
    assert.equal(g.observationFor(none.signal), null, 'a signal no request used has no observation');
  });

  it('guarded fetch: a request that got no response has no observation (not a neighbour’s)', async () => {
    const g = createGuardedFetch({
      timeoutMs: 30,
      base: busyServer([
        { match: /\/hang/, retryAfter: '99', delayMs: 500 },
        { match: /\/fast/, retryAfter: '7', delayMs: 1 },
      ]),
    });
    const hang = new AbortController();
    const fast = new AbortController();
    const results = await Promise.allSettled([
      g.fetch('https://x/hang', { signal: hang.signal }),
      g.fetch('https://x/fast', { signal: fast.signal }),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.equal(g.observationFor(fast.signal)?.retryAfterMs, 7_000);
    assert.equal(g.observationFor(hang.signal), null);
  });

  it('SupabaseBackend: two concurrent failing reads report their own Retry-After', async () => {
    const seen: string[] = [];
    const backend = new SupabaseBackend({
      url: 'https://project.example',
      origin: 'https://project.example',
      key: 'sb_secret_test_only_not_a_real_key',
      timeoutMs: 5_000,
      clientInfo: 'ehg-telemetry-unit',
      // The heartbeat answers with 30 s, the runs list with 7 s, both read in the same instant.
      baseFetch: busyServer(
        [
          { match: /eva_scheduler_heartbeat/, retryAfter: '30', delayMs: 1 },
          { match: /telemetry_analysis_runs/, retryAfter: '7', delayMs: 1 },
        ],
        seen,
        2,
      ),
    });
    try {
      const [hb, runs] = await Promise.all([
        backend.readHeartbeat(),
        backend.listRuns({ kind: 'workspace', scopeIds: ['/w'] }, 0, 20),
      ]);
      assert.equal(seen.length, 2, 'both requests were in flight (no built-in retry)');
      assert.ok(!hb.ok && !runs.ok);
      assert.equal(hb.error.kind, 'rate-limited');
      assert.equal(runs.error.kind, 'rate-limited');
      assert.equal(hb.error.retryAfterMs, 30_000, 'the heartbeat read reports its own Retry-After');
      assert.equal(runs.error.retryAfterMs, 7_000, 'the runs read reports its own Retry-After');
      assert.match(hb.error.message, /wait 30 s/);
      assert.match(runs.error.message, /wait 7 s/);
    } finally {
      backend.dispose();
    }
  });
});

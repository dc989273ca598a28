import * as assert from 'node:assert/strict';
import { createGuardedFetch, FetchObservation, parseRetryAfter } from '../../src/data/guardedFetch';

/** A base fetch that never answers on its own, only rejects when its signal aborts. */
function hangingFetch(calls: { signal: AbortSignal | null | undefined }[] = []): typeof fetch {
  return (_input: unknown, init?: RequestInit) => {
    calls.push({ signal: init?.signal });
    return new Promise<Response>((_resolve, reject) => {
      const signal = init?.signal;
      if (!signal) return;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  };
}

/** A base fetch that answers at once with the given status and headers. */
function answeringFetch(
  status: number,
  headers: Record<string, string>,
  seen?: (init?: RequestInit) => void,
): typeof fetch {
  return async (_input: unknown, init?: RequestInit) => {
    seen?.(init);
    return new Response(status === 204 ? null : '[]', { status, headers });
  };
}

const errorName = (e: unknown) => (e as { name?: string }).name;

describe('guardedFetch: parseRetryAfter', () => {
  const NOW = Date.UTC(2026, 1, 15, 12, 0, 0);
  const cases: { name: string; input: string | null; expected: number | null }[] = [
    { name: 'null', input: null, expected: null },
    { name: 'empty', input: '', expected: null },
    { name: 'seconds', input: '120', expected: 120_000 },
    { name: 'zero seconds', input: '0', expected: 0 },
    { name: 'fractional seconds', input: '1.5', expected: 1_500 },
    { name: 'seconds capped at one hour', input: '86400', expected: 3_600_000 },
    { name: 'HTTP-date 30 s ahead', input: 'Sun, 15 Feb 2026 12:00:30 GMT', expected: 30_000 },
    { name: 'HTTP-date in the past is 0', input: 'Sun, 15 Feb 2026 11:00:00 GMT', expected: 0 },
    { name: 'HTTP-date a day ahead is capped', input: 'Mon, 16 Feb 2026 12:00:00 GMT', expected: 3_600_000 },
    { name: 'garbage', input: 'soon-ish please', expected: null },
  ];
  for (const c of cases) it(c.name, () => assert.equal(parseRetryAfter(c.input, NOW), c.expected));

  it('never returns a negative or over-an-hour delay', () => {
    for (const v of [
      '-1',
      '-3600',
      '1e9',
      'Thu, 01 Jan 1970 00:00:00 GMT',
      'Fri, 31 Dec 9999 23:59:59 GMT',
      ' ',
      '1 2',
    ]) {
      const r = parseRetryAfter(v, NOW);
      assert.ok(r === null || (r >= 0 && r <= 3_600_000), `${v} → ${r}`);
    }
  });
});

describe('guardedFetch: createGuardedFetch', () => {
  it('times out a fetch that never answers, and frees the in-flight slot', async () => {
    const g = createGuardedFetch({ timeoutMs: 40, base: hangingFetch() });
    const t0 = Date.now();
    const p = g.fetch('https://x/rest/v1/runs');
    assert.equal(g.inFlight, 1);
    await assert.rejects(p, (e) => errorName(e) === 'TimeoutError');
    const took = Date.now() - t0;
    assert.ok(took >= 30 && took < 1000, `took ${took} ms`);
    assert.equal(g.inFlight, 0);
  });

  it('abortAll cancels every request in flight, and later ones fail fast without reaching the network', async () => {
    const calls: { signal: AbortSignal | null | undefined }[] = [];
    const g = createGuardedFetch({ timeoutMs: 60_000, base: hangingFetch(calls) });
    const a = g.fetch('https://x/a');
    const b = g.fetch('https://x/b');
    assert.equal(g.inFlight, 2);
    g.abortAll();
    await assert.rejects(a, (e) => errorName(e) === 'AbortError');
    await assert.rejects(b, (e) => errorName(e) === 'AbortError');
    assert.equal(g.inFlight, 0);
    await assert.rejects(g.fetch('https://x/c'), (e) => errorName(e) === 'AbortError');
    assert.equal(calls.length, 2);
    assert.equal(g.requestCount, 2);
  });

  it("honours the caller's own signal as well", async () => {
    const g = createGuardedFetch({ timeoutMs: 60_000, base: hangingFetch() });
    const mine = new AbortController();
    const p = g.fetch('https://x/a', { signal: mine.signal });
    mine.abort(new DOMException('user cancelled', 'AbortError'));
    await assert.rejects(p, (e) => errorName(e) === 'AbortError');
    assert.equal(g.inFlight, 0);
  });

  it('passes a signal to the base fetch and keeps the other init fields', async () => {
    let seen: RequestInit | undefined;
    const g = createGuardedFetch({ timeoutMs: 1000, base: answeringFetch(200, {}, (i) => (seen = i)) });
    await g.fetch('https://x/a', { method: 'POST', headers: { apikey: 'k' } });
    assert.ok(seen?.signal instanceof AbortSignal);
    assert.equal(seen?.method, 'POST');
    assert.deepEqual(seen?.headers, { apikey: 'k' });
  });

  it('counts requests, including failed ones', async () => {
    let n = 0;
    const base = (async () => {
      n++;
      if (n % 2 === 0) throw new TypeError('fetch failed');
      return new Response('[]', { status: 200 });
    }) as unknown as typeof fetch;
    const g = createGuardedFetch({ timeoutMs: 1000, base });
    for (let i = 0; i < 5; i++) await g.fetch('https://x').catch(() => undefined);
    assert.equal(g.requestCount, 5);
    assert.equal(g.inFlight, 0);
  });

  const observed: {
    name: string;
    status: number;
    headers: Record<string, string>;
    expected: Omit<FetchObservation, 'receivedAt'>;
  }[] = [
    { name: 'no headers', status: 200, headers: {}, expected: { status: 200, serverDate: null, retryAfterMs: null } },
    {
      name: 'Date header',
      status: 200,
      headers: { date: 'Sun, 15 Feb 2026 12:00:00 GMT' },
      expected: { status: 200, serverDate: Date.UTC(2026, 1, 15, 12), retryAfterMs: null },
    },
    {
      name: 'garbage Date header',
      status: 200,
      headers: { date: 'yesterday' },
      expected: { status: 200, serverDate: null, retryAfterMs: null },
    },
    {
      name: '429 with Retry-After seconds',
      status: 429,
      headers: { 'retry-after': '7' },
      expected: { status: 429, serverDate: null, retryAfterMs: 7000 },
    },
    {
      name: '503 with Retry-After HTTP-date, read against the server clock',
      status: 503,
      headers: { date: 'Sun, 15 Feb 2026 12:00:00 GMT', 'retry-after': 'Sun, 15 Feb 2026 12:00:45 GMT' },
      expected: { status: 503, serverDate: Date.UTC(2026, 1, 15, 12), retryAfterMs: 45_000 },
    },
  ];
  for (const c of observed) {
    it(`reports the response: ${c.name}`, async () => {
      const seen: FetchObservation[] = [];
      const g = createGuardedFetch({
        timeoutMs: 1000,
        base: answeringFetch(c.status, c.headers),
        onResponse: (o) => seen.push(o),
      });
      const before = Date.now();
      const res = await g.fetch('https://x');
      const after = Date.now();
      assert.equal(res.status, c.status);
      assert.equal(seen.length, 1);
      const { receivedAt, ...rest } = seen[0];
      assert.deepEqual(rest, c.expected);
      assert.ok(receivedAt >= before && receivedAt <= after, `headers received during the request (${receivedAt})`);
    });
  }
});

describe('guardedFetch: the timeout covers the body, and nothing is left behind', () => {
  /** Headers arrive at once; the body never ends (errors when the request is aborted, as undici does). */
  const stalledBody = ((_input: unknown, init?: RequestInit) => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('[{"run_id":'));
        init?.signal?.addEventListener('abort', () => controller.error(init.signal?.reason), { once: true });
      },
    });
    return Promise.resolve(new Response(stream, { status: 200 }));
  }) as typeof fetch;

  it('a body that stalls after the headers times out', async () => {
    const g = createGuardedFetch({ timeoutMs: 50, base: stalledBody });
    const t0 = Date.now();
    await assert.rejects(g.fetch('http://x/'), (e: unknown) => errorName(e) === 'TimeoutError');
    assert.ok(Date.now() - t0 < 1_000);
    assert.equal(g.inFlight, 0);
  });

  const cases: { name: string; status: number; body: string | null }[] = [
    { name: '200 with a JSON body', status: 200, body: '[{"a":1}]' },
    { name: '201 with an empty body', status: 201, body: '' },
    { name: '204 (null-body status)', status: 204, body: null },
  ];
  for (const c of cases) {
    it(`passes ${c.name} through unchanged`, async () => {
      const base = (() =>
        Promise.resolve(
          new Response(c.body, { status: c.status, headers: { 'content-range': '0-0/1' } }),
        )) as unknown as typeof fetch;
      const g = createGuardedFetch({ timeoutMs: 1_000, base });
      const res = await g.fetch('http://x/');
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get('content-range'), '0-0/1');
      assert.equal(await res.text(), c.body ?? '');
    });
  }

  it('a caller-supplied signal still aborts the request', async () => {
    const g = createGuardedFetch({ timeoutMs: 10_000, base: hangingFetch() });
    const ac = new AbortController();
    const p = g.fetch('http://x/', { signal: ac.signal });
    ac.abort(new DOMException('caller gave up', 'AbortError'));
    await assert.rejects(p, (e: unknown) => errorName(e) === 'AbortError');
  });
});

// The node http/https fetch the backend uses: one keep-alive pool per backend, closed on dispose.
// Against a real local HTTP server.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { createPooledFetch, prepareRequest } from '../../src/data/pooledFetch';

interface Server {
  url: string;
  sockets: Set<unknown>;
  seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<Server> {
  const sockets = new Set<unknown>();
  const seen: Server['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('pooledFetch', () => {
  it('reuses one keep-alive connection for sequential requests, and close() ends it', async () => {
    const s = await serve((_req, res) => res.end('[]'));
    const p = createPooledFetch({ pool: 'own' });
    try {
      for (let i = 0; i < 20; i++) assert.equal(await (await p.fetch(`${s.url}/r?i=${i}`)).text(), '[]');
      assert.equal(s.sockets.size, 1, 'one TCP connection for 20 requests');
      p.close();
      await assert.rejects(p.fetch(`${s.url}/r`), /closed/);
    } finally {
      p.close();
      await s.close();
    }
  });

  it('sends method, headers and body; returns status, headers and body', async () => {
    const s = await serve((_req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-echo': String(Buffer.byteLength(body)) });
      res.end(JSON.stringify({ got: JSON.parse(body) as unknown }));
    });
    const p = createPooledFetch({ pool: 'own' });
    try {
      const res = await p.fetch(`${s.url}/rest/v1/t?select=a`, {
        method: 'POST',
        headers: { apikey: 'k', 'content-type': 'application/json' },
        body: JSON.stringify({ a: 'é' }),
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-echo'), String(Buffer.byteLength('{"a":"é"}')));
      assert.deepEqual(await res.json(), { got: { a: 'é' } });
      assert.equal(s.seen[0].method, 'POST');
      assert.equal(s.seen[0].url, '/rest/v1/t?select=a');
      assert.equal(s.seen[0].headers.apikey, 'k');
    } finally {
      p.close();
      await s.close();
    }
  });

  for (const [enc, zip] of [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const) {
    it(`decodes a ${enc} body`, async () => {
      const s = await serve((_req, res) => {
        res.writeHead(200, { 'content-encoding': enc });
        res.end(zip(Buffer.from('[{"run_id":"x"}]')));
      });
      const p = createPooledFetch({ pool: 'own' });
      try {
        assert.equal(await (await p.fetch(s.url)).text(), '[{"run_id":"x"}]');
        assert.match(String(s.seen[0].headers['accept-encoding']), /gzip/);
      } finally {
        p.close();
        await s.close();
      }
    });
  }

  it('does not follow a redirect (the key goes only to the configured origin)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
      res.end();
    });
    const p = createPooledFetch({ pool: 'own' });
    try {
      const res = await p.fetch(s.url, { headers: { apikey: 'k' } });
      assert.equal(res.status, 302);
      assert.equal(s.seen.length, 1);
    } finally {
      p.close();
      await s.close();
    }
  });

  it('a 204 has a null body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const p = createPooledFetch();
    try {
      const res = await p.fetch(s.url);
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
    } finally {
      p.close();
      await s.close();
    }
  });

  it('an abort fails with the caller’s reason, before and during the response', async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const p = createPooledFetch({ pool: 'own' });
    try {
      const early = new AbortController();
      early.abort(new DOMException('early', 'TimeoutError'));
      await assert.rejects(p.fetch(s.url, { signal: early.signal }), (e: unknown) => (e as Error).message === 'early');
      const late = new AbortController();
      const pending = p.fetch(s.url, { signal: late.signal });
      setTimeout(() => late.abort(new DOMException('Request timed out after 50 ms', 'TimeoutError')), 50);
      await assert.rejects(pending, (e: unknown) => (e as DOMException).name === 'TimeoutError');
    } finally {
      p.close();
      await s.close();
    }
  });

  it('a GET on a kept-alive connection the server dropped is sent again once on a new one; a POST is not', async () => {
    let n = 0;
    // The 2nd request arrives on the reused connection and is dropped without an answer.
    const srv = await serve((req, res) => {
      n++;
      if (n === 2) return req.socket.destroy();
      res.end(`ok ${n}`);
    });
    const p = createPooledFetch();
    try {
      assert.equal(await (await p.fetch(`${srv.url}/a`)).text(), 'ok 1');
      assert.equal(await (await p.fetch(`${srv.url}/b`)).text(), 'ok 3', 'the dropped GET was sent again');
      assert.equal(srv.seen.length, 3);
      const res = await p.fetch(`${srv.url}/c`, { method: 'POST', body: 'x' });
      assert.equal(await res.text(), 'ok 4', 'a POST is answered');
      n = 1; // the next request is dropped again
      await assert.rejects(p.fetch(`${srv.url}/d`, { method: 'POST', body: 'x' }));
      assert.equal(srv.seen.length, 5, 'the dropped POST was not sent again');
    } finally {
      p.close();
      await srv.close();
    }
  });

  it('a refused connection rejects (no hang)', async () => {
    const s = await serve((_req, res) => res.end());
    const url = s.url;
    await s.close();
    const p = createPooledFetch({ pool: 'own' });
    try {
      await assert.rejects(p.fetch(url), /ECONNREFUSED/);
    } finally {
      p.close();
    }
  });

  it('refuses non-http URLs and unsupported bodies with a clear error', async () => {
    const p = createPooledFetch();
    await assert.rejects(p.fetch('file:///etc/passwd'), /Only http\(s\) URLs/);
    await assert.rejects(
      p.fetch('http://127.0.0.1:9/', { method: 'POST', body: new Blob(['x']) }),
      /only string or byte bodies/,
    );
    p.close();
  });
});

describe('pooledFetch: prepareRequest (what fetch arguments become for http.request)', () => {
  const cases: {
    name: string;
    input: Parameters<typeof fetch>[0];
    init?: Parameters<typeof fetch>[1];
    expected: { href: string; secure: boolean; method: string; headers: Record<string, string>; body?: string };
  }[] = [
    {
      name: 'a URL string: GET, accept-encoding of the bodies it decodes, no body',
      input: 'https://x.supabase.co/rest/v1/runs?limit=5',
      expected: {
        href: 'https://x.supabase.co/rest/v1/runs?limit=5',
        secure: true,
        method: 'GET',
        headers: { 'accept-encoding': 'gzip, deflate, br' },
      },
    },
    {
      name: 'a URL object over http, method upper-cased, a string body with its byte length',
      input: new URL('http://127.0.0.1:54321/rest/v1/runs'),
      init: { method: 'post', body: 'é', headers: { 'Content-Type': 'application/json' } },
      expected: {
        href: 'http://127.0.0.1:54321/rest/v1/runs',
        secure: false,
        method: 'POST',
        headers: { 'accept-encoding': 'gzip, deflate, br', 'content-length': '2', 'content-type': 'application/json' },
        body: 'é',
      },
    },
    {
      name: "a Request: its method and headers; the caller's accept-encoding is kept",
      input: new Request('https://h.example/a', { method: 'PATCH', headers: { 'accept-encoding': 'identity' } }),
      expected: {
        href: 'https://h.example/a',
        secure: true,
        method: 'PATCH',
        headers: { 'accept-encoding': 'identity' },
      },
    },
    {
      name: "init's method and headers win over the Request's",
      input: new Request('https://h.example/a', { method: 'DELETE', headers: { 'x-a': '1' } }),
      init: { method: 'head', headers: { 'x-b': '2' } },
      expected: {
        href: 'https://h.example/a',
        secure: true,
        method: 'HEAD',
        headers: { 'accept-encoding': 'gzip, deflate, br', 'x-b': '2' },
      },
    },
    {
      name: 'bytes and URLSearchParams bodies',
      input: 'http://h/',
      init: { method: 'PUT', body: new URLSearchParams({ a: '1', b: 'x y' }) },
      expected: {
        href: 'http://h/',
        secure: false,
        method: 'PUT',
        headers: { 'accept-encoding': 'gzip, deflate, br', 'content-length': '9' },
        body: 'a=1&b=x+y',
      },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const r = prepareRequest(c.input, c.init);
      assert.deepEqual(
        { href: r.url.href, secure: r.secure, method: r.method, headers: r.headers, body: r.body?.toString('utf8') },
        { ...c.expected, body: c.expected.body },
      );
    });

  it('a Uint8Array view sends only its own bytes', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5]);
    const r = prepareRequest('http://h/', { method: 'POST', body: whole.subarray(1, 3) });
    assert.deepEqual([...(r.body ?? [])], [2, 3]);
    assert.equal(r.headers['content-length'], '2');
  });

  it('refuses a non-http URL and an unsupported body with a TypeError', () => {
    assert.throws(() => prepareRequest('file:///etc/passwd'), { name: 'TypeError', message: /not file:/ });
    assert.throws(() => prepareRequest('http://h/', { method: 'POST', body: new Blob(['x']) }), {
      name: 'TypeError',
      message: /only string or byte bodies/,
    });
  });
});

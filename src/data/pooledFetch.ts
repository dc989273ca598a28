// A `fetch` over node's http/https with one keep-alive connection pool per backend, closed on dispose.
//
// Why not the global fetch: in VS Code's extension host the global fetch is wrapped by
// @vscode/proxy-agent, which gives every call a new undici Agent (and its connection pool); each is
// kept alive by its idle keep-alive socket until the server closes it, so 1,000 refreshes leave
// ~100 agents and ~9 MB behind at any moment. node's http/https are patched by VS Code too, for
// proxies (`http.proxy`, `http.proxySupport`, system proxy and certificates), so requests through
// them keep VS Code's proxy support: with `http.proxySupport` "override" (the default) or "fallback",
// VS Code decides per request whether a proxy is used and connects directly through the agent given
// here (for localhost, and for any host under "fallback"; under "override" a direct connection to
// another host goes through node's global keep-alive agent). With "on", VS Code leaves a request
// alone when it names its own agent, so with pool 'global' no agent is named and VS Code's proxy
// support applies as for any extension.
//
// Redirects are not followed: the key is sent only to the configured origin (a 3xx is an answer).
import * as http from 'http';
import * as https from 'https';
import * as zlib from 'zlib';

export interface PooledFetch {
  fetch: typeof fetch;
  /** Closes every connection of the pool (idle and in use); later calls fail. */
  close(): void;
}

export interface PooledFetchOptions {
  /**
   * 'own' (default): one keep-alive pool for this fetch, closed by close(). 'global': node's global
   * agents (also keep-alive), for when VS Code must not see an agent of ours (http.proxySupport "on").
   */
  pool?: 'own' | 'global';
  /** Idle connections close after this long (below the usual 5 s server keep-alive, so we close first). */
  idleTimeoutMs?: number;
  maxSocketsPerOrigin?: number;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE']);
const IDEMPOTENT = new Set(['GET', 'HEAD']);

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  throw new TypeError('This fetch sends only string or byte bodies.');
}

function decoder(encoding: string | undefined): NodeJS.ReadWriteStream | null {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}

export function createPooledFetch(o: PooledFetchOptions = {}): PooledFetch {
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    // Applies to a socket while it is idle in the pool (node destroys a free socket on timeout).
    timeout: o.idleTimeoutMs ?? 4_000,
    maxSockets: o.maxSocketsPerOrigin ?? 8,
    scheduling: 'lifo',
  };
  const own = (o.pool ?? 'own') === 'own';
  const agents = own ? { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) } : null;
  let closed = false;

  const pooled = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      if (closed) return reject(new DOMException('The connection pool is closed', 'AbortError'));
      const signal = init?.signal ?? null;
      // The caller's reason as it is (fetch does the same): the guarded fetch's TimeoutError.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (signal?.aborted) return reject(signal.reason);
      let url: URL;
      let method: string;
      let headers: Headers;
      let body: Buffer | undefined;
      try {
        const request = typeof input === 'object' && 'url' in input ? input : null;
        url = new URL(request ? request.url : input instanceof URL ? input.href : input);
        if (url.protocol !== 'https:' && url.protocol !== 'http:')
          throw new TypeError(`Only http(s) URLs are fetched, not ${url.protocol}`);
        method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
        headers = new Headers(init?.headers ?? request?.headers);
        body = bodyBytes(init?.body);
      } catch (e) {
        return reject(e instanceof Error ? e : new TypeError(String(e)));
      }
      if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
      if (body) headers.set('content-length', String(body.length));
      const secure = url.protocol === 'https:';
      const outgoing: Record<string, string> = {};
      headers.forEach((v, k) => (outgoing[k] = v));
      let settled = false;
      let detach = (): void => undefined;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        detach();
        reject(e instanceof Error || e instanceof DOMException ? e : new Error(String(e)));
      };
      const send = (attempt: number): void => {
        let answered = false;
        const req = (secure ? https : http).request(
          url,
          { method, headers: outgoing, ...(agents ? { agent: secure ? agents.https : agents.http } : {}) },
          (res) => {
            answered = true;
            const status = res.statusCode ?? 0;
            const stream = decoder(res.headers['content-encoding']);
            const source: NodeJS.ReadableStream = stream ? res.pipe(stream) : res;
            const chunks: Buffer[] = [];
            source.on('data', (c: Buffer) => chunks.push(c));
            source.on('error', fail);
            res.on('error', fail);
            res.on('aborted', () => fail(new Error('The connection closed before the response ended')));
            source.on('end', () => {
              if (settled) return;
              const responseHeaders = new Headers();
              for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
                responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
              let response: Response;
              try {
                response = new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), {
                  status,
                  statusText: res.statusMessage ?? '',
                  headers: responseHeaders,
                });
              } catch (e) {
                return fail(new TypeError(`Unusable HTTP status ${status}: ${String(e)}`));
              }
              settled = true;
              signal?.removeEventListener('abort', onAbort);
              resolve(response);
            });
          },
        );
        // The caller's reason (e.g. the guarded fetch's TimeoutError) is what the request fails with.
        const onAbort = () => {
          fail(signal?.reason);
          req.destroy();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        detach = () => signal?.removeEventListener('abort', onAbort);
        req.on('error', (e: NodeJS.ErrnoException) => {
          // A kept-alive connection the server closed just as this request went out fails before any
          // answer: the request never reached it. A GET or HEAD is sent again once, on a new connection.
          if (
            !answered &&
            !settled &&
            attempt === 0 &&
            req.reusedSocket &&
            RETRY_CODES.has(e.code ?? '') &&
            IDEMPOTENT.has(method)
          ) {
            detach();
            return send(1);
          }
          fail(e);
        });
        req.end(body);
      };
      send(0);
    });

  return {
    fetch: pooled,
    close: () => {
      closed = true;
      agents?.http.destroy();
      agents?.https.destroy();
    },
  };
}

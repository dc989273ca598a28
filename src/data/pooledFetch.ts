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

/** A request as it goes out: the URL, whether it is https, the upper-case method, headers and body bytes. */
export interface OutgoingRequest {
  url: URL;
  secure: boolean;
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/**
 * What fetch's arguments ask for, as node's http.request takes it: the Request's or init's method and
 * headers (init wins), accept-encoding for the bodies we decode unless set, content-length of the body.
 * Throws a TypeError for a non-http(s) URL or a body this fetch does not send.
 */
export function prepareRequest(
  input: Parameters<typeof fetch>[0],
  init?: Parameters<typeof fetch>[1],
): OutgoingRequest {
  const request = typeof input === 'object' && 'url' in input ? input : null;
  const url = new URL(request ? request.url : input instanceof URL ? input.href : input);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`Only http(s) URLs are fetched, not ${url.protocol}`);
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  const headers = new Headers(init?.headers ?? request?.headers);
  const body = bodyBytes(init?.body);
  if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
  if (body) headers.set('content-length', String(body.length));
  const outgoing: Record<string, string> = {};
  headers.forEach((v, k) => (outgoing[k] = v));
  return { url, secure: url.protocol === 'https:', method, headers: outgoing, body };
}

/** The one outcome of a fetch: the first failure or the response, whichever comes first; later ones are ignored. */
interface Settlement {
  settled: boolean;
  fail: (e: unknown) => void;
  succeed: (response: Response) => void;
  /** Removes the abort listener of the attempt in flight (replaced when the request is sent again). */
  detach: () => void;
}

function settlement(resolve: (r: Response) => void, reject: (e: unknown) => void): Settlement {
  const s: Settlement = {
    settled: false,
    detach: () => undefined,
    fail: (e) => {
      if (s.settled) return;
      s.settled = true;
      s.detach();
      reject(e instanceof Error || e instanceof DOMException ? e : new Error(String(e)));
    },
    succeed: (response) => {
      s.settled = true;
      s.detach();
      resolve(response);
    },
  };
  return s;
}

/** The fetch Response for a node response whose body has been read. */
function toResponse(res: http.IncomingMessage, chunks: Buffer[]): Response {
  const status = res.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  try {
    return new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), {
      status,
      statusText: res.statusMessage ?? '',
      headers,
    });
  } catch (e) {
    throw new TypeError(`Unusable HTTP status ${status}: ${String(e)}`);
  }
}

/** Reads (and decodes) the body of an answer and settles with its Response, or with the stream's failure. */
function receive(res: http.IncomingMessage, s: Settlement): void {
  const stream = decoder(res.headers['content-encoding']);
  const source: NodeJS.ReadableStream = stream ? res.pipe(stream) : res;
  const chunks: Buffer[] = [];
  source.on('data', (c: Buffer) => chunks.push(c));
  source.on('error', s.fail);
  res.on('error', s.fail);
  res.on('aborted', () => s.fail(new Error('The connection closed before the response ended')));
  source.on('end', () => {
    if (s.settled) return;
    let response: Response;
    try {
      response = toResponse(res, chunks);
    } catch (e) {
      return s.fail(e);
    }
    s.succeed(response);
  });
}

/** One attempt at sending the request; the first (attempt 0) may be sent again once, see below. */
function send(
  o: OutgoingRequest,
  agent: http.Agent | undefined,
  signal: AbortSignal | null,
  s: Settlement,
  attempt: number,
): void {
  let answered = false;
  const req = (o.secure ? https : http).request(
    o.url,
    { method: o.method, headers: o.headers, ...(agent ? { agent } : {}) },
    (res) => {
      answered = true;
      receive(res, s);
    },
  );
  // The caller's reason (e.g. the guarded fetch's TimeoutError) is what the request fails with.
  const onAbort = () => {
    s.fail(signal?.reason);
    req.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  s.detach = () => signal?.removeEventListener('abort', onAbort);
  req.on('error', (e: NodeJS.ErrnoException) => {
    // A kept-alive connection the server closed just as this request went out fails before any
    // answer: the request never reached it. A GET or HEAD is sent again once, on a new connection.
    if (
      !answered &&
      !s.settled &&
      attempt === 0 &&
      req.reusedSocket &&
      RETRY_CODES.has(e.code ?? '') &&
      IDEMPOTENT.has(o.method)
    ) {
      s.detach();
      return send(o, agent, signal, s, 1);
    }
    s.fail(e);
  });
  req.end(o.body);
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
      let request: OutgoingRequest;
      try {
        request = prepareRequest(input, init);
      } catch (e) {
        return reject(e instanceof Error ? e : new TypeError(String(e)));
      }
      const agent = agents ? (request.secure ? agents.https : agents.http) : undefined;
      send(request, agent, signal, settlement(resolve, reject), 0);
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

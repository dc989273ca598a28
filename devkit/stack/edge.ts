// The edge: a thin HTTP proxy standing in for Supabase's API gateway (Kong) in front of the real
// PostgREST. It does what the gateway does for the requests this project sends, and holds the test
// hooks; it knows no SQL and no PostgREST semantics:
//   - routes `/rest/v1/*` to PostgREST's `/*` (query string, method, body and headers unchanged);
//   - answers 401 `{"message":"No API key found in request"}` to a REST request without an `apikey`
//     header, as Supabase's key-auth plugin does; when a request has an apikey but no Authorization
//     header, it forwards the apikey as the bearer token (supabase-js always sends both);
//   - answers CORS preflights, and 404 for paths it has no route for;
//   - test hooks: fault injection (status, body, Retry-After, delay, destroyed socket), close()/listen()
//     to take the backend down and bring it back, a request log, and /__stack/* control requests.
// What the gateway does that this does not: key validation against registered consumers, rate limits,
// the other Supabase services (auth, storage, realtime).
import * as http from 'node:http';
import type { Socket } from 'node:net';

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
  /** The `role` claim of the key the request carried (read, not verified: PostgREST verifies). */
  role: string | null;
  durationMs: number;
  responseBytes: number;
}

export interface FaultRequest {
  method: string;
  path: string;
  table: string | null;
  query: string;
  headers: http.IncomingHttpHeaders;
}

export interface Fault {
  /** Which requests the fault applies to (all REST requests when omitted). */
  match?: (r: FaultRequest) => boolean;
  /** Shorthand matchers, combined with `match`. */
  method?: string;
  table?: string;
  /** Answer with this status and a PostgREST-shaped body instead of forwarding the request. */
  status?: number;
  body?: { code?: string; message?: string; details?: string | null; hint?: string | null };
  /** Retry-After header (seconds, or an HTTP date) for a `status` answer. */
  retryAfter?: number | string;
  /** Delay the request (before forwarding it, or before the `status` answer) by this many ms. */
  delayMs?: number;
  /** Destroy the socket without an answer. */
  destroy?: boolean;
  /** Apply only to this many matching requests, then clear itself. */
  times?: number;
}

export interface EdgeOptions {
  /** PostgREST's base URL (http://127.0.0.1:<port>). */
  upstream: string;
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** Handles /__stack/* requests (the CLI's control endpoint). Return null for 404. */
  control?: (method: string, path: string, body: string) => Promise<{ status: number; body: unknown } | null>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
const MAX_LOG = 50_000;

/** The `role` claim of a JWT, without verifying it (for the request log only). */
export function claimedRole(token: string | null): string | null {
  if (!token) return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { role?: unknown };
    return typeof claims.role === 'string' ? claims.role : null;
  } catch {
    return null;
  }
}

function bearer(h: http.IncomingHttpHeaders): string | null {
  const a = h.authorization;
  if (typeof a === 'string' && /^Bearer\s+/i.test(a)) return a.replace(/^Bearer\s+/i, '').trim() || null;
  return typeof h.apikey === 'string' ? h.apikey.trim() || null : null;
}

export class Edge {
  readonly requestLog: RequestLogEntry[] = [];
  /** The HTTP server (tests may listen to its 'request' event; see test/e2e/gatewayTap.ts). */
  readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly upstream: URL;
  private fault: Fault | null = null;
  private boundPort = 0;
  private listening = false;

  constructor(private readonly opts: EdgeOptions) {
    this.upstream = new URL(opts.upstream);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get port(): number {
    return this.boundPort;
  }
  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }
  get isListening(): boolean {
    return this.listening;
  }

  clearLog(): void {
    this.requestLog.length = 0;
  }
  setFault(fault: Fault | null): void {
    this.fault = fault;
  }

  /** Starts listening (on the port given at construction, else the port used before, else a free one). */
  listen(port?: number): Promise<number> {
    if (this.listening) return Promise.resolve(this.boundPort);
    const want = port ?? (this.boundPort || this.opts.port || 0);
    return new Promise((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      this.server.once('error', onErr);
      this.server.listen(want, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', onErr);
        const a = this.server.address();
        this.boundPort = typeof a === 'object' && a ? a.port : want;
        this.listening = true;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting connections and drops open ones (the backend going away). */
  close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    });
  }

  async shutdown(): Promise<void> {
    await this.close();
    this.agent.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://edge');
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = {
      at: new Date().toISOString(),
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: 0,
      role: claimedRole(bearer(req.headers)),
      durationMs: 0,
      responseBytes: 0,
    };
    const finish = (status: number, bytes: number) => {
      entry.status = status;
      entry.responseBytes = bytes;
      entry.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.requestLog.push(entry);
      if (this.requestLog.length > MAX_LOG) this.requestLog.splice(0, MAX_LOG / 2);
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const buf = body === null ? null : Buffer.from(JSON.stringify(body), 'utf8');
      const h: Record<string, string | number> = {
        'Access-Control-Allow-Origin': '*',
        Date: new Date().toUTCString(),
        ...headers,
      };
      if (buf) {
        h['Content-Type'] = 'application/json; charset=utf-8';
        h['Content-Length'] = buf.length;
      }
      res.writeHead(status, h);
      res.end(method === 'HEAD' ? undefined : (buf ?? undefined));
      finish(status, buf?.length ?? 0);
    };

    try {
      if (url.pathname.startsWith('/__stack/')) {
        const body = await readBody(req);
        const r = this.opts.control ? await this.opts.control(method, url.pathname, body) : null;
        if (!r) send(404, { message: 'unknown control path' });
        else send(r.status, r.body);
        return;
      }
      if (method === 'OPTIONS') {
        send(200, null, {
          'Access-Control-Allow-Methods': 'GET, POST, PATCH, PUT, DELETE, HEAD, OPTIONS',
          'Access-Control-Allow-Headers':
            'Authorization, apikey, Content-Type, Prefer, Range, Range-Unit, Accept, Accept-Profile, Content-Profile, X-Client-Info, X-Retry-Count',
          'Access-Control-Expose-Headers': 'Content-Range, Content-Location, Retry-After, Date',
        });
        return;
      }
      const rest = /^\/rest\/v1(\/.*)?$/.exec(url.pathname);
      if (!rest) {
        send(404, { message: 'no Route matched with those values' });
        return;
      }
      const target = rest[1] ?? '/';
      const resource = decodeURIComponent(target.slice(1));
      const table = resource && !resource.startsWith('rpc/') ? resource : null;

      const f = this.fault;
      if (f) {
        const fr: FaultRequest = { method, path: url.pathname, table, query: entry.query, headers: req.headers };
        const matches =
          (!f.method || f.method.toUpperCase() === method) &&
          (!f.table || f.table === table) &&
          (!f.match || f.match(fr));
        if (matches) {
          if (f.times !== undefined) {
            f.times--;
            if (f.times <= 0) this.fault = null;
          }
          if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
          if (f.destroy) {
            req.socket.destroy();
            finish(0, 0);
            return;
          }
          if (f.status) {
            const headers: Record<string, string> = {};
            if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
            send(
              f.status,
              {
                code: f.body?.code ?? `PGRST${f.status}`,
                details: f.body?.details ?? 'injected by the stack edge',
                hint: f.body?.hint ?? null,
                message: f.body?.message ?? http.STATUS_CODES[f.status] ?? 'injected fault',
              },
              headers,
            );
            return;
          }
        }
      }

      if (typeof req.headers.apikey !== 'string' || req.headers.apikey.trim() === '') {
        send(401, { message: 'No API key found in request' });
        return;
      }
      await this.forward(req, res, `${target}${url.search}`, method, finish);
    } catch (e) {
      if (!res.headersSent) send(502, { message: `edge error: ${e instanceof Error ? e.message : String(e)}` });
      else res.destroy();
    }
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathAndQuery: string,
    method: string,
    finish: (status: number, bytes: number) => void,
  ): Promise<void> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    if (!headers.authorization && typeof req.headers.apikey === 'string')
      headers.authorization = `Bearer ${req.headers.apikey}`;
    return new Promise((resolve) => {
      const up = http.request(
        {
          protocol: this.upstream.protocol,
          hostname: this.upstream.hostname,
          port: this.upstream.port,
          path: pathAndQuery,
          method,
          headers,
          agent: this.agent,
        },
        (ur) => {
          const out: Record<string, string | string[]> = { 'Access-Control-Allow-Origin': '*' };
          for (const [k, v] of Object.entries(ur.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
          out.date ??= new Date().toUTCString();
          res.writeHead(ur.statusCode ?? 502, out);
          let bytes = 0;
          ur.on('data', (c: Buffer) => {
            bytes += c.length;
            res.write(c);
          });
          ur.on('end', () => {
            res.end();
            finish(ur.statusCode ?? 502, bytes);
            resolve();
          });
          ur.on('error', () => {
            res.destroy();
            finish(0, bytes);
            resolve();
          });
        },
      );
      up.on('error', (e) => {
        if (!res.headersSent) {
          const buf = Buffer.from(
            JSON.stringify({ message: `An invalid response was received from the upstream server (${e.message})` }),
          );
          res.writeHead(502, {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': buf.length,
            Date: new Date().toUTCString(),
          });
          res.end(buf);
          finish(502, buf.length);
        } else res.destroy();
        resolve();
      });
      // A client that goes away takes its upstream request with it.
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      req.pipe(up);
    });
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

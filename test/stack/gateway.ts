// A PostgREST-compatible HTTP gateway over `pg`, for the subset of PostgREST that supabase-js uses.
// It is a stand-in, because PostgREST itself cannot be installed on this machine (see README.md).
//
// Every request runs in one transaction on a pooled connection that logged in as `authenticator`:
// SET LOCAL ROLE <role from the JWT>, the request.jwt.claims / request.method / request.path settings,
// then the statement. Row-level security of the real schema decides what is visible and allowed.
// SQL is always parameterised; identifiers are checked against a cached catalog and quoted.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Pool, PoolClient } from 'pg';
import { verifyJwt } from './jwt';
import {
  ApiError, Condition, Field, Filter, OrderTerm, Select, parseColumnsParam, parseFilterParam, parseLogic,
  parseNonNegativeInt, parseOrder, parsePrefer, parseSelect, syntaxError,
} from './pgrst-parse';

export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
  role: string | null;
  durationMs: number;
  responseBytes: number;
}

export interface FaultRequest { method: string; path: string; table: string | null; query: string; headers: http.IncomingHttpHeaders }

export interface Fault {
  /** Which requests the fault applies to (all REST requests when omitted). */
  match?: (r: FaultRequest) => boolean;
  /** Shorthand matchers, combined with `match`. */
  method?: string;
  table?: string;
  /** Answer with this status and a PostgREST-shaped body instead of running the request. */
  status?: number;
  body?: { code?: string; message?: string; details?: string | null; hint?: string | null };
  /** Retry-After header (seconds, or an HTTP date) for a `status` answer. */
  retryAfter?: number | string;
  /** Delay the response (before running it, or before the `status` answer) by this many ms. */
  delayMs?: number;
  /** Destroy the socket without an answer. */
  destroy?: boolean;
  /** Apply only to this many matching requests, then clear itself. */
  times?: number;
}

export interface GatewayOptions {
  /** Connection string of the `authenticator` login role. */
  databaseUrl: string;
  jwtSecret: string;
  port?: number;
  host?: string;
  poolSize?: number;
  log?: (line: string) => void;
  /** Handles /__stack/* requests (the CLI's control endpoint). Return false for 404. */
  control?: (method: string, path: string, body: string) => Promise<{ status: number; body: unknown } | null>;
}

interface ColumnInfo { name: string; type: string; category: string; notNull: boolean; hasDefault: boolean }
interface TableInfo { name: string; columns: Map<string, ColumnInfo>; pk: string[] }
interface FunctionInfo { name: string; argNames: string[]; argTypes: string[]; nDefaults: number; retSet: boolean; retComposite: boolean; volatile: string }
interface Catalog { tables: Map<string, TableInfo>; functions: Map<string, FunctionInfo[]> }

interface Auth { role: ApiRole; claims: Record<string, unknown> }

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string { this.values.push(v); return `$${this.values.length}`; }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const SQL_OPS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE', match: '~', imatch: '~*', isdistinct: 'IS DISTINCT FROM' };

/** HTTP status PostgREST uses for a PostgreSQL error code. */
export function statusForPgCode(code: string, role: string): number {
  if (code === '42501') return role === 'anon' ? 401 : 403;
  if (code === '23505' || code === '23503') return 409;
  if (code === '42P01' || code === '42883') return 404;
  if (code === '25006') return 405;
  if (code === 'P0001') return 400;
  const cls = code.slice(0, 2);
  if (cls === '08' || cls === '53') return 503;
  if (cls === '0L' || cls === '0P' || cls === '28') return 403;
  if (['09', '25', '2D', '38', '39', '3B', '40', '54', '55', '57', '58', 'F0', 'HV', 'XX', 'P0'].includes(cls)) return 500;
  return 400;
}

function jsonBody(e: { code: string; message: string; details?: string | null; hint?: string | null }): string {
  return JSON.stringify({ code: e.code, details: e.details ?? null, hint: e.hint ?? null, message: e.message });
}

export class Gateway {
  readonly requestLog: RequestLogEntry[] = [];
  private readonly pool: Pool;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private catalog: Catalog | null = null;
  private catalogLoading: Promise<Catalog> | null = null;
  private fault: Fault | null = null;
  private boundPort = 0;
  private listening = false;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.log ?? (() => undefined);
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10, idleTimeoutMillis: 10_000 });
    this.pool.on('error', (e) => this.log(`[gateway] idle connection error: ${e.message}`));
    this.server = http.createServer((req, res) => { void this.handle(req, res); });
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  get port(): number { return this.boundPort; }
  get url(): string { return `http://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`; }
  get isListening(): boolean { return this.listening; }

  clearLog(): void { this.requestLog.length = 0; }
  setFault(fault: Fault | null): void { this.fault = fault; }

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

  /** Stops accepting connections and drops open ones (simulates the backend going away). */
  close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    });
  }

  /** close() and release the database pool. */
  async shutdown(): Promise<void> {
    await this.close();
    await this.pool.end().catch(() => undefined);
  }

  /** Forget the cached catalog (after DDL). */
  refreshSchemaCache(): void { this.catalog = null; this.catalogLoading = null; }

  // ---- catalog ------------------------------------------------------------------------------

  private async getCatalog(): Promise<Catalog> {
    if (this.catalog) return this.catalog;
    if (!this.catalogLoading) {
      this.catalogLoading = this.loadCatalog().then((c) => { this.catalog = c; return c; }, (e) => { this.catalogLoading = null; throw e; });
    }
    return this.catalogLoading;
  }

  private async loadCatalog(): Promise<Catalog> {
    const cols = await this.pool.query<{ relname: string; attname: string; type: string; typcategory: string; attnotnull: boolean; atthasdef: boolean }>(`
      SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory, a.attnotnull, a.atthasdef
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      ORDER BY c.relname, a.attnum`);
    const pks = await this.pool.query<{ relname: string; attname: string }>(`
      SELECT c.relname, a.attname
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
      WHERE i.indisprimary AND n.nspname = 'public'`);
    const fns = await this.pool.query<{ proname: string; argnames: string[] | null; argmodes: string[] | null; argtypes: string[]; pronargs: number; pronargdefaults: number; proretset: boolean; composite: boolean; provolatile: string }>(`
      SELECT p.proname, p.proargnames AS argnames, p.proargmodes::text[] AS argmodes,
             ARRAY(SELECT format_type(x.t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS x(t, i) ORDER BY x.i) AS argtypes,
             p.pronargs, p.pronargdefaults, p.proretset, p.provolatile::text AS provolatile,
             (rt.typtype = 'c' OR rt.oid = 'record'::regtype) AS composite
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_type rt ON rt.oid = p.prorettype
      WHERE n.nspname = 'public' AND p.prokind = 'f'`);
    const tables = new Map<string, TableInfo>();
    for (const r of cols.rows) {
      let t = tables.get(r.relname);
      if (!t) { t = { name: r.relname, columns: new Map(), pk: [] }; tables.set(r.relname, t); }
      t.columns.set(r.attname, { name: r.attname, type: r.type, category: r.typcategory, notNull: r.attnotnull, hasDefault: r.atthasdef });
    }
    for (const r of pks.rows) tables.get(r.relname)?.pk.push(r.attname);
    const functions = new Map<string, FunctionInfo[]>();
    for (const r of fns.rows) {
      const names = r.argnames ?? [];
      const modes = r.argmodes ?? names.map(() => 'i');
      const inNames = names.filter((_, i) => ['i', 'b', 'v'].includes(modes[i] ?? 'i')).slice(0, r.pronargs);
      const list = functions.get(r.proname) ?? [];
      list.push({ name: r.proname, argNames: inNames, argTypes: r.argtypes, nDefaults: r.pronargdefaults, retSet: r.proretset, retComposite: r.composite, volatile: r.provolatile });
      functions.set(r.proname, list);
    }
    return { tables, functions };
  }

  private async table(name: string): Promise<TableInfo> {
    const cat = await this.getCatalog();
    const t = cat.tables.get(name);
    if (!t) {
      throw new ApiError(404, 'PGRST205', `Could not find the table 'public.${name}' in the schema cache`, null, null);
    }
    return t;
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = { at: new Date().toISOString(), method, path: url.pathname, query: url.search.replace(/^\?/, ''), status: 0, role: null, durationMs: 0, responseBytes: 0 };
    const finish = (status: number, bytes: number) => {
      entry.status = status;
      entry.responseBytes = bytes;
      entry.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.requestLog.push(entry);
    };
    const send = (status: number, body: string | null, headers: Record<string, string> = {}) => {
      const buf = body === null || method === 'HEAD' ? null : Buffer.from(body, 'utf8');
      const h: Record<string, string | number> = { 'Access-Control-Allow-Origin': '*', ...headers };
      if (body !== null) h['Content-Type'] ??= 'application/json; charset=utf-8';
      if (buf) h['Content-Length'] = buf.length;
      res.writeHead(status, h);
      res.end(buf ?? undefined);
      finish(status, buf?.length ?? 0);
    };
    const sendError = (e: unknown, role: string) => {
      if (e instanceof ApiError) {
        send(e.status, jsonBody({ code: e.code, message: e.message, details: e.details, hint: e.hint }), e.headers);
        return;
      }
      const pe = e as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
      if (typeof pe?.code === 'string' && /^[0-9A-Z]{5}$/.test(pe.code)) {
        send(statusForPgCode(pe.code, role), jsonBody({ code: pe.code, message: String(pe.message), details: typeof pe.detail === 'string' ? pe.detail : null, hint: typeof pe.hint === 'string' ? pe.hint : null }));
        return;
      }
      const msg = e instanceof Error ? e.message : String(e);
      // A dead database connection looks like PostgREST's "could not connect" answer.
      if (/ECONNREFUSED|terminat|Connection terminated|connect/i.test(msg)) {
        send(503, jsonBody({ code: 'PGRST001', message: 'Database client error. Retrying the connection.', details: msg }));
        return;
      }
      send(500, jsonBody({ code: 'PGRST000', message: msg }));
    };

    try {
      const body = await readBody(req);
      if (url.pathname.startsWith('/__stack/')) {
        const r = this.opts.control ? await this.opts.control(method, url.pathname, body) : null;
        if (!r) { send(404, JSON.stringify({ message: 'unknown control path' })); return; }
        send(r.status, JSON.stringify(r.body));
        return;
      }
      if (method === 'OPTIONS') {
        send(200, null, {
          'Access-Control-Allow-Methods': 'GET, POST, PATCH, PUT, DELETE, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, apikey, Content-Type, Prefer, Range, Range-Unit, Accept, Accept-Profile, Content-Profile, X-Client-Info, X-Retry-Count',
          'Access-Control-Expose-Headers': 'Content-Range, Content-Location, Retry-After, Date',
        });
        return;
      }
      const rest = /^\/rest\/v1(?:\/(.*))?$/.exec(url.pathname);
      const target = rest ? decodeURIComponent(rest[1] ?? '') : null;
      const table = target && !target.startsWith('rpc/') && target !== '' ? target : null;

      // fault injection
      const f = this.fault;
      if (f && rest) {
        const fr: FaultRequest = { method, path: url.pathname, table, query: entry.query, headers: req.headers };
        const matches = (!f.method || f.method.toUpperCase() === method) && (!f.table || f.table === table) && (!f.match || f.match(fr));
        if (matches) {
          if (f.times !== undefined) { f.times--; if (f.times <= 0) this.fault = null; }
          if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
          if (f.destroy) { req.socket.destroy(); finish(0, 0); return; }
          if (f.status) {
            const headers: Record<string, string> = {};
            if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
            send(f.status, jsonBody({ code: f.body?.code ?? `PGRST${f.status}`, message: f.body?.message ?? (http.STATUS_CODES[f.status] ?? 'injected fault'), details: f.body?.details ?? 'injected by the stack gateway', hint: f.body?.hint ?? null }), headers);
            return;
          }
        }
      }

      if (!rest) { send(404, jsonBody({ code: 'PGRST125', message: `Invalid path specified in request URL: ${url.pathname}` })); return; }

      let auth: Auth;
      try {
        auth = this.authenticate(req);
      } catch (e) {
        sendError(e, 'anon');
        return;
      }
      entry.role = auth.role;
      const profile = req.headers['accept-profile'] ?? req.headers['content-profile'];
      if (profile !== undefined && profile !== 'public') {
        throw new ApiError(406, 'PGRST106', `Invalid schema: ${String(profile)}`, null, 'Only the following schemas are exposed: public');
      }
      if (target === '' || target === null) {
        send(200, JSON.stringify({ swagger: '2.0', info: { title: 'PostgREST stand-in (test/stack/gateway.ts)', version: 'subset' }, paths: {} }));
        return;
      }
      const out = target.startsWith('rpc/')
        ? await this.rpc(method, target.slice(4), url, body, req, auth)
        : await this.tableRequest(method, target, url, body, req, auth);
      send(out.status, out.body, out.headers);
    } catch (e) {
      try { sendError(e, entry.role ?? 'anon'); } catch { /* response already gone */ }
    }
  }

  private authenticate(req: http.IncomingMessage): Auth {
    const authz = req.headers.authorization;
    let token: string | null = null;
    if (typeof authz === 'string' && authz.trim() !== '') {
      const m = /^Bearer\s+(.+)$/i.exec(authz.trim());
      if (!m) throw new ApiError(401, 'PGRST301', 'Expected "Bearer <JWT>" in the Authorization header', null, null, { 'WWW-Authenticate': 'Bearer' });
      token = m[1].trim();
    } else if (typeof req.headers.apikey === 'string' && req.headers.apikey.trim() !== '') {
      token = req.headers.apikey.trim();
    }
    if (token === null) return { role: 'anon', claims: { role: 'anon' } };
    const v = verifyJwt(token, this.opts.jwtSecret);
    if (!v.ok) {
      if (v.reason === 'expired') throw new ApiError(401, 'PGRST303', 'JWT expired', null, null, { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="JWT expired"' });
      throw new ApiError(401, 'PGRST301', v.message, null, null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    const role = v.claims.role ?? 'anon';
    if (typeof role !== 'string' || !(API_ROLES as readonly string[]).includes(role)) {
      throw new ApiError(401, 'PGRST301', `JWT role ${JSON.stringify(role)} is not one of ${API_ROLES.join(', ')}`, null, null, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    return { role: role as ApiRole, claims: v.claims };
  }

  /** Runs `fn` in one transaction as the request's role with the request settings. */
  private async inTransaction<T>(auth: Auth, method: string, path: string, readOnly: boolean, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      // Role names come from the fixed API_ROLES list, never from the request text.
      if (!(API_ROLES as readonly string[]).includes(auth.role)) throw new Error('role not allowed');
      await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED${readOnly ? ' READ ONLY' : ''}; SET LOCAL ROLE ${quoteIdent(auth.role)}; SET LOCAL statement_timeout = '30s'`);
      await client.query(
        `SELECT set_config('request.jwt.claims', $1, true), set_config('request.jwt.claim.role', $2, true),
                set_config('request.jwt.claim.sub', $3, true), set_config('request.method', $4, true), set_config('request.path', $5, true)`,
        [JSON.stringify(auth.claims), auth.role, typeof auth.claims.sub === 'string' ? auth.claims.sub : '', method, path],
      );
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try { await client.query('ROLLBACK'); } catch { broken = true; }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  // ---- SQL building -------------------------------------------------------------------------

  private fieldSql(t: TableInfo, f: Field, p: Params, qualifier = ''): string {
    if (!t.columns.has(f.column)) {
      throw new ApiError(400, '42703', `column ${t.name}.${f.column} does not exist`);
    }
    let sql = qualifier + quoteIdent(f.column);
    for (const step of f.path) {
      sql = `(${sql}${step.arrow}${typeof step.key === 'number' ? `${p.add(step.key)}::integer` : `${p.add(step.key)}::text`})`;
    }
    return sql;
  }

  private selectSql(t: TableInfo, sel: Select, p: Params): string {
    const parts: string[] = [];
    for (const item of sel) {
      if (item.star) { parts.push('*'); continue; }
      let expr = this.fieldSql(t, item.field, p);
      if (item.cast) expr = `(${expr})::${item.cast}`; // cast names come from a fixed table in pgrst-parse
      const last = item.field.path[item.field.path.length - 1];
      const name = item.alias ?? (last ? String(last.key) : item.field.column);
      parts.push(`${expr} AS ${quoteIdent(name)}`);
    }
    return parts.join(', ');
  }

  private conditionSql(t: TableInfo, c: Condition, p: Params): string {
    const lhs = this.fieldSql(t, c.field, p);
    let sql: string;
    if (c.op === 'in') {
      const vals = c.value as string[];
      sql = vals.length === 0 ? 'false' : `${lhs} IN (${vals.map((v) => p.add(v)).join(', ')})`;
    } else if (c.op === 'is') {
      const v = c.value as string;
      sql = `${lhs} IS ${v === 'not_null' ? 'NOT NULL' : v.toUpperCase()}`;
    } else if (c.op === 'like' || c.op === 'ilike') {
      sql = `(${lhs})::text ${SQL_OPS[c.op]} ${p.add((c.value as string).replace(/\*/g, '%'))}`;
    } else if (c.op === 'match' || c.op === 'imatch') {
      sql = `(${lhs})::text ${SQL_OPS[c.op]} ${p.add(c.value)}`;
    } else {
      sql = `${lhs} ${SQL_OPS[c.op]} ${p.add(c.value)}`;
    }
    return c.negate ? `NOT (${sql})` : sql;
  }

  private filterSql(t: TableInfo, f: Filter, p: Params): string {
    if (f.kind === 'cond') return this.conditionSql(t, f, p);
    const inner = f.items.map((x) => `(${this.filterSql(t, x, p)})`).join(f.op === 'and' ? ' AND ' : ' OR ');
    const sql = inner === '' ? 'true' : inner;
    return f.negate ? `NOT (${sql})` : `(${sql})`;
  }

  private orderSql(t: TableInfo, terms: OrderTerm[], p: Params): string {
    return terms.map((o) => `${this.fieldSql(t, o.field, p)}${o.dir ? ` ${o.dir.toUpperCase()}` : ''}${o.nulls ? ` NULLS ${o.nulls.toUpperCase()}` : ''}`).join(', ');
  }

  /** Filters from the query string (everything that is not a reserved parameter). */
  private whereSql(t: TableInfo, url: URL, p: Params, extraReserved: string[] = []): string {
    const reserved = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns', ...extraReserved]);
    const conds: string[] = [];
    for (const [key, value] of url.searchParams) {
      if (reserved.has(key)) continue;
      let f: Filter;
      const lm = /^(not\.)?(and|or)$/.exec(key);
      if (lm) f = parseLogic(lm[2] as 'and' | 'or', !!lm[1], value);
      else f = parseFilterParam(key, value);
      conds.push(this.filterSql(t, f, p));
    }
    return conds.length ? conds.map((c) => `(${c})`).join(' AND ') : 'true';
  }

  private toParam(col: ColumnInfo, v: unknown): unknown {
    if (v === null || v === undefined) return null;
    if (col.type === 'json' || col.type === 'jsonb') return JSON.stringify(v);
    if (col.category === 'A' && Array.isArray(v)) return v;
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  // ---- tables -------------------------------------------------------------------------------

  private async tableRequest(method: string, name: string, url: URL, rawBody: string, req: http.IncomingMessage, auth: Auth): Promise<{ status: number; body: string | null; headers: Record<string, string> }> {
    const t = await this.table(name);
    const prefer = parsePrefer(req.headers.prefer);
    const accept = String(req.headers.accept ?? 'application/json');
    const single = accept.includes('application/vnd.pgrst.object+json');
    const stripNulls = /nulls=stripped/.test(accept);
    if (!single && !/application\/json|application\/vnd\.pgrst\.array\+json|\*\/\*/.test(accept) && accept !== '') {
      throw new ApiError(406, 'PGRST107', `None of these media types are available: ${accept}`);
    }
    const count = prefer.count === 'exact' || prefer.count === 'planned' || prefer.count === 'estimated';
    const applied: string[] = [];
    if (count) applied.push(`count=${prefer.count}`);
    const sel = parseSelect(url.searchParams.get('select'));
    const rowJson = (alias: string) => (stripNulls ? `json_strip_nulls(row_to_json(${alias}))` : `row_to_json(${alias})`);
    const tq = `public.${quoteIdent(t.name)}`;

    if (method === 'GET' || method === 'HEAD') {
      const p = new Params();
      const where = this.whereSql(t, url, p);
      const nWhere = p.values.length;
      const cols = this.selectSql(t, sel, p);
      const orderRaw = url.searchParams.get('order');
      const order = orderRaw ? ` ORDER BY ${this.orderSql(t, parseOrder(orderRaw), p)}` : '';
      let offset = url.searchParams.has('offset') ? parseNonNegativeInt(url.searchParams.get('offset') ?? '', 'offset') : 0;
      let limit: number | null = url.searchParams.has('limit') ? parseNonNegativeInt(url.searchParams.get('limit') ?? '', 'limit') : null;
      const range = req.headers.range;
      if (typeof range === 'string' && range.trim() !== '') {
        const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
        if (!m) throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', `Invalid Range header ${range}`);
        const from = Number(m[1]);
        offset = Math.max(offset, from);
        if (m[2] !== '') {
          const to = Number(m[2]);
          if (to < from) throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', 'The lower boundary must be lower than or equal to the upper boundary in the Range header.');
          limit = limit === null ? to - from + 1 : Math.min(limit, to - from + 1);
        }
      }
      const lim = limit === null ? '' : ` LIMIT ${p.add(limit)}`;
      const off = offset ? ` OFFSET ${p.add(offset)}` : '';
      const sql = `SELECT count(*)::int AS n, coalesce(json_agg(${rowJson('_pgrst_t')}), '[]')::text AS body FROM (SELECT ${cols} FROM ${tq} WHERE ${where}${order}${lim}${off}) _pgrst_t`;
      const result = await this.inTransaction(auth, method, url.pathname, true, async (c) => {
        const r = await c.query<{ n: number; body: string }>(sql, p.values);
        let total: number | null = null;
        if (count) {
          const cr = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${tq} WHERE ${where}`, p.values.slice(0, nWhere));
          total = Number(cr.rows[0].n);
        }
        return { n: r.rows[0].n, body: r.rows[0].body, total };
      });
      const headers: Record<string, string> = {};
      if (applied.length) headers['Preference-Applied'] = applied.join(', ');
      if (result.total !== null && offset > 0 && offset >= result.total && result.total > 0) {
        throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${offset} was requested, but there are only ${result.total} rows.`, null, { 'Content-Range': `*/${result.total}` });
      }
      headers['Content-Range'] = `${result.n === 0 ? '*' : `${offset}-${offset + result.n - 1}`}/${result.total ?? '*'}`;
      if (single) {
        if (result.n !== 1) throw singleError(result.n);
        headers['Content-Type'] = 'application/vnd.pgrst.object+json; charset=utf-8';
        return { status: 200, body: JSON.stringify(JSON.parse(result.body)[0]), headers };
      }
      const partial = result.total !== null && result.n < result.total;
      return { status: partial ? 206 : 200, body: result.body, headers };
    }

    const representation = prefer.return === 'representation';
    if (representation) applied.push('return=representation');
    else if (prefer.return === 'minimal') applied.push('return=minimal');
    let payload: unknown = undefined;
    if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
      try { payload = rawBody.trim() === '' ? (method === 'POST' ? [] : {}) : JSON.parse(rawBody); } catch (e) {
        throw new ApiError(400, 'PGRST102', 'Empty or invalid json', e instanceof Error ? e.message : null);
      }
    }
    const p = new Params();
    let mutation: string;
    if (method === 'POST') {
      const rows = Array.isArray(payload) ? payload : [payload];
      if (!rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) throw new ApiError(400, 'PGRST102', 'All object keys must match', 'Expected a JSON object or an array of objects');
      const objs = rows as Record<string, unknown>[];
      const columnsParam = url.searchParams.get('columns');
      const columns = columnsParam !== null ? parseColumnsParam(columnsParam) : [...new Set(objs.flatMap((o) => Object.keys(o)))];
      for (const c of columns) {
        if (!t.columns.has(c)) throw new ApiError(400, 'PGRST204', `Could not find the '${c}' column of '${t.name}' in the schema cache`);
      }
      const missingDefault = prefer.missing === 'default';
      if (missingDefault) applied.push('missing=default');
      if (objs.length === 0) {
        mutation = `SELECT * FROM ${tq} WHERE false`;
      } else if (columns.length === 0) {
        if (objs.length !== 1) throw new ApiError(400, 'PGRST102', 'All object keys must match');
        mutation = `INSERT INTO ${tq} DEFAULT VALUES`;
      } else {
        // Without a columns parameter, a key an object lacks means the column's default; with one
        // (supabase-js's array insert) it means NULL unless Prefer: missing=default.
        const absentIsDefault = columnsParam === null || missingDefault;
        const values = objs.map((o) => `(${columns.map((c) => (c in o ? p.add(this.toParam(t.columns.get(c) as ColumnInfo, o[c])) : absentIsDefault ? 'DEFAULT' : 'NULL')).join(', ')})`);
        mutation = `INSERT INTO ${tq} (${columns.map(quoteIdent).join(', ')}) VALUES ${values.join(', ')}`;
        const resolution = prefer.resolution;
        if (resolution === 'merge-duplicates' || resolution === 'ignore-duplicates') {
          applied.push(`resolution=${resolution}`);
          const oc = url.searchParams.get('on_conflict');
          const target = oc ? parseColumnsParam(oc) : t.pk;
          for (const c of target) if (!t.columns.has(c)) throw new ApiError(400, '42703', `column ${t.name}.${c} does not exist`);
          if (target.length === 0) throw new ApiError(400, 'PGRST100', 'on_conflict is required for a table without a primary key');
          const conflict = ` ON CONFLICT (${target.map(quoteIdent).join(', ')})`;
          mutation += resolution === 'ignore-duplicates'
            ? `${conflict} DO NOTHING`
            : `${conflict} DO UPDATE SET ${columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
        }
      }
      if (!mutation.startsWith('SELECT')) mutation += ' RETURNING *';
    } else if (method === 'PATCH') {
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json', 'PATCH expects a JSON object');
      const obj = payload as Record<string, unknown>;
      const keys = Object.keys(obj);
      for (const c of keys) if (!t.columns.has(c)) throw new ApiError(400, 'PGRST204', `Could not find the '${c}' column of '${t.name}' in the schema cache`);
      const sets = keys.map((c) => `${quoteIdent(c)} = ${p.add(this.toParam(t.columns.get(c) as ColumnInfo, obj[c]))}`);
      const where = this.whereSql(t, url, p);
      mutation = sets.length ? `UPDATE ${tq} SET ${sets.join(', ')} WHERE ${where} RETURNING *` : `SELECT * FROM ${tq} WHERE false`;
    } else if (method === 'DELETE') {
      const where = this.whereSql(t, url, p);
      mutation = `DELETE FROM ${tq} WHERE ${where} RETURNING *`;
    } else {
      throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
    }
    const cols = this.selectSql(t, sel, p);
    const sql = `WITH _pgrst_m AS (${mutation}) SELECT count(*)::int AS n, coalesce(json_agg(${rowJson('_pgrst_t')}), '[]')::text AS body FROM (SELECT ${cols} FROM _pgrst_m) _pgrst_t`;
    const result = await this.inTransaction(auth, method, url.pathname, false, async (c) => {
      const r = await c.query<{ n: number; body: string }>(sql, p.values);
      const row = r.rows[0];
      // PostgREST rolls back a mutation whose single-object answer is not exactly one row.
      if (single && representation && row.n !== 1) throw singleError(row.n);
      return row;
    });
    const headers: Record<string, string> = {};
    if (applied.length) headers['Preference-Applied'] = applied.join(', ');
    headers['Content-Range'] = `*/${count ? result.n : '*'}`;
    const okStatus = method === 'POST' ? 201 : representation ? 200 : 204;
    if (!representation) return { status: okStatus, body: null, headers };
    if (single) {
      headers['Content-Type'] = 'application/vnd.pgrst.object+json; charset=utf-8';
      return { status: okStatus, body: JSON.stringify(JSON.parse(result.body)[0]), headers };
    }
    return { status: okStatus, body: result.body, headers };
  }

  // ---- rpc ----------------------------------------------------------------------------------

  private async rpc(method: string, fnName: string, url: URL, rawBody: string, req: http.IncomingMessage, auth: Auth): Promise<{ status: number; body: string | null; headers: Record<string, string> }> {
    let args: Record<string, unknown>;
    if (method === 'POST') {
      try { args = rawBody.trim() === '' ? {} : JSON.parse(rawBody); } catch (e) {
        throw new ApiError(400, 'PGRST102', 'Empty or invalid json', e instanceof Error ? e.message : null);
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new ApiError(400, 'PGRST102', 'Expected a JSON object of named arguments');
    } else if (method === 'GET' || method === 'HEAD') {
      args = {};
      for (const [k, v] of url.searchParams) args[k] = v;
    } else {
      throw new ApiError(405, 'PGRST101', 'Only GET, HEAD or POST are allowed for functions');
    }
    const cat = await this.getCatalog();
    const keys = Object.keys(args);
    const candidates = (cat.functions.get(fnName) ?? []).filter((f) => {
      const required = f.argNames.slice(0, f.argNames.length - f.nDefaults);
      return keys.every((k) => f.argNames.includes(k)) && required.every((r) => keys.includes(r));
    });
    if (candidates.length !== 1) {
      throw new ApiError(404, 'PGRST202', `Could not find the function public.${fnName}(${keys.join(', ')}) in the schema cache`, null,
        candidates.length > 1 ? 'Several overloaded functions match these arguments' : null);
    }
    const fn = candidates[0];
    if (method !== 'POST' && fn.volatile === 'v') throw new ApiError(405, 'PGRST101', 'Cannot use the GET method on RPC with a volatile function');
    const p = new Params();
    const call = `public.${quoteIdent(fn.name)}(${keys.map((k) => {
      const type = fn.argTypes[fn.argNames.indexOf(k)];
      const v = args[k];
      const val = v === null ? null : type === 'json' || type === 'jsonb' ? JSON.stringify(v) : Array.isArray(v) && type.endsWith('[]') ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return `${quoteIdent(k)} => ${p.add(val)}::${type}`; // type comes from pg_proc via format_type
    }).join(', ')})`;
    let sql: string;
    if (fn.retComposite || fn.retSet) {
      sql = fn.retComposite
        ? `SELECT count(*)::int AS n, coalesce(json_agg(row_to_json(_pgrst_r)), '[]')::text AS body FROM ${call} _pgrst_r`
        : `SELECT count(*)::int AS n, coalesce(json_agg(_pgrst_v), '[]')::text AS body FROM ${call} AS _pgrst_v`;
    } else {
      sql = `SELECT 1 AS n, coalesce(to_json(${call}), 'null'::json)::text AS body`;
    }
    const result = await this.inTransaction(auth, method, url.pathname, fn.volatile !== 'v', async (c) => (await c.query<{ n: number; body: string }>(sql, p.values)).rows[0]);
    let body = result.body;
    if (fn.retComposite && !fn.retSet) body = JSON.stringify(JSON.parse(body)[0] ?? null);
    const single = String(req.headers.accept ?? '').includes('application/vnd.pgrst.object+json');
    if (single && fn.retSet) {
      if (result.n !== 1) throw singleError(result.n);
      body = JSON.stringify(JSON.parse(body)[0]);
    }
    return { status: 200, body, headers: { 'Content-Range': fn.retSet ? `${result.n ? `0-${result.n - 1}` : '*'}/*` : '*/*' } };
  }
}

function singleError(n: number): ApiError {
  return new ApiError(406, 'PGRST116', 'JSON object requested, multiple (or no) rows returned', `The result contains ${n} rows`);
}

function readBody(req: http.IncomingMessage, limit = 10 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new ApiError(413, 'PGRST413', 'Payload too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createGateway(opts: GatewayOptions): Gateway {
  return new Gateway(opts);
}

export { ApiError, syntaxError };

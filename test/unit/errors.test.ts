import * as assert from 'node:assert/strict';
import type { BackendErrorKind } from '../../src/data/backend';
import { classifyFailure, isTransient, RawFailure } from '../../src/data/errors';
import { SERVICE_JWT } from './helpers';

const ORIGIN = 'https://abcd.supabase.co';
const KEY = 'opaque-service-key-7f3a9c1e5b2d8f4a6c0e';
const ctx = (retryAfterMs: number | null = null, key = KEY) => ({
  origin: ORIGIN,
  key,
  retryAfterMs,
  failure: 'Could not load runs',
});

describe('errors: classifyFailure', () => {
  const cases: {
    name: string;
    input: RawFailure;
    retryAfterMs?: number;
    kind: BackendErrorKind;
    transient: boolean;
    match: RegExp;
    code?: string | null;
  }[] = [
    {
      name: 'status 0, timeout',
      input: { status: 0, error: { message: 'TimeoutError: The operation was aborted due to timeout' } },
      kind: 'timeout',
      transient: true,
      match: /did not answer in time.*requestTimeoutSeconds/,
    },
    {
      name: 'status 0, "timed out"',
      input: { status: 0, error: { message: 'request timed out' } },
      kind: 'timeout',
      transient: true,
      match: /did not answer in time/,
    },
    {
      name: 'status 0, abort',
      input: { status: 0, error: { message: 'AbortError: This operation was aborted' } },
      kind: 'cancelled',
      transient: false,
      match: /cancelled/,
    },
    {
      name: 'status 0, network',
      input: { status: 0, error: { message: 'TypeError: fetch failed' } },
      kind: 'unreachable',
      transient: true,
      match: /https:\/\/abcd\.supabase\.co is unreachable \(TypeError: fetch failed\)/,
    },
    {
      name: 'status 0, no error object',
      input: { status: 0, error: null },
      kind: 'unreachable',
      transient: true,
      match: /unreachable \(network error\)/,
    },
    {
      name: 'status 0, message not a string',
      input: { status: 0, error: { message: { nested: true } } },
      kind: 'unreachable',
      transient: true,
      match: /network error/,
    },
    {
      name: '401 PGRST301',
      input: { status: 401, error: { code: 'PGRST301', message: 'JWSError JWSInvalidSignature' } },
      kind: 'unauthorized',
      transient: false,
      match: /rejected the key \(401: JWSError JWSInvalidSignature\).*Configure Connection/,
      code: 'PGRST301',
    },
    {
      name: '401 without code',
      input: { status: 401, error: { message: 'Invalid API key' } },
      kind: 'unauthorized',
      transient: false,
      match: /rejected the key \(401: Invalid API key\)/,
      code: null,
    },
    {
      name: '403 without code',
      input: { status: 403, error: null },
      kind: 'unauthorized',
      transient: false,
      match: /rejected the key \(403\)/,
    },
    {
      name: 'PGRST302 with status 400',
      input: { status: 400, error: { code: 'PGRST302' } },
      kind: 'unauthorized',
      transient: false,
      match: /rejected the key/,
    },
    {
      name: '401 with 42501',
      input: { status: 401, error: { code: '42501', message: 'permission denied for table telemetry_analysis_runs' } },
      kind: 'permission',
      transient: false,
      match: /not allowed.*service-role key/,
      code: '42501',
    },
    {
      name: '403 with 42501',
      input: { status: 403, error: { code: '42501', message: 'new row violates row-level security policy' } },
      kind: 'permission',
      transient: false,
      match: /row-level security/,
    },
    {
      name: '404',
      input: { status: 404, error: null },
      kind: 'not-found',
      transient: false,
      match: /tables were not found at https:\/\/abcd\.supabase\.co \(404\)/,
    },
    {
      name: '404 PGRST205',
      input: {
        status: 404,
        error: { code: 'PGRST205', message: "Could not find the table 'public.telemetry_analysis_runs'" },
      },
      kind: 'not-found',
      transient: false,
      match: /migrations/,
      code: 'PGRST205',
    },
    {
      name: '42P01 with status 400',
      input: { status: 400, error: { code: '42P01' } },
      kind: 'not-found',
      transient: false,
      match: /not found/,
    },
    {
      name: '409 23505',
      input: {
        status: 409,
        error: {
          code: '23505',
          message: 'duplicate key value violates unique constraint "telemetry_analysis_runs_run_id_key"',
        },
      },
      kind: 'conflict',
      transient: false,
      match: /already exists \(duplicate key/,
    },
    {
      name: '409 without code',
      input: { status: 409, error: null },
      kind: 'conflict',
      transient: false,
      match: /already exists \(conflict\)/,
    },
    {
      name: '400 23514',
      input: {
        status: 400,
        error: { code: '23514', message: 'new row violates check constraint "telemetry_analysis_runs_status_check"' },
      },
      kind: 'constraint',
      transient: false,
      match: /refused the values \(new row violates check constraint/,
    },
    {
      name: '400 23502',
      input: { status: 400, error: { code: '23502' } },
      kind: 'constraint',
      transient: false,
      match: /refused the values \(23502\)/,
    },
    {
      name: '400 22P02',
      input: { status: 400, error: { code: '22P02', message: 'invalid input syntax for type uuid' } },
      kind: 'constraint',
      transient: false,
      match: /schema may differ/,
    },
    {
      name: '400 other',
      input: { status: 400, error: { code: 'PGRST100', message: 'bad filter' } },
      kind: 'bad-request',
      transient: false,
      match: /refused \(400: bad filter\)/,
    },
    {
      name: '429 with retryAfterMs',
      input: { status: 429, error: null },
      retryAfterMs: 30_000,
      kind: 'rate-limited',
      transient: true,
      match: /busy or unavailable \(429\)\. It asked to wait 30 s\./,
    },
    {
      name: '429 without retryAfterMs',
      input: { status: 429, error: null },
      kind: 'rate-limited',
      transient: true,
      match: /\(429\)\. It will be retried/,
    },
    {
      name: '503 PGRST002 (PostgREST loading its schema cache) with Retry-After: 0',
      input: {
        status: 503,
        error: { code: 'PGRST002', message: 'Could not query the database for the schema cache. Retrying.' },
      },
      retryAfterMs: 0,
      kind: 'rate-limited',
      transient: true,
      match: /is starting up \(PostgREST is still loading its schema cache\)\. It will be retried\.$/,
    },
    {
      name: '503 with Retry-After: 0 does not ask to wait 0 s',
      input: { status: 503, error: { message: 'busy' } },
      retryAfterMs: 0,
      kind: 'rate-limited',
      transient: true,
      match: /\(503\)\. It will be retried\.$/,
    },
    {
      name: '503 with retryAfterMs (rounded up)',
      input: { status: 503, error: { message: 'upstream down' } },
      retryAfterMs: 1_500,
      kind: 'rate-limited',
      transient: true,
      match: /\(503\)\. It asked to wait 2 s\./,
    },
    {
      name: '500',
      input: { status: 500, error: { message: 'internal error' } },
      kind: 'server',
      transient: true,
      match: /failed \(500: internal error\)\. It will be retried/,
    },
    {
      name: '502 without body',
      input: { status: 502, error: null },
      kind: 'server',
      transient: true,
      match: /failed \(502\)/,
    },
    {
      name: '3xx',
      input: { status: 302, error: null },
      kind: 'unknown',
      transient: false,
      match: /unexpected answer \(302\)/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = classifyFailure(c.input, ctx(c.retryAfterMs ?? null));
      assert.equal(e.kind, c.kind);
      assert.equal(e.status, c.input.status);
      assert.equal(e.retryAfterMs, c.retryAfterMs ?? null);
      assert.match(e.message, c.match);
      assert.match(e.message, /^Could not load runs: /);
      assert.ok(!/[\r\n]/.test(e.message));
      if (c.code !== undefined) assert.equal(e.code, c.code);
      assert.equal(isTransient(e), c.transient);
    });
  }

  it('bounds a huge server message and strips control characters', () => {
    const e = classifyFailure({ status: 500, error: { message: `x\u0000\u202e\n${'y'.repeat(100_000)}` } }, ctx());
    assert.ok(e.message.length < 600, String(e.message.length));
    assert.ok(!/[\u0000\u202e\n]/.test(e.message));
  });

  it('bounds a hostile code', () => {
    const e = classifyFailure({ status: 400, error: { code: 'C'.repeat(1000) } }, ctx());
    assert.ok((e.code ?? '').length <= 20);
  });
});

describe('errors: the key never appears in a message', () => {
  /** Every window of 12 characters of the key: a long fragment is a leak too. */
  const fragments = (key: string) => Array.from({ length: key.length - 11 }, (_, i) => key.slice(i, i + 12));
  const keys = [KEY, SERVICE_JWT, 'sb_secret_Q2xhdWRlLXRlc3Qta2V5LTEyMzQ1Njc4OTA'];
  const echoes: { name: string; message: (k: string) => string }[] = [
    { name: 'echoed whole', message: (k) => `Invalid API key: ${k}` },
    { name: 'echoed twice', message: (k) => `${k} / ${k}` },
    { name: 'echoed in a URL', message: (k) => `GET ${ORIGIN}/rest/v1/x?apikey=${k} failed` },
    {
      name: 'echoed after 250 characters of padding (straddles the 300-character cut)',
      message: (k) => `${'p'.repeat(250)} ${k}`,
    },
    { name: 'echoed after 280 characters of padding', message: (k) => `${'p'.repeat(280)} ${k}` },
    { name: 'echoed with a control character inside', message: (k) => `bad key ${k.slice(0, 10)}\u0000${k.slice(10)}` },
    { name: 'echoed with a bidi override inside', message: (k) => `bad key ${k.slice(0, 15)}\u202e${k.slice(15)}` },
  ];
  const statuses = [0, 401, 403, 400, 409, 500, 503, 302];
  for (const key of keys) {
    for (const echo of echoes) {
      it(`${key.slice(0, 12)}…: ${echo.name}`, () => {
        for (const status of statuses) {
          const e = classifyFailure(
            {
              status,
              error: { message: echo.message(key), code: status === 400 ? '23514' : null, details: key, hint: key },
            },
            ctx(null, key),
          );
          for (const f of fragments(key))
            assert.ok(!e.message.includes(f), `status ${status}: fragment ${f} in ${e.message}`);
        }
      });
    }
  }
});

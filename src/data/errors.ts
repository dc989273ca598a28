// Turns what supabase-js returns on failure into a BackendError a person can act on.
import { redact } from '../domain/credentials';
import { cleanText } from '../domain/text';
import type { BackendError, BackendErrorKind } from './backend';

export interface RawFailure {
  status: number;
  error: { message?: unknown; code?: unknown; details?: unknown; hint?: unknown } | null;
}

export const CONFIGURE_HINT = 'Run "EHG Telemetry: Configure Connection…" to fix it.';

export function classifyFailure(
  f: RawFailure,
  ctx: { origin: string; key: string; retryAfterMs: number | null; what: string },
): BackendError {
  // Redact before bounding: a key cut in half by the length limit would no longer match.
  const rawMessage = cleanText(redact(cleanText(f.error?.message, Infinity) ?? '', [ctx.key]), 300) ?? '';
  const code = cleanText(f.error?.code, 20);
  const serverText = redact(rawMessage, [ctx.key]);
  const make = (kind: BackendErrorKind, message: string): BackendError => ({
    kind,
    message: redact(message, [ctx.key]),
    status: f.status,
    code,
    retryAfterMs: ctx.retryAfterMs,
  });
  const prefix = `Could not ${ctx.what}`;
  if (f.status === 0) {
    if (/timeout|timed out/i.test(rawMessage)) {
      return make(
        'timeout',
        `${prefix}: ${ctx.origin} did not answer in time. The backend may be slow or down; it will be retried. (The limit is ehgTelemetry.requestTimeoutSeconds.)`,
      );
    }
    if (/abort/i.test(rawMessage)) return make('cancelled', `${prefix}: the request was cancelled.`);
    return make(
      'unreachable',
      `${prefix}: ${ctx.origin} is unreachable (${serverText || 'network error'}). Check the URL and your network; it will be retried.`,
    );
  }
  if (code === '42501') {
    return make(
      'permission',
      `${prefix}: this key is not allowed to do that (row-level security). A service-role key is needed to enqueue or cancel runs. ${CONFIGURE_HINT}`,
    );
  }
  if (f.status === 401 || f.status === 403 || (code !== null && /^PGRST30\d$/.test(code))) {
    return make(
      'unauthorized',
      `${prefix}: ${ctx.origin} rejected the key (${f.status}${serverText ? `: ${serverText}` : ''}). It may be wrong, expired, or for another project. ${CONFIGURE_HINT}`,
    );
  }
  if (f.status === 404 || code === '42P01' || code === 'PGRST205') {
    return make(
      'not-found',
      `${prefix}: the telemetry tables were not found at ${ctx.origin} (${f.status}). Is this the EHG_Engineer project, with its migrations applied? ${CONFIGURE_HINT}`,
    );
  }
  if (f.status === 409 || code === '23505')
    return make('conflict', `${prefix}: the row already exists (${serverText || 'conflict'}).`);
  if (code === '23514' || code === '23502' || code === '22P02') {
    return make(
      'constraint',
      `${prefix}: the database refused the values (${serverText || code}). The backend's schema may differ from what this extension expects.`,
    );
  }
  if (f.status === 503 && code === 'PGRST002') {
    // PostgREST answers this (with Retry-After: 0) until its schema cache has loaded: at start-up, or
    // while it cannot reach the database.
    return make(
      'rate-limited',
      `${prefix}: ${ctx.origin} is starting up (PostgREST is still loading its schema cache). It will be retried.`,
    );
  }
  if (f.status === 429 || f.status === 503) {
    const wait = ctx.retryAfterMs ? ` It asked to wait ${Math.ceil(ctx.retryAfterMs / 1000)} s.` : '';
    return make(
      'rate-limited',
      `${prefix}: ${ctx.origin} is busy or unavailable (${f.status}).${wait} It will be retried.`,
    );
  }
  if (f.status >= 500)
    return make(
      'server',
      `${prefix}: ${ctx.origin} failed (${f.status}${serverText ? `: ${serverText}` : ''}). It will be retried.`,
    );
  if (f.status >= 400)
    return make(
      'bad-request',
      `${prefix}: the request was refused (${f.status}${serverText ? `: ${serverText}` : ''}).`,
    );
  return make('unknown', `${prefix}: unexpected answer (${f.status}${serverText ? `: ${serverText}` : ''}).`);
}

/** Errors after which a retry may help (used by backoff and "unreachable" states). */
export function isTransient(e: BackendError): boolean {
  return e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'rate-limited' || e.kind === 'server';
}

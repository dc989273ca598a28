// Turns what supabase-js returns on failure into a BackendError a person can act on.
import { redact } from '../domain/credentials';
import { t } from '../domain/l10n';
import { cleanText } from '../domain/text';
import type { BackendError, BackendErrorKind } from './backend';

export interface RawFailure {
  status: number;
  error: { message?: unknown; code?: unknown; details?: unknown; hint?: unknown } | null;
}

export function configureHint(): string {
  return t('Run "EHG Telemetry: Configure Connection…" to fix it.');
}

export function classifyFailure(
  f: RawFailure,
  ctx: { origin: string; key: string; retryAfterMs: number | null; failure: string },
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
  // The caller's whole sentence ("Could not load runs", translated by src/data/supabaseBackend.ts): a
  // translated verb phrase spliced into "Could not {0}" would not read right in every language.
  const prefix = ctx.failure;
  // "503" or "503: the server's own words".
  const status = serverText ? `${f.status}: ${serverText}` : String(f.status);
  if (f.status === 0) {
    if (/timeout|timed out/i.test(rawMessage)) {
      return make(
        'timeout',
        t(
          '{0}: {1} did not answer in time. The backend may be slow or down; it will be retried. (The limit is ehgTelemetry.requestTimeoutSeconds.)',
          prefix,
          ctx.origin,
        ),
      );
    }
    if (/abort/i.test(rawMessage)) return make('cancelled', t('{0}: the request was cancelled.', prefix));
    return make(
      'unreachable',
      t(
        '{0}: {1} is unreachable ({2}). Check the URL and your network; it will be retried.',
        prefix,
        ctx.origin,
        serverText || t('network error'),
      ),
    );
  }
  if (code === '42501') {
    return make(
      'permission',
      t(
        '{0}: this key is not allowed to do that (row-level security). A service-role key is needed to enqueue or cancel runs. {1}',
        prefix,
        configureHint(),
      ),
    );
  }
  if (f.status === 401 || f.status === 403 || (code !== null && /^PGRST30\d$/.test(code))) {
    return make(
      'unauthorized',
      t(
        '{0}: {1} rejected the key ({2}). It may be wrong, expired, or for another project. {3}',
        prefix,
        ctx.origin,
        status,
        configureHint(),
      ),
    );
  }
  if (f.status === 404 || code === '42P01' || code === 'PGRST205') {
    return make(
      'not-found',
      t(
        '{0}: the telemetry tables were not found at {1} ({2}). Is this the EHG_Engineer project, with its migrations applied? {3}',
        prefix,
        ctx.origin,
        f.status,
        configureHint(),
      ),
    );
  }
  if (f.status === 409 || code === '23505')
    return make('conflict', t('{0}: the row already exists ({1}).', prefix, serverText || t('conflict')));
  if (code === '23514' || code === '23502' || code === '22P02') {
    return make(
      'constraint',
      t(
        "{0}: the database refused the values ({1}). The backend's schema may differ from what this extension expects.",
        prefix,
        serverText || code,
      ),
    );
  }
  if (f.status === 503 && code === 'PGRST002') {
    // PostgREST answers this (with Retry-After: 0) until its schema cache has loaded: at start-up, or
    // while it cannot reach the database.
    return make(
      'rate-limited',
      t(
        '{0}: {1} is starting up (PostgREST is still loading its schema cache). It will be retried.',
        prefix,
        ctx.origin,
      ),
    );
  }
  if (f.status === 429 || f.status === 503) {
    return make(
      'rate-limited',
      ctx.retryAfterMs
        ? t(
            '{0}: {1} is busy or unavailable ({2}). It asked to wait {3} s. It will be retried.',
            prefix,
            ctx.origin,
            f.status,
            Math.ceil(ctx.retryAfterMs / 1000),
          )
        : t('{0}: {1} is busy or unavailable ({2}). It will be retried.', prefix, ctx.origin, f.status),
    );
  }
  if (f.status >= 500)
    return make('server', t('{0}: {1} failed ({2}). It will be retried.', prefix, ctx.origin, status));
  if (f.status >= 400) return make('bad-request', t('{0}: the request was refused ({1}).', prefix, status));
  return make('unknown', t('{0}: unexpected answer ({1}).', prefix, status));
}

/** Errors after which a retry may help (used by backoff and "unreachable" states). */
export function isTransient(e: BackendError): boolean {
  return e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'rate-limited' || e.kind === 'server';
}

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

/** What the rules below read from one failure: the answer, the server's words, and the caller's context. */
interface Failure {
  status: number;
  /** The server's error code, bounded; null when it sent none. */
  code: string | null;
  /** The server's message, redacted and bounded ('' when none), as matched by the rules. */
  rawMessage: string;
  /** The same, redacted again, as shown. */
  serverText: string;
  /** "503" or "503: the server's own words". */
  statusText: string;
  /** The caller's whole sentence ("Could not load runs", translated by src/data/supabaseBackend.ts): a
   * translated verb phrase spliced into "Could not {0}" would not read right in every language. */
  prefix: string;
  origin: string;
  retryAfterMs: number | null;
}

/** One row of the classification: the first row whose `when` holds decides the kind and the sentence. */
interface Rule {
  when: (f: Failure) => boolean;
  kind: BackendErrorKind;
  message: (f: Failure) => string;
}

const noAnswer = (f: Failure): boolean => f.status === 0;

const RULES: readonly Rule[] = [
  {
    when: (f) => noAnswer(f) && /timeout|timed out/i.test(f.rawMessage),
    kind: 'timeout',
    message: (f) =>
      t(
        '{0}: {1} did not answer in time. The backend may be slow or down; it will be retried. (The limit is ehgTelemetry.requestTimeoutSeconds.)',
        f.prefix,
        f.origin,
      ),
  },
  {
    when: (f) => noAnswer(f) && /abort/i.test(f.rawMessage),
    kind: 'cancelled',
    message: (f) => t('{0}: the request was cancelled.', f.prefix),
  },
  {
    when: noAnswer,
    kind: 'unreachable',
    message: (f) =>
      t(
        '{0}: {1} is unreachable ({2}). Check the URL and your network; it will be retried.',
        f.prefix,
        f.origin,
        f.serverText || t('network error'),
      ),
  },
  {
    when: (f) => f.code === '42501',
    kind: 'permission',
    message: (f) =>
      t(
        '{0}: this key is not allowed to do that (row-level security). A service-role key is needed to enqueue or cancel runs. {1}',
        f.prefix,
        configureHint(),
      ),
  },
  {
    when: (f) => f.status === 401 || f.status === 403 || (f.code !== null && /^PGRST30\d$/.test(f.code)),
    kind: 'unauthorized',
    message: (f) =>
      t(
        '{0}: {1} rejected the key ({2}). It may be wrong, expired, or for another project. {3}',
        f.prefix,
        f.origin,
        f.statusText,
        configureHint(),
      ),
  },
  {
    when: (f) => f.status === 404 || f.code === '42P01' || f.code === 'PGRST205',
    kind: 'not-found',
    message: (f) =>
      t(
        '{0}: the telemetry tables were not found at {1} ({2}). Is this the EHG_Engineer project, with its migrations applied? {3}',
        f.prefix,
        f.origin,
        f.status,
        configureHint(),
      ),
  },
  {
    when: (f) => f.status === 409 || f.code === '23505',
    kind: 'conflict',
    message: (f) => t('{0}: the row already exists ({1}).', f.prefix, f.serverText || t('conflict')),
  },
  {
    when: (f) => f.code === '23514' || f.code === '23502' || f.code === '22P02',
    kind: 'constraint',
    message: (f) =>
      t(
        "{0}: the database refused the values ({1}). The backend's schema may differ from what this extension expects.",
        f.prefix,
        f.serverText || (f.code ?? ''),
      ),
  },
  {
    // PostgREST answers this (with Retry-After: 0) until its schema cache has loaded: at start-up, or
    // while it cannot reach the database.
    when: (f) => f.status === 503 && f.code === 'PGRST002',
    kind: 'rate-limited',
    message: (f) =>
      t(
        '{0}: {1} is starting up (PostgREST is still loading its schema cache). It will be retried.',
        f.prefix,
        f.origin,
      ),
  },
  {
    when: (f) => f.status === 429 || f.status === 503,
    kind: 'rate-limited',
    message: (f) =>
      f.retryAfterMs
        ? t(
            '{0}: {1} is busy or unavailable ({2}). It asked to wait {3} s. It will be retried.',
            f.prefix,
            f.origin,
            f.status,
            Math.ceil(f.retryAfterMs / 1000),
          )
        : t('{0}: {1} is busy or unavailable ({2}). It will be retried.', f.prefix, f.origin, f.status),
  },
  {
    when: (f) => f.status >= 500,
    kind: 'server',
    message: (f) => t('{0}: {1} failed ({2}). It will be retried.', f.prefix, f.origin, f.statusText),
  },
  {
    when: (f) => f.status >= 400,
    kind: 'bad-request',
    message: (f) => t('{0}: the request was refused ({1}).', f.prefix, f.statusText),
  },
  { when: () => true, kind: 'unknown', message: (f) => t('{0}: unexpected answer ({1}).', f.prefix, f.statusText) },
];

export function classifyFailure(
  f: RawFailure,
  ctx: { origin: string; key: string; retryAfterMs: number | null; failure: string },
): BackendError {
  // Redact before bounding: a key cut in half by the length limit would no longer match.
  const rawMessage = cleanText(redact(cleanText(f.error?.message, Infinity) ?? '', [ctx.key]), 300) ?? '';
  const serverText = redact(rawMessage, [ctx.key]);
  const failure: Failure = {
    status: f.status,
    code: cleanText(f.error?.code, 20),
    rawMessage,
    serverText,
    statusText: serverText ? `${f.status}: ${serverText}` : String(f.status),
    prefix: ctx.failure,
    origin: ctx.origin,
    retryAfterMs: ctx.retryAfterMs,
  };
  const rule = RULES.find((r) => r.when(failure)) as Rule;
  return {
    kind: rule.kind,
    message: redact(rule.message(failure), [ctx.key]),
    status: f.status,
    code: failure.code,
    retryAfterMs: ctx.retryAfterMs,
  };
}

/** Errors after which a retry may help (used by backoff and "unreachable" states). */
export function isTransient(e: BackendError): boolean {
  return e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'rate-limited' || e.kind === 'server';
}

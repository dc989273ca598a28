// Connection facts that need no I/O: URL validation, key role, .env parsing.
import { t } from './l10n';

export type KeyRole = 'service_role' | 'authenticated' | 'anon' | 'unknown';

/**
 * Reads the role a Supabase key claims without verifying it (the server verifies): legacy keys are
 * JWTs with a `role` claim; new-style keys are prefixed sb_secret_ / sb_publishable_.
 */
export function keyRole(key: string): KeyRole {
  const k = key.trim();
  if (k.startsWith('sb_secret_')) return 'service_role';
  if (k.startsWith('sb_publishable_')) return 'anon';
  const parts = k.split('.');
  if (parts.length !== 3) return 'unknown';
  try {
    const json = Buffer.from(parts[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const claims: unknown = JSON.parse(json);
    const role = typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>).role : undefined;
    return role === 'service_role' || role === 'authenticated' || role === 'anon' ? role : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function roleCanWrite(role: KeyRole): boolean | null {
  if (role === 'service_role') return true;
  if (role === 'anon' || role === 'authenticated') return false;
  return null;
}

export type UrlCheck =
  { ok: true; url: string; origin: string; warning: string | null } | { ok: false; message: string };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Validates a project URL. Returns its normalized form (no trailing slash, no query) and origin. */
export function checkProjectUrl(input: string): UrlCheck {
  const trimmed = input.trim();
  if (!trimmed)
    return { ok: false, message: t('The URL is empty. Enter your project URL, e.g. https://abcd.supabase.co.') };
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    // The input is not echoed: a key pasted into the wrong box must not end up in a message.
    return { ok: false, message: t('That is not a URL. Enter your project URL, e.g. https://abcd.supabase.co.') };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return { ok: false, message: t('Only http(s) URLs are supported, not {0}', u.protocol) };
  if (u.username || u.password)
    return {
      ok: false,
      message: t('The URL must not contain a user name or password. Put the key in the key prompt instead.'),
    };
  if (u.search || u.hash) return { ok: false, message: t('The URL must not contain a query or fragment.') };
  const path = u.pathname.replace(/\/+$/, '');
  const warning =
    u.protocol === 'http:' && !LOOPBACK.test(u.hostname)
      ? t(
          '{0} uses plain http: the key would travel unencrypted. Use https unless this is a trusted local network.',
          u.origin,
        )
      : null;
  return { ok: true, url: `${u.origin}${path}`, origin: u.origin, warning };
}

/** Minimal .env parser: KEY=VALUE lines, optional `export`, quotes, # comments. No expansion. */
export function parseDotEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const q = value[0];
    if ((q === '"' || q === "'") && value.lastIndexOf(q) > 0) {
      value = value.slice(1, value.lastIndexOf(q));
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out.set(m[1], value);
  }
  return out;
}

export interface EnvConnection {
  url: string | null;
  key: string | null;
  keyName: string | null;
  autoAnalysisDisabled: boolean;
}

/** The CLI hook's variables: SUPABASE_URL (or NEXT_PUBLIC_SUPABASE_URL), the service key, falling back to the anon key. */
export function connectionFromEnv(env: Map<string, string>): EnvConnection {
  const url = env.get('SUPABASE_URL') || env.get('NEXT_PUBLIC_SUPABASE_URL') || null;
  const service = env.get('SUPABASE_SERVICE_ROLE_KEY');
  const anon = env.get('SUPABASE_ANON_KEY') || env.get('NEXT_PUBLIC_SUPABASE_ANON_KEY');
  const key = service || anon || null;
  const keyName = service
    ? 'SUPABASE_SERVICE_ROLE_KEY'
    : anon
      ? env.get('SUPABASE_ANON_KEY')
        ? 'SUPABASE_ANON_KEY'
        : 'NEXT_PUBLIC_SUPABASE_ANON_KEY'
      : null;
  const flag = (env.get('TELEMETRY_AUTO_ANALYSIS_ENABLED') ?? '').trim().toLowerCase();
  return {
    url,
    key,
    keyName,
    autoAnalysisDisabled: flag === 'false' || flag === '0' || flag === 'no' || flag === 'off',
  };
}

/** Removes any occurrence of the secret from text bound for logs or messages. */
export function redact(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 8) out = out.split(s).join('[redacted key]');
  }
  return out
    .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[redacted jwt]')
    .replace(/sb_(secret|publishable)_[A-Za-z0-9_-]+/g, '[redacted key]');
}

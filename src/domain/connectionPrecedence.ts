// Which URL and key the extension connects with: the precedence rules, with no I/O (no `vscode`).
// The platform layer (src/platform/connection.ts) gathers the inputs (settings, trust, the .env files
// it was allowed to read, which origins have a stored key) and applies the decision.
//
// The rules, in order:
// 1. An explicit URL in *user* settings (ehgTelemetry.supabaseUrl, application scope) wins. Its key
//    comes only from SecretStorage, stored per URL origin: changing the URL never sends an old key to
//    a new host. A workspace or folder value of the setting is ignored, so a workspace can never
//    choose where a stored key goes. An invalid user URL is an error, with no fallback to .env.
// 2. Otherwise, only in a trusted workspace with ehgTelemetry.useWorkspaceEnv, the first workspace
//    folder whose own .env (the file `.env` at the folder's root, nothing else) has both a URL and a
//    key. A key from .env is only ever paired with the URL from the same file.
// 3. Otherwise not configured; in an untrusted workspace with no user URL, restricted (no .env read).
import { checkProjectUrl, connectionFromEnv, keyRole, KeyRole, parseDotEnv } from './credentials';

/** Why there is no connection: the text shown for each comes from describeNotConfigured() only. */
export type NotConfiguredCause = 'resolving' | 'no-url' | 'no-key';

export type ConnectionState =
  | {
      kind: 'configured';
      source: 'settings' | 'env';
      url: string;
      origin: string;
      role: KeyRole;
      envFile: string | null;
      warning: string | null;
    }
  | { kind: 'not-configured'; cause: 'resolving' }
  | { kind: 'not-configured'; cause: 'no-url' }
  /** A user URL is set but SecretStorage holds no key for its origin. */
  | { kind: 'not-configured'; cause: 'no-key'; origin: string }
  | { kind: 'restricted' }
  | { kind: 'invalid'; message: string };

/** The three places ehgTelemetry.supabaseUrl can be set, as vscode's `inspect()` reports them. */
export interface UrlSettingValues {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** One .env the platform layer read (only when envAllowed() said so). */
export interface EnvFileInput {
  /** The workspace folder's URI (string form). */
  folderUri: string;
  /** The file's URI (string form); only `${folderUri}/.env` counts. */
  fileUri: string;
  /** For messages: the file's path as the user knows it. */
  displayPath: string;
  /** The file's text; null when it was too large to read. */
  text: string | null;
}

export interface ConnectionInputs {
  url: UrlSettingValues;
  useWorkspaceEnv: boolean;
  trusted: boolean;
  /** Only what the platform layer read; ignored (never consulted) unless envAllowed(). */
  envFiles: readonly EnvFileInput[];
  /** Origins for which SecretStorage holds a key. */
  storedKeyOrigins: ReadonlySet<string>;
}

/** Where the key of a configured decision comes from. */
export type KeySource = { from: 'secret-storage'; origin: string } | { from: 'env'; key: string };

export type ConnectionDecision =
  | { state: Exclude<ConnectionState, { kind: 'configured' }>; key: null }
  | { state: Extract<ConnectionState, { kind: 'configured' }>; key: KeySource };

export interface ConnectionResolution {
  decision: ConnectionDecision;
  /** Folder URIs whose own .env sets TELEMETRY_AUTO_ANALYSIS_ENABLED=false (trusted, env allowed). */
  autoDisabledFolders: string[];
  /** For the log (each once): a too-large .env, a plain-http URL. Never contains a key. */
  warnings: string[];
}

/** Larger .env files are not read at all (the platform layer passes text: null). */
export const MAX_ENV_BYTES = 1_000_000;

/** The user (application-scope) value of ehgTelemetry.supabaseUrl, trimmed; '' when unset. */
export function userSettingUrl(v: UrlSettingValues | undefined): string {
  return typeof v?.globalValue === 'string' ? v.globalValue.trim() : '';
}

/** Whether any .env may be read: only in a trusted workspace with ehgTelemetry.useWorkspaceEnv. */
export function envAllowed(i: { trusted: boolean; useWorkspaceEnv: boolean }): boolean {
  return i.trusted && i.useWorkspaceEnv;
}

/** True when the file is the folder's own `.env` (not one elsewhere, not one in a sub-folder). */
export function isFoldersOwnEnv(folderUri: string, fileUri: string): boolean {
  return fileUri === `${folderUri.replace(/\/+$/, '')}/.env`;
}

export function resolveConnection(i: ConnectionInputs): ConnectionResolution {
  const warnings: string[] = [];
  const autoDisabledFolders: string[] = [];
  const envs: { file: EnvFileInput; url: string | null; key: string | null }[] = [];
  if (envAllowed(i)) {
    for (const f of i.envFiles) {
      if (!isFoldersOwnEnv(f.folderUri, f.fileUri)) continue;
      if (f.text === null) {
        warnings.push(`${f.displayPath} is larger than 1 MB; ignored.`);
        continue;
      }
      const conn = connectionFromEnv(parseDotEnv(f.text));
      if (conn.autoAnalysisDisabled) autoDisabledFolders.push(f.folderUri);
      envs.push({ file: f, url: conn.url, key: conn.key });
    }
  }
  const done = (decision: ConnectionDecision): ConnectionResolution => {
    if (decision.state.kind === 'configured' && decision.state.warning) warnings.push(decision.state.warning);
    return { decision, autoDisabledFolders, warnings };
  };

  // 1. The user URL, with its stored key.
  const userUrl = userSettingUrl(i.url);
  let fallback: ConnectionDecision = { state: { kind: 'not-configured', cause: 'no-url' }, key: null };
  if (userUrl) {
    const check = checkProjectUrl(userUrl);
    if (!check.ok)
      return done({ state: { kind: 'invalid', message: `ehgTelemetry.supabaseUrl: ${check.message}` }, key: null });
    if (i.storedKeyOrigins.has(check.origin)) {
      return done({
        state: {
          kind: 'configured',
          source: 'settings',
          url: check.url,
          origin: check.origin,
          // Known once the caller has read the key: see withStoredKey().
          role: 'unknown',
          envFile: null,
          warning: check.warning,
        },
        key: { from: 'secret-storage', origin: check.origin },
      });
    }
    fallback = { state: { kind: 'not-configured', cause: 'no-key', origin: check.origin }, key: null };
  }

  // 3 (untrusted). No .env is read; without a user URL, that is restricted mode.
  if (!i.trusted) return done(userUrl ? fallback : { state: { kind: 'restricted' }, key: null });

  // 2. The first folder's own .env with both a URL and a key, paired from the same file.
  const env = envs.find((e) => e.url && e.key);
  if (!env || !env.url || !env.key) return done(fallback);
  const check = checkProjectUrl(env.url);
  if (!check.ok)
    return done({
      state: { kind: 'invalid', message: `${env.file.displayPath}: SUPABASE_URL ${check.message}` },
      key: null,
    });
  return done({
    state: {
      kind: 'configured',
      source: 'env',
      url: check.url,
      origin: check.origin,
      role: keyRole(env.key),
      envFile: env.file.displayPath,
      warning: check.warning,
    },
    key: { from: 'env', key: env.key },
  });
}

/**
 * Completes a decision whose key is in SecretStorage, once the caller has read it: with the key, the
 * state gets the role the key claims; without one (the stored-origins list and SecretStorage
 * disagree, e.g. the keychain was reset), the decision is taken again as if no key were stored.
 */
export function withStoredKey(
  inputs: ConnectionInputs,
  res: ConnectionResolution,
  key: string | null,
): { resolution: ConnectionResolution; key: string | null } {
  const d = res.decision;
  if (d.key === null) return { resolution: res, key: null };
  if (d.key.from === 'env') return { resolution: res, key: d.key.key };
  if (key) {
    const decision: ConnectionDecision = { state: { ...d.state, role: keyRole(key) }, key: d.key };
    return { resolution: { ...res, decision }, key };
  }
  const origins = new Set(inputs.storedKeyOrigins);
  origins.delete(d.key.origin);
  return withStoredKey(
    { ...inputs, storedKeyOrigins: origins },
    resolveConnection({ ...inputs, storedKeyOrigins: origins }),
    null,
  );
}

/** The one place a not-configured cause becomes text. */
export function describeNotConfigured(s: Extract<ConnectionState, { kind: 'not-configured' }>): string {
  switch (s.cause) {
    case 'resolving':
      return 'The connection is being resolved.';
    case 'no-url':
      return 'No URL is configured and no usable .env was found.';
    case 'no-key':
      return `No key is stored for ${s.origin}. Run "EHG Telemetry: Configure Connection…".`;
  }
}

/** The connection in one line, without a prefix (the status bar's detail, the log after "Connection: "). */
export function summarizeState(s: ConnectionState): string {
  switch (s.kind) {
    case 'configured':
      return `${s.origin} (from ${s.source === 'env' ? (s.envFile ?? '.env') : 'user settings'}), key role ${s.role}`;
    case 'not-configured':
      return `not configured. ${describeNotConfigured(s)}`;
    case 'restricted':
      return 'restricted mode — .env is not read and nothing is triggered.';
    case 'invalid':
      return `invalid. ${s.message}`;
  }
}

export function describeState(s: ConnectionState): string {
  return `Connection: ${summarizeState(s)}`;
}

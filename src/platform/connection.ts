// Where the extension connects, with which key, and what that key may do.
//
// Precedence: an explicit URL in *user* settings with its key in SecretStorage (stored per URL
// origin, so changing the URL never sends an old key to a new host); otherwise, in a trusted
// workspace with ehgTelemetry.useWorkspaceEnv, the workspace folder's .env exactly as the CLI hook
// reads it. A key from .env is only ever paired with the URL from the same file.
import * as vscode from 'vscode';
import { checkProjectUrl, connectionFromEnv, KeyRole, keyRole, parseDotEnv, roleCanWrite } from '../domain/credentials';
import type { TelemetryBackend } from '../data/backend';
import type { Log } from './log';
import { readSettings, Settings } from './settings';

export const SECRET_PREFIX = 'ehgTelemetry.key:';
export function secretKeyFor(origin: string): string {
  return `${SECRET_PREFIX}${origin}`;
}

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
  | { kind: 'not-configured'; reason: string }
  | { kind: 'restricted' }
  | { kind: 'invalid'; message: string };

export interface ConnectionSnapshot {
  state: ConnectionState;
  backend: TelemetryBackend | null;
  /** null = unknown; false once a write was refused or the key claims a read-only role. */
  canWrite: boolean | null;
  /** Per folder: TELEMETRY_AUTO_ANALYSIS_ENABLED=false in that folder's .env (trusted only). */
  autoDisabledFolders: ReadonlySet<string>;
  settings: Settings;
  /** Bumped whenever the backend is replaced, so async work can tell it is stale. */
  generation: number;
}

export type BackendFactory = (o: { url: string; origin: string; key: string; timeoutMs: number }) => TelemetryBackend;

export class ConnectionManager implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ConnectionSnapshot>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private envWatchers: vscode.Disposable[] = [];
  private current: ConnectionSnapshot;
  private activeKey: string | null = null;
  private resolving: Promise<void> | null = null;
  private again = false;
  private disposed = false;
  private envRead = false;
  private watchedFor: string | null = null;
  private readonly warned = new Set<string>();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Log,
    private readonly createBackend: BackendFactory,
  ) {
    this.current = {
      state: { kind: 'not-configured', reason: 'resolving' },
      backend: null,
      canWrite: null,
      autoDisabledFolders: new Set(),
      settings: readSettings().settings,
      generation: 0,
    };
    this.disposables.push(
      this.emitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ehgTelemetry')) void this.refresh();
      }),
      secrets.onDidChange((e) => {
        if (e.key.startsWith(SECRET_PREFIX)) void this.refresh();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
    );
  }

  get snapshot(): ConnectionSnapshot {
    return this.current;
  }

  /**
   * URL and key of the current backend, for the analysis child process only (it builds its own
   * supabase-js client for the same connection; the key goes to it over IPC, never argv or env).
   */
  credentialsForAnalysis(): { url: string; origin: string; key: string } | null {
    const s = this.current.state;
    return s.kind === 'configured' && this.activeKey && this.current.backend
      ? { url: s.url, origin: s.origin, key: this.activeKey }
      : null;
  }
  /** True once a .env file has been read (tests check that restricted mode reads none). */
  get hasReadEnv(): boolean {
    return this.envRead;
  }

  /** Re-resolves (coalesced). Never throws. */
  refresh(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.resolving) {
      this.again = true;
      return this.resolving;
    }
    this.resolving = (async () => {
      do {
        this.again = false;
        try {
          await this.resolveOnce();
        } catch (e) {
          this.log.error('Resolving the connection failed', e);
        }
      } while (this.again && !this.disposed);
    })().finally(() => {
      this.resolving = null;
    });
    return this.resolving;
  }

  /** A write was refused with a permission error: stop offering writes. */
  markReadOnly(): void {
    if (this.current.canWrite === false) return;
    this.current = { ...this.current, canWrite: false };
    this.emitter.fire(this.current);
  }

  setCanWrite(canWrite: boolean): void {
    if (this.current.canWrite === canWrite) return;
    this.current = { ...this.current, canWrite };
    this.emitter.fire(this.current);
  }

  private async resolveOnce(): Promise<void> {
    const { settings, warnings } = readSettings();
    for (const w of warnings) this.warnOnce(w);
    const trusted = vscode.workspace.isTrusted;
    const folders = vscode.workspace.workspaceFolders ?? [];
    let state: ConnectionState;
    let key: string | null = null;
    const autoDisabled = new Set<string>();
    this.watchEnv(trusted && settings.useWorkspaceEnv ? folders : []);

    // .env is read only in a trusted workspace, and only when the setting allows it.
    const envs = trusted && settings.useWorkspaceEnv ? await this.readEnvFiles(folders) : [];
    for (const e of envs) if (e.conn.autoAnalysisDisabled) autoDisabled.add(e.folder.uri.toString());

    if (settings.supabaseUrl) {
      const check = checkProjectUrl(settings.supabaseUrl);
      if (!check.ok) {
        state = { kind: 'invalid', message: `ehgTelemetry.supabaseUrl: ${check.message}` };
      } else {
        key = (await this.secrets.get(secretKeyFor(check.origin))) ?? null;
        state = key
          ? {
              kind: 'configured',
              source: 'settings',
              url: check.url,
              origin: check.origin,
              role: keyRole(key),
              envFile: null,
              warning: check.warning,
            }
          : {
              kind: 'not-configured',
              reason: `No key is stored for ${check.origin}. Run "EHG Telemetry: Configure Connection…".`,
            };
      }
    } else {
      state = { kind: 'not-configured', reason: 'No URL is configured and no usable .env was found.' };
    }

    if (state.kind !== 'configured' && state.kind !== 'invalid') {
      if (!trusted) {
        state = settings.supabaseUrl ? state : { kind: 'restricted' };
      } else {
        const env = envs.find((e) => e.conn.url && e.conn.key);
        if (env && env.conn.url && env.conn.key) {
          const check = checkProjectUrl(env.conn.url);
          if (check.ok) {
            key = env.conn.key;
            state = {
              kind: 'configured',
              source: 'env',
              url: check.url,
              origin: check.origin,
              role: keyRole(key),
              envFile: env.uri.fsPath,
              warning: check.warning,
            };
          } else {
            state = { kind: 'invalid', message: `${env.uri.fsPath}: SUPABASE_URL ${check.message}` };
          }
        }
      }
    }

    if (state.kind === 'configured' && state.warning) this.warnOnce(state.warning);
    if (this.disposed) return;

    const prev = this.current;
    const sameBackend =
      state.kind === 'configured' &&
      prev.state.kind === 'configured' &&
      prev.state.url === state.url &&
      this.activeKey === key &&
      prev.settings.requestTimeoutMs === settings.requestTimeoutMs;
    let backend = prev.backend;
    let generation = prev.generation;
    let canWrite = prev.canWrite;
    if (!sameBackend) {
      prev.backend?.dispose();
      backend =
        state.kind === 'configured' && key
          ? this.createBackend({ url: state.url, origin: state.origin, key, timeoutMs: settings.requestTimeoutMs })
          : null;
      this.activeKey = key;
      this.log.setSecrets([key]);
      generation++;
      canWrite = state.kind === 'configured' ? roleCanWrite(state.role) : null;
      this.log.info(describeState(state));
    }
    this.current = { state, backend, canWrite, autoDisabledFolders: autoDisabled, settings, generation };
    this.emitter.fire(this.current);
  }

  private async readEnvFiles(folders: readonly vscode.WorkspaceFolder[]) {
    const out: { folder: vscode.WorkspaceFolder; uri: vscode.Uri; conn: ReturnType<typeof connectionFromEnv> }[] = [];
    for (const folder of folders) {
      if (folder.uri.scheme !== 'file' && folder.uri.scheme !== 'vscode-remote') continue;
      const uri = vscode.Uri.joinPath(folder.uri, '.env');
      try {
        const bytes = await vscode.workspace.fs.readFile(uri);
        if (bytes.byteLength > 1_000_000) {
          this.warnOnce(`${uri.fsPath} is larger than 1 MB; ignored.`);
          continue;
        }
        this.envRead = true;
        out.push({ folder, uri, conn: connectionFromEnv(parseDotEnv(new TextDecoder().decode(bytes))) });
      } catch {
        // No .env in this folder: nothing to read.
      }
    }
    return out;
  }

  private watchEnv(folders: readonly vscode.WorkspaceFolder[]): void {
    const wanted = folders.map((f) => f.uri.toString()).join('|');
    if (this.watchedFor === wanted) return;
    this.watchedFor = wanted;
    for (const d of this.envWatchers) d.dispose();
    this.envWatchers = folders.map((f) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(f, '.env'));
      const onChange = () => void this.refresh();
      w.onDidChange(onChange);
      w.onDidCreate(onChange);
      w.onDidDelete(onChange);
      return w;
    });
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.log.warn(message);
  }

  dispose(): void {
    this.disposed = true;
    this.current.backend?.dispose();
    for (const d of this.envWatchers) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function describeState(s: ConnectionState): string {
  switch (s.kind) {
    case 'configured':
      return `Connection: ${s.origin} (from ${s.source === 'env' ? (s.envFile ?? '.env') : 'user settings'}), key role ${s.role}`;
    case 'not-configured':
      return `Connection: not configured. ${s.reason}`;
    case 'restricted':
      return 'Connection: restricted mode — .env is not read and nothing is triggered.';
    case 'invalid':
      return `Connection: invalid. ${s.message}`;
  }
}

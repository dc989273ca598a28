// Where the extension connects, with which key, and what that key may do: the I/O around the
// precedence rules of src/domain/connectionPrecedence.ts (settings, trust, the workspace's .env files,
// the credential store), and the backend's lifecycle (created, replaced, disposed) with its events.
import * as vscode from 'vscode';
import {
  ConnectionState,
  describeState,
  EnvFileInput,
  envAllowed,
  MAX_ENV_BYTES,
  resolveConnection,
  withStoredKey,
} from '../domain/connectionPrecedence';
import { roleCanWrite } from '../domain/credentials';
import type { TelemetryBackend } from '../data/backend';
import type { CredentialStore } from './credentialStore';
import type { Log } from './log';
import { readSettings, SECTION, Settings } from './settings';

export type { ConnectionState } from '../domain/connectionPrecedence';
export { describeState } from '../domain/connectionPrecedence';

export interface ConnectionSnapshot {
  state: ConnectionState;
  backend: TelemetryBackend | null;
  /** null = unknown; false once a write was refused or the key claims a read-only role. */
  canWrite: boolean | null;
  /** Per folder: TELEMETRY_AUTO_ANALYSIS_ENABLED=false in that folder's .env (trusted only). */
  autoDisabledFolders: ReadonlySet<string>;
  settings: Settings;
}

export type BackendFactory = (o: {
  url: string;
  origin: string;
  key: string;
  timeoutMs: number;
  /** See SupabaseBackendOptions.pool. */
  pool?: 'own' | 'global';
}) => TelemetryBackend;

/**
 * One keep-alive pool per backend, except under http.proxySupport "on", where VS Code applies proxy
 * settings only to requests that bring no agent of their own (src/data/pooledFetch.ts).
 */
function connectionPool(): 'own' | 'global' {
  return vscode.workspace.getConfiguration('http').get<string>('proxySupport') === 'on' ? 'global' : 'own';
}

export class ConnectionManager implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ConnectionSnapshot>();
  /** Every change of the connection (state, settings, canWrite, backend). */
  readonly onDidChange = this.emitter.event;
  private readonly backendEmitter = new vscode.EventEmitter<ConnectionSnapshot>();
  /**
   * The backend was replaced (by a new one, or by none): whatever was read through the old one is
   * void. Fires before the onDidChange of the same change, so that caches are cleared before anyone
   * renders it.
   */
  readonly onDidChangeBackend = this.backendEmitter.event;
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
  /** Work that must still reach the backend after dispose (bounded), see keepBackendUntil. */
  private readonly lastWork: Promise<void>[] = [];

  constructor(
    private readonly credentials: CredentialStore,
    private readonly log: Log,
    private readonly createBackend: BackendFactory,
  ) {
    this.current = {
      state: { kind: 'not-configured', cause: 'resolving' },
      backend: null,
      canWrite: null,
      autoDisabledFolders: new Set(),
      settings: readSettings().settings,
    };
    this.disposables.push(
      this.emitter,
      this.backendEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ehgTelemetry')) void this.refresh();
      }),
      credentials.onDidChange(() => void this.refresh()),
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
    const allowed = envAllowed({ trusted, useWorkspaceEnv: settings.useWorkspaceEnv });
    this.watchEnv(allowed ? folders : []);
    const inputs = {
      url: vscode.workspace.getConfiguration(SECTION).inspect<unknown>('supabaseUrl') ?? {},
      useWorkspaceEnv: settings.useWorkspaceEnv,
      trusted,
      // .env is read only in a trusted workspace, and only when the setting allows it.
      envFiles: allowed ? await this.readEnvFiles(folders) : [],
      storedKeyOrigins: new Set(this.credentials.origins),
    };
    const first = resolveConnection(inputs);
    const stored = first.decision.key?.from === 'secret-storage' ? first.decision.key.origin : null;
    const { resolution, key } = withStoredKey(inputs, first, stored ? await this.credentials.get(stored) : null);
    for (const w of resolution.warnings) this.warnOnce(w);
    const state = resolution.decision.state;
    if (this.disposed) return;

    const prev = this.current;
    const sameBackend =
      state.kind === 'configured' &&
      prev.state.kind === 'configured' &&
      prev.state.url === state.url &&
      this.activeKey === key &&
      prev.settings.requestTimeoutMs === settings.requestTimeoutMs;
    let backend = prev.backend;
    let canWrite = prev.canWrite;
    if (!sameBackend) {
      prev.backend?.dispose();
      backend =
        state.kind === 'configured' && key
          ? this.createBackend({
              url: state.url,
              origin: state.origin,
              key,
              timeoutMs: settings.requestTimeoutMs,
              pool: connectionPool(),
            })
          : null;
      this.activeKey = key;
      this.log.setSecrets([key]);
      canWrite = state.kind === 'configured' ? roleCanWrite(state.role) : null;
      this.log.info(describeState(state));
    }
    const autoDisabledFolders = new Set(resolution.autoDisabledFolders);
    this.current = { state, backend, canWrite, autoDisabledFolders, settings };
    if (!sameBackend) this.backendEmitter.fire(this.current);
    this.emitter.fire(this.current);
  }

  /** Each folder's own .env (text: null when too large); no file, no entry. */
  private async readEnvFiles(folders: readonly vscode.WorkspaceFolder[]): Promise<EnvFileInput[]> {
    const out: EnvFileInput[] = [];
    for (const folder of folders) {
      if (folder.uri.scheme !== 'file' && folder.uri.scheme !== 'vscode-remote') continue;
      const uri = vscode.Uri.joinPath(folder.uri, '.env');
      let text: string | null;
      try {
        const bytes = await vscode.workspace.fs.readFile(uri);
        text = bytes.byteLength > MAX_ENV_BYTES ? null : new TextDecoder().decode(bytes);
        if (text !== null) this.envRead = true;
      } catch {
        continue; // No .env in this folder: nothing to read.
      }
      out.push({ folderUri: folder.uri.toString(), fileUri: uri.toString(), displayPath: uri.fsPath, text });
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

  /**
   * The window is closing and `work` still has to reach the backend (a held run's cancel, see
   * AnalysisRunner.close): dispose() leaves the current backend open until it settles, or `maxMs`.
   */
  keepBackendUntil(work: Promise<void>, maxMs: number): void {
    if (this.disposed) return;
    this.lastWork.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        void work.then(
          () => (clearTimeout(timer), resolve()),
          () => (clearTimeout(timer), resolve()),
        );
      }),
    );
  }

  dispose(): void {
    this.disposed = true;
    const backend = this.current.backend;
    if (this.lastWork.length) void Promise.all(this.lastWork).then(() => backend?.dispose());
    else backend?.dispose();
    for (const d of this.envWatchers) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

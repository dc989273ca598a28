// Launches a real VS Code (code-server 4.100.3, see scripts/install-code-server.sh) for the e2e harness
// and for `npm start`: ensures the offline cache, installs a VSIX as a user would, starts the server on
// a free port in its own process group, waits until it answers HTTP, and stops it leaving no process.
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { sleep } from './wait';

export const CODE_SERVER_VERSION = '4.100.3';
export const REPO_ROOT = findRepoRoot(__dirname);

export function cacheDir(): string {
  return process.env.CODE_SERVER_CACHE ?? path.join(REPO_ROOT, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`);
}

export function entryPoint(): string {
  return path.join(cacheDir(), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** Runs scripts/install-code-server.sh (idempotent, ~2 min the first time, instant when cached). */
export function ensureCodeServer(log: (line: string) => void = console.log): string {
  const script = path.join(REPO_ROOT, 'scripts', 'install-code-server.sh');
  const res = spawnSync('bash', [script], { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const line of `${res.stdout ?? ''}${res.stderr ?? ''}`.split('\n')) if (line.trim()) log(line);
  if (res.status !== 0 || !fs.existsSync(entryPoint())) {
    throw new Error(
      `code-server is not available: ${script} exited with ${res.status ?? res.signal ?? res.error?.message}`,
    );
  }
  return entryPoint();
}

/** Settings that keep the workbench quiet and deterministic; `extra` wins. */
export const QUIET_USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
};

export function writeUserSettings(userDataDir: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...QUIET_USER_SETTINGS, ...extra }, null, 2));
  return file;
}

export interface Dirs {
  userDataDir: string;
  extensionsDir: string;
}

/** `code-server --install-extension <vsix>`: the same path a user's install takes. */
export function installExtension(vsix: string, dirs: Dirs, log: (line: string) => void = console.log): void {
  if (!fs.existsSync(vsix)) throw new Error(`VSIX not found: ${vsix} (run \`npm run package\`)`);
  fs.mkdirSync(dirs.userDataDir, { recursive: true });
  fs.mkdirSync(dirs.extensionsDir, { recursive: true });
  const res = spawnSync(
    process.execPath,
    [
      entryPoint(),
      '--user-data-dir',
      dirs.userDataDir,
      '--extensions-dir',
      dirs.extensionsDir,
      '--config',
      configFile(dirs.userDataDir),
      '--install-extension',
      vsix,
      '--force',
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EXTENSIONS_GALLERY: OFFLINE_GALLERY } },
  );
  const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  for (const line of out.split('\n')) if (line.trim()) log(`[install-extension] ${line}`);
  if (res.status !== 0 || !/successfully installed|already installed/i.test(out)) {
    throw new Error(
      `code-server --install-extension ${path.basename(vsix)} failed (exit ${res.status ?? res.signal}): ${out.trim().slice(-500)}`,
    );
  }
}

export interface CodeServerOptions extends Partial<Dirs> {
  /** Folder to open when the root URL is loaded. */
  folder?: string;
  /** Extra environment for the server; the extension host inherits it. */
  env?: Record<string, string>;
  /** Keep workspace trust on (Restricted Mode testing). Default: trust disabled. */
  workspaceTrust?: boolean;
  /** Extra user settings merged over QUIET_USER_SETTINGS. */
  userSettings?: Record<string, unknown>;
  /** VSIX files to install before starting. */
  vsix?: string[];
  port?: number;
  host?: string;
  /** Where server output goes (also kept in memory, see `output()`). */
  logFile?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /** Keep the temporary user-data/extensions folders after stop() (for debugging). */
  keepDirs?: boolean;
  /** On stop(), copy the editor's logs (extension host, extension output channels) here. */
  saveLogsTo?: string;
  /**
   * A lower CPU priority (a nice value, 1–19) for the server and everything it starts (extension hosts
   * inherit it), so that an editor running a time-bound suite elsewhere gets the CPU first.
   */
  niceness?: number;
}

export interface CodeServer extends Dirs {
  url: string;
  port: number;
  pid: number;
  /** URL of the workbench for a folder, optionally loading a development extension and an in-host test module. */
  workbenchUrl(folder: string, dev?: { extensionDevelopmentPath: string; extensionTestsPath?: string }): string;
  /** Last lines the server printed. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

// Points the marketplace at a closed local port, so the workbench does not wait on DNS for open-vsx.org.
const OFFLINE_GALLERY = JSON.stringify({
  serviceUrl: 'http://127.0.0.1:9/gallery',
  itemUrl: 'http://127.0.0.1:9/items',
  resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}',
});

/** Running servers and the temporary folder each owns (null when the caller gave the folders). */
const live = new Map<ChildProcess, string | null>();
let exitHookInstalled = false;

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  const log = opts.log ?? (() => undefined);
  // Folders not given are made in a temporary folder, removed again by stop().
  const base =
    opts.userDataDir && opts.extensionsDir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-code-server-'));
  const dirs: Dirs = {
    userDataDir: opts.userDataDir ?? path.join(base!, 'user-data'),
    extensionsDir: opts.extensionsDir ?? path.join(base!, 'extensions'),
  };
  fs.mkdirSync(dirs.userDataDir, { recursive: true });
  fs.mkdirSync(dirs.extensionsDir, { recursive: true });
  const trust = opts.workspaceTrust ?? false;
  writeUserSettings(dirs.userDataDir, {
    ...(trust ? { 'security.workspace.trust.enabled': true } : {}),
    ...opts.userSettings,
  });
  fs.writeFileSync(configFile(dirs.userDataDir), 'auth: none\ncert: false\n');
  for (const vsix of opts.vsix ?? []) installExtension(vsix, dirs, log);

  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const args = [
    entryPoint(),
    '--bind-addr',
    `${host}:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(trust ? [] : ['--disable-workspace-trust']),
    '--config',
    configFile(dirs.userDataDir),
    '--user-data-dir',
    dirs.userDataDir,
    '--extensions-dir',
    dirs.extensionsDir,
    ...(opts.folder ? [opts.folder] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true, // own process group: stop() kills the server, its extension hosts and pty host together
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EXTENSIONS_GALLERY: OFFLINE_GALLERY, ...opts.env },
  });
  if (opts.niceness && child.pid) {
    try {
      os.setPriority(child.pid, opts.niceness);
    } catch {
      // not permitted here: the editor runs at the usual priority
    }
  }
  live.set(child, base);
  installExitHook();
  const logStream = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  let tail = '';
  let exitedAt: number | null = null;
  let stopped = false;
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    logStream?.write(text);
    tail = (tail + text).slice(-20_000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exitedAt = Date.now();
      live.delete(child);
      logStream?.end();
      resolve();
    }),
  );

  const url = `http://${host}:${port}`;
  const server: CodeServer = {
    ...dirs,
    url,
    port,
    pid: child.pid!,
    workbenchUrl(folder, dev) {
      const params = [`folder=${encodeURIComponent(folder)}`];
      if (dev) {
        const remote = (p: string) => `vscode-remote://${host}:${port}${path.resolve(p)}`;
        const payload: string[][] = [['extensionDevelopmentPath', remote(dev.extensionDevelopmentPath)]];
        if (dev.extensionTestsPath) payload.push(['extensionTestsPath', remote(dev.extensionTestsPath)]);
        payload.push(['skipWelcome', 'true']);
        params.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      }
      return `${url}/?${params.join('&')}`;
    },
    output: () => tail,
    exited: () => exitedAt !== null,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (exitedAt === null) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // The server may have left children behind in its group even when it exited by itself.
      killGroup(child, 'SIGKILL');
      if (opts.saveLogsTo && fs.existsSync(path.join(dirs.userDataDir, 'logs'))) {
        fs.cpSync(path.join(dirs.userDataDir, 'logs'), opts.saveLogsTo, { recursive: true });
      }
      if (base && !opts.keepDirs) fs.rmSync(base, { recursive: true, force: true });
    },
  };

  log(`code-server ${CODE_SERVER_VERSION} starting at ${url} (pid ${child.pid}, trust ${trust ? 'on' : 'disabled'})`);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exitedAt !== null) {
      await server.stop();
      throw new Error(`code-server exited during start-up:\n${tail.slice(-3000)}`);
    }
    if (await answers(`${url}/healthz`)) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(
        `code-server did not answer HTTP at ${url} within ${opts.startTimeoutMs ?? 60_000} ms:\n${tail.slice(-3000)}`,
      );
    }
    await sleep(200);
  }
  log(`code-server answering at ${url}`);
  return server;
}

function configFile(userDataDir: string): string {
  return path.join(userDataDir, 'code-server.yaml');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the owning process ends without calling stop(): no code-server outlives it,
  // and no temporary folder is left behind.
  process.on('exit', () => {
    for (const [child, base] of live) {
      killGroup(child, 'SIGKILL');
      if (base) fs.rmSync(base, { recursive: true, force: true });
    }
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function findRepoRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (
      fs.existsSync(path.join(dir, 'package.json')) &&
      fs.existsSync(path.join(dir, 'scripts', 'install-code-server.sh'))
    )
      return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(from, '..', '..');
    dir = up;
  }
}

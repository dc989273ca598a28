// The demo workspace `npm start` writes and removes (scripts/start.ts), with its command-line arguments:
// kept in the kit so that the integration test (test/integration/demo-workspace.test.ts) and the script
// share it without importing each other. The folder rules themselves are in demoWorkspace.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../codeServer';
import { DemoWorkspace, MARKER } from './demoWorkspace';

export interface Args {
  backendOnly: boolean;
  /** false: no scheduler simulator; the heartbeat table is left to you (--no-scheduler, EHG_NO_SCHEDULER=1). */
  scheduler: boolean;
  intervalMs: number;
  port?: number;
  editorPort?: number;
  workspace?: string;
  /** Check the arguments and the workspace folder, write nothing, exit (scripts/bootstrap.js runs it first). */
  preflight: boolean;
}

export const USAGE = `npm start [-- options]
  --backend-only        only the local backend (no code-server, no VSIX build): prints a .env to paste and
                        how to install the extension into your own VS Code
  --no-scheduler        no EVA scheduler simulator: the heartbeat table is yours (also EHG_NO_SCHEDULER=1)
  --interval <seconds>  the simulator's base interval (default 5; idle it writes every 3 × base)
  --port <port>         the backend's port (default: a free one)
  --editor-port <port>  code-server's port (default: a free one)
  --workspace <folder>  the demo workspace: a missing or empty folder, or one an earlier demo made
                        (it holds ${MARKER}); the demo writes a copy of the fixture EHG workspace and a
                        .env there and removes exactly those again on exit. Any other folder is refused
                        before anything is written. Default: a temporary folder.`;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Args | 'help' {
  const args: Args = {
    backendOnly: false,
    scheduler: !['1', 'true'].includes(env.EHG_NO_SCHEDULER ?? ''),
    intervalMs: 5_000,
    preflight: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (name === '--backend-only') args.backendOnly = true;
    else if (name === '--no-scheduler') args.scheduler = false;
    else if (name === '--preflight') args.preflight = true;
    else if (name === '--interval') args.intervalMs = Math.max(1, Number(val())) * 1000;
    else if (name === '--port') args.port = Number(val());
    else if (name === '--editor-port') args.editorPort = Number(val());
    else if (name === '--workspace') args.workspace = path.resolve(val());
    else if (name === '--help' || name === '-h') return 'help';
    else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (!Number.isFinite(args.intervalMs)) throw new Error('--interval must be a number of seconds');
  return args;
}

/** The files the demo writes into its workspace, relative: the fixture EHG workspace, a README, .analyzer-mode, .env. */
export function demoFiles(): Record<string, string | Buffer> {
  const fixture = path.join(REPO_ROOT, 'test', 'fixtures', 'ehg-workspace');
  const files: Record<string, string | Buffer> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(fixture, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files[r] = fs.readFileSync(path.join(fixture, r));
    }
  };
  walk('');
  files['README.md'] =
    '# EHG_Engineer (demo workspace)\n\nOpen the **EHG Telemetry** view in the activity bar. The `.env` here points at the local demo backend. Written by `npm start`, removed when it stops.\n';
  // A few seconds of work, so that RUNNING is visible before SUCCEEDED.
  files['.analyzer-mode'] = 'slow:4000';
  return files;
}

export const DEMO_ENV = '.env';

/**
 * What the demo wrote before it kept a marker (until issue 18): the fixture's files, its README, its
 * .analyzer-mode and, when it was killed, its .env. Such a folder (e.g. .vscode-test/demo-workspace of
 * the Run Extension launch configuration) is adopted only when every file is byte-identical to these.
 */
export function writtenByEarlierDemo(rel: string, content: Buffer): boolean {
  const text = content.toString('utf8');
  if (rel === DEMO_ENV)
    return /^# Written by npm start: the local demo backend \(not a real Supabase project\)\nSUPABASE_URL=http:\/\/127\.0\.0\.1:\d+\nSUPABASE_SERVICE_ROLE_KEY=[\w.-]+\n$/.test(
      text,
    );
  if (rel === 'README.md')
    return (
      text ===
      '# EHG_Engineer (demo workspace)\n\nOpen the **EHG Telemetry** view in the activity bar. The `.env` here points at the local demo backend.\n'
    );
  const now = demoFiles()[rel];
  return now !== undefined && Buffer.from(now).equals(content);
}

/**
 * Opens (checks) the demo workspace without writing: the given folder, or a new temporary one.
 * Throws WorkspaceRefusedError for a folder the demo may not use.
 */
export function openDemoWorkspace(workspace: string | undefined): { ws: DemoWorkspace; tempBase: string | null } {
  const rels = [...Object.keys(demoFiles()), DEMO_ENV];
  if (workspace) return { ws: DemoWorkspace.open(workspace, rels, writtenByEarlierDemo), tempBase: null };
  const tempBase = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-telemetry-demo-'));
  return { ws: DemoWorkspace.open(path.join(tempBase, 'EHG_Engineer'), rels), tempBase };
}

/** Removes what the demo wrote; returns lines for what was kept (and why). */
export function cleanupDemoWorkspace(ws: DemoWorkspace, tempBase: string | null): string[] {
  const kept = ws.cleanup();
  if (tempBase) {
    try {
      fs.rmdirSync(tempBase);
    } catch {
      kept.push(`${tempBase} (not empty)`);
    }
  }
  return kept;
}

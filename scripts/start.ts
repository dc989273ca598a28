// `npm start`: the extension as a user gets it (the VSIX, installed into a real VS Code — code-server),
// against the embedded local backend with demo data and the EVA scheduler simulator, in a copy of the
// fixture EHG workspace (test/fixtures/ehg-workspace), whose stand-in analyzer the extension itself
// runs for the SESSION_START run it triggers.
// `npm start -- --backend-only`: only the backend, for a desktop VS Code (prints URL and keys).
// Ctrl-C stops everything and leaves nothing running.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateRuns, generateTraces } from '../test/stack/datagen';
import { startStack, Stack } from '../test/stack';
import { controlEndpoint, controlHelp, readControlCommands } from '../test/stack/control';
import { REPO_ROOT, startCodeServer, CodeServer } from './codeServer';

interface Args {
  backendOnly: boolean;
  intervalMs: number;
  port?: number;
  editorPort?: number;
  workspace?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backendOnly: false, intervalMs: 5_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--backend-only') args.backendOnly = true;
    else if (a.startsWith('--interval')) args.intervalMs = Math.max(1, Number(val())) * 1000;
    else if (a.startsWith('--port')) args.port = Number(val());
    else if (a.startsWith('--editor-port')) args.editorPort = Number(val());
    else if (a.startsWith('--workspace')) args.workspace = path.resolve(val());
    else if (a === '--help' || a === '-h') {
      console.log(
        'npm start [-- --backend-only] [--interval <base seconds, default 5>] [--port <backend port>] [--editor-port <port>] [--workspace <folder to write the demo .env into>]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  if (!Number.isFinite(args.intervalMs)) throw new Error('--interval must be a number of seconds');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  // A given --workspace is kept (e.g. .vscode-test/demo-workspace for the Run Extension launch
  // configuration); otherwise a temporary one is made and removed on exit.
  const base = args.workspace ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-telemetry-demo-'));
  const workspace = args.workspace ?? path.join(base!, 'EHG_Engineer');
  fs.mkdirSync(workspace, { recursive: true });
  // The fixture EHG workspace: package.json ("type": "module") and a stand-in analyzer
  // (lib/telemetry/bottleneck-analyzer.js) with the upstream's export and result shape.
  fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'ehg-workspace'), workspace, { recursive: true });
  // A few seconds of work, so that RUNNING is visible before SUCCEEDED.
  fs.writeFileSync(path.join(workspace, '.analyzer-mode'), 'slow:4000');
  let stack: Stack | null = null;
  let editor: CodeServer | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    await editor?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(130));
  process.on('SIGTERM', () => void stopAll(143));
  // The stack's own signal handler may end the process first; what must happen is done here too.
  process.on('exit', () => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
    else fs.rmSync(path.join(workspace, '.env'), { force: true });
    if (stopping) console.log('Stopped; nothing left running.');
  });

  console.log('Starting the local backend (PostgreSQL 18 + PostgREST 12.0.2 + the edge)…');
  stack = await startStack(
    {
      port: args.port,
      seedDemoScope: workspace,
      scheduler: { intervalMs: args.intervalMs },
      // The stack's own lines (what each part is, where it listens); not the scheduler's every write.
      log: (line) => {
        if (line.startsWith('[stack]')) console.log(line);
      },
    },
    controlEndpoint(() => stack),
  );
  // The demo history is a week and more old, so opening the workspace finds it stale and enqueues
  // a SESSION_START run the person can watch go QUEUED → RUNNING → SUCCEEDED.
  await stack.query(
    `update public.telemetry_analysis_runs set triggered_at = triggered_at - interval '8 days', started_at = started_at - interval '8 days',
       finished_at = finished_at - interval '8 days', created_at = created_at - interval '8 days',
       status = case when status in ('QUEUED','RUNNING') then 'CANCELLED' else status end,
       reason_code = case when status in ('QUEUED','RUNNING') then 'DEMO_HISTORY' else reason_code end`,
  );
  await generateRuns(stack.databaseUrl, { rows: 400, scopes: 12, seed: 3, activeShare: 0 });
  // A week of workflow traces in which one phase, one gate and one subagent got slow in the last day:
  // what the analyzer will find.
  await generateTraces(stack.databaseUrl);
  fs.writeFileSync(
    path.join(workspace, '.env'),
    `# Written by npm start: the local demo backend (not a real Supabase project)\nSUPABASE_URL=${stack.url}\nSUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}\n`,
  );
  fs.writeFileSync(
    path.join(workspace, 'README.md'),
    '# EHG_Engineer (demo workspace)\n\nOpen the **EHG Telemetry** view in the activity bar. The `.env` here points at the local demo backend.\n',
  );

  const control = (a: string) => `curl -X POST ${stack.url}/__stack/scheduler/${a}`;
  // As `supabase start` prints them, so a person can query what the extension wrote.
  const endpoints = `  REST URL          ${stack.url}/rest/v1
  anon key          ${stack.keys.anon}
  service-role key  ${stack.keys.serviceRole}
  (e.g. curl '${stack.url}/rest/v1/telemetry_analysis_runs?select=run_id,status,findings_count,metadata->runner&order=triggered_at.desc&limit=3' -H "apikey: <service-role key>")
  database          ${stack.databaseUrl}`;
  const controls = controlHelp();

  if (args.backendOnly) {
    console.log(`
Local backend ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (real PostgreSQL 18 and PostgREST 12.0.2 behind a stand-in for Supabase's gateway; see test/stack/README.md).

${endpoints}

Use it from a desktop VS Code: open a folder whose .env has
  SUPABASE_URL=${stack.url}
  SUPABASE_SERVICE_ROLE_KEY=<the service-role key above>
(or run "EHG Telemetry: Configure Connection…"). A ready folder: ${workspace}

Type a command and Enter to drive the EVA scheduler simulator (or ${control('open')}):
${controls}
Ctrl-C stops everything.`);
  } else {
    console.log('Starting VS Code (code-server 4.100.3) with the packaged extension installed…');
    editor = await startCodeServer({
      folder: workspace,
      port: args.editorPort,
      vsix: [path.join(REPO_ROOT, 'ehg-telemetry.vsix')],
      userSettings: { 'workbench.colorTheme': 'Default Dark Modern' },
    });
    console.log(`
Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Open this in a browser:

    ${editor.url}/?folder=${encodeURIComponent(workspace)}

What you will see: the EHG Telemetry icon in the activity bar opens "Analysis Runs", where a
SESSION_START run for this workspace appears and goes QUEUED → RUNNING → SUCCEEDED: the extension
itself runs the workspace's analyzer (the fixture's stand-in, in a child Node process; it waits 4 s
so RUNNING is visible) over the generated traces, and finds the slow phase, gate and subagent.
Expand the run for its bottlenecks. The status bar shows the EVA scheduler (simulated after
lib/eva/eva-master-scheduler.js: base interval ${args.intervalMs / 1000} s, adaptive polling on and the queue empty,
so it writes every ${Math.min(args.intervalMs * 3, 300_000) / 1000} s while next_poll_at says ${args.intervalMs / 1000} s).

${endpoints}

Type a command and Enter here to make the status bar react (or ${control('open')}):
${controls}
Ctrl-C stops everything.`);
  }

  readControlCommands(stack, () => void stopAll(0));
}

main().catch((e: unknown) => {
  console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

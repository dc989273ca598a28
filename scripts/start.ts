// `npm start`: the extension as a user gets it (the VSIX, installed into a real VS Code — code-server),
// against the embedded local backend with demo data and the EVA scheduler simulator, in a demo copy of
// the fixture EHG workspace (test/fixtures/ehg-workspace), whose stand-in analyzer the extension itself
// runs for the SESSION_START run it triggers. The demo writes only into its own folder (a temporary one,
// or --workspace: missing, empty or an earlier demo's; see demoWorkspace.ts) and removes what it wrote.
// `npm start -- --backend-only`: only the backend, for your own VS Code (prints a .env and how to
// install the VSIX); scripts/bootstrap.js then installs no code-server and builds no VSIX.
// `--no-scheduler`: no scheduler simulator. Ctrl-C stops everything and leaves nothing running.
import * as path from 'node:path';
import { generateRuns, generateTraces } from '../devkit/stack/datagen';
import { startStack, Stack } from '../devkit/stack';
import { controlEndpoint, controlHelp, readControlCommands } from '../devkit/stack/control';
import { REPO_ROOT, startCodeServer, CodeServer } from '../devkit/codeServer';
import { cleanupDemoWorkspace, DEMO_ENV, demoFiles, openDemoWorkspace, parseArgs, USAGE } from '../devkit/demo/demo';
import { WorkspaceRefusedError } from '../devkit/demo/demoWorkspace';

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const args = parsed;
  const t0 = Date.now();
  if (args.preflight) {
    // Checks only (the folder is read, never written): bootstrap.js runs this before installing anything.
    if (args.workspace) openDemoWorkspace(args.workspace);
    return;
  }
  const { ws, tempBase } = openDemoWorkspace(args.workspace);
  const workspace = ws.dir;
  let stack: Stack | null = null;
  let editor: CodeServer | null = null;
  let stopping = false;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const k of cleanupDemoWorkspace(ws, tempBase)) console.log(`Kept ${k}`);
  };
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
    cleanup();
    if (stopping) console.log('Stopped; nothing left running, and the demo workspace holds nothing the demo wrote.');
  });
  ws.setUp(demoFiles());

  console.log('Starting the local backend (PostgreSQL 18 + PostgREST 12.0.2 + the edge)…');
  stack = await startStack(
    {
      port: args.port,
      seedDemoScope: workspace,
      scheduler: args.scheduler ? { intervalMs: args.intervalMs } : false,
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
  // The evidence spans and improvement items seeded with that history age with it (the week of traces
  // the analyzer reads comes after, at today's dates).
  await stack.query(
    `update public.workflow_trace_log set created_at = created_at - interval '8 days',
       start_time_ms = start_time_ms - 8 * 86400000, end_time_ms = end_time_ms - 8 * 86400000`,
  );
  await stack.query(
    `update public.protocol_improvement_queue set created_at = created_at - interval '8 days',
       reviewed_at = reviewed_at - interval '8 days', applied_at = applied_at - interval '8 days'`,
  );
  await generateRuns(stack.databaseUrl, { rows: 400, scopes: 12, seed: 3, activeShare: 0 });
  // A week of workflow traces in which one phase, one gate and one subagent got slow in the last day:
  // what the analyzer will find.
  await generateTraces(stack.databaseUrl);
  const envText = `# Written by npm start: the local demo backend (not a real Supabase project)\nSUPABASE_URL=${stack.url}\nSUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}\n`;
  try {
    ws.write(DEMO_ENV, envText, 0o600);
  } catch (e) {
    // A .env that appeared (or changed) since the check is kept as it is; stop rather than run without it.
    console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
    await stopAll(e instanceof WorkspaceRefusedError ? 2 : 1);
    return;
  }

  const control = (a: string) => `curl -X POST ${stack.url}/__stack/scheduler/${a}`;
  // As `supabase start` prints them, so a person can query what the extension wrote.
  const endpoints = `  REST URL          ${stack.url}/rest/v1
  anon key          ${stack.keys.anon}
  service-role key  ${stack.keys.serviceRole}
  (e.g. curl '${stack.url}/rest/v1/telemetry_analysis_runs?select=run_id,status,findings_count,metadata->runner&order=triggered_at.desc&limit=3' -H "apikey: <service-role key>")
  database          ${stack.databaseUrl}`;
  const controls = args.scheduler
    ? `Type a command and Enter to drive the EVA scheduler simulator (or ${control('open')}):\n${controlHelp()}`
    : 'No scheduler simulator (--no-scheduler): eva_scheduler_heartbeat is yours to write (e.g. run upstream `npm run eva:scheduler:start` with the .env below).';
  const schedulerLine = args.scheduler
    ? `The status bar shows the EVA scheduler (simulated after
lib/eva/eva-master-scheduler.js: base interval ${args.intervalMs / 1000} s, adaptive polling on and the queue empty,
so it writes every ${Math.min(args.intervalMs * 3, 300_000) / 1000} s while next_poll_at says ${args.intervalMs / 1000} s).`
    : 'No scheduler simulator runs (--no-scheduler): the status bar shows whatever you write to eva_scheduler_heartbeat.';

  if (args.backendOnly) {
    const vsix = path.join(REPO_ROOT, 'ehg-telemetry.vsix');
    console.log(`
Local backend ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (real PostgreSQL 18 and PostgREST 12.0.2 behind a stand-in for Supabase's gateway; see devkit/stack/README.md).

${endpoints}

To use it from your own VS Code on your own EHG_Engineer checkout:
1. Put these lines in the checkout's .env (the extension reads it in a trusted workspace; keep your real
   values aside, this backend's keys are throw-away):

SUPABASE_URL=${stack.url}
SUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}

   (or run "EHG Telemetry: Configure Connection…" and paste the URL and key).
2. Build and install the extension (this mode builds nothing):
     cd ${REPO_ROOT} && npm run package
     code --install-extension ${vsix}
   or, in VS Code: Extensions: Install from VSIX… and pick ${vsix}.
A ready demo folder (the fixture EHG workspace with that .env, removed on exit): ${workspace}

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
Expand the run for its bottlenecks. ${schedulerLine}

${endpoints}

${controls}
Ctrl-C stops everything.`);
  }

  readControlCommands(stack, () => void stopAll(0));
}

if (require.main === module)
  main().catch((e: unknown) => {
    console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof WorkspaceRefusedError ? 2 : 1);
  });

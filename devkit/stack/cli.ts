// Runs the local backend for a person: `node out/devkit/stack/cli.js [--interval 5] [--port 54321]
// [--scope /abs/workspace] [--rows N] [--backend-only | --no-scheduler]` (either: no scheduler
// simulator, the heartbeat table is yours; also EHG_NO_SCHEDULER=1). Ctrl-C stops everything.
import { generateRuns } from './datagen';
import { controlEndpoint, controlHelp, readControlCommands } from './control';
import { Stack, startStack } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

async function main(): Promise<void> {
  const backendOnly =
    has('backend-only') || has('no-scheduler') || ['1', 'true'].includes(process.env.EHG_NO_SCHEDULER ?? '');
  const intervalMs = Math.max(0.2, Number(arg('interval') ?? 5)) * 1000;
  const scope = arg('scope') ?? process.cwd();
  let stackRef: Stack | null = null;
  const t0 = Date.now();
  const stack = await startStack(
    {
      port: arg('port') ? Number(arg('port')) : undefined,
      log: (l) => console.log(l),
      seedDemoScope: scope,
      scheduler: backendOnly ? false : { intervalMs },
    },
    controlEndpoint(() => stackRef),
  );
  stackRef = stack;
  const rows = Number(arg('rows') ?? 0);
  if (rows > 0) {
    const g = await generateRuns(stack.databaseUrl, { rows });
    console.log(`[stack] generated ${g.rows} runs in ${g.ms} ms`);
  }
  const line = '-'.repeat(72);
  console.log(
    `\n${line}\nLocal EHG backend (PostgreSQL 18 + PostgREST 12.0.2 behind the edge) ready in ${Date.now() - t0} ms\n`,
  );
  console.log(`SUPABASE_URL=${stack.url}`);
  console.log(`SUPABASE_ANON_KEY=${stack.keys.anon}`);
  console.log(`SUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}`);
  console.log(`(authenticated key: ${stack.keys.authenticated})`);
  console.log(`database (superuser): ${stack.databaseUrl}`);
  console.log(`demo runs seeded for scope_id ${scope}`);
  if (!backendOnly) {
    console.log(
      `\nScheduler (a stand-in after lib/eva/eva-master-scheduler.js and scripts/cron/eva-scheduler-watcher.mjs): base ${intervalMs / 1000} s, adaptive, queue empty, so it writes every ${Math.min(intervalMs * 3, 300_000) / 1000} s plus the time its due rounds take; upstream's timings scale with the base (round timeout ${(30 * intervalMs) / 60_000} s, watcher threshold ${(300 * intervalMs) / 60_000} s); nothing executes QUEUED runs (upstream the inserting process executes its run).`,
    );
    console.log(
      `Control the scheduler by typing a command (or: curl -X POST ${stack.url}/__stack/scheduler/open):\n${controlHelp()}`,
    );
  } else {
    console.log(
      '\nNo scheduler simulator: eva_scheduler_heartbeat is yours to write. Put the URL and a key above into the extension settings or a .env.',
    );
  }
  console.log(`Ctrl-C (or "quit") stops everything.\n${line}`);

  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    console.log('[stack] stopping…');
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => {
    void quit();
  });
  process.once('SIGTERM', () => {
    void quit();
  });
  readControlCommands(stack, () => void quit());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

// Runs the local backend for a person: `node out/test/stack/cli.js [--interval 10] [--port 54321]
// [--scope /abs/workspace] [--rows N] [--backend-only] [--no-worker]`. Ctrl-C stops everything.
import * as readline from 'node:readline';
import { generateRuns } from './datagen';
import { Stack, startStack } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const has = (name: string) => process.argv.includes(`--${name}`);

const COMMANDS = ['open', 'half-open', 'close', 'pause', 'resume', 'stop', 'start', 'silence', 'stopping', 'delete', 'status'] as const;

async function runCommand(stack: Stack, cmd: string, extra?: string): Promise<unknown> {
  const s = stack.scheduler;
  if (!s) throw new Error('the scheduler simulator is not running (--backend-only)');
  switch (cmd) {
    case 'open': await s.setBreaker('OPEN'); break;
    case 'half-open': await s.setBreaker('HALF_OPEN'); break;
    case 'close': await s.setBreaker('CLOSED'); break;
    case 'breaker': await s.setBreaker(extra ?? 'CLOSED'); break;
    case 'pause': await s.pause(extra || 'manual_pause'); break;
    case 'resume': await s.resume(); break;
    case 'stop': await s.stop(); break;
    case 'start': await s.start(); break;
    case 'silence': await s.silence(); break;
    case 'stopping': await s.setStopping(); break;
    case 'delete': await s.deleteRow(); break;
    case 'status': break;
    default: throw new Error(`unknown command ${cmd}`);
  }
  return (await stack.query('SELECT * FROM public.eva_scheduler_heartbeat'))[0] ?? null;
}

async function main(): Promise<void> {
  const backendOnly = has('backend-only');
  const intervalMs = Math.max(0.2, Number(arg('interval') ?? 10)) * 1000;
  const scope = arg('scope') ?? process.cwd();
  let stackRef: Stack | null = null;
  const t0 = Date.now();
  const stack = await startStack({
    port: arg('port') ? Number(arg('port')) : undefined,
    log: (l) => console.log(l),
    seedDemoScope: scope,
    scheduler: backendOnly ? false : { intervalMs },
    worker: backendOnly || has('no-worker') ? false : { pickupDelayMs: 2000, runDurationMs: 5000, seed: 1 },
  }, async (method, path, body) => {
    const m = /^\/__stack\/scheduler\/([a-z-]+)$/.exec(path);
    if (!m || !stackRef) return null;
    if (method !== 'POST' && m[1] !== 'status') return { status: 405, body: { message: 'use POST' } };
    try {
      let extra: string | undefined;
      try { extra = body ? (JSON.parse(body) as { reason?: string; state?: string }).reason ?? (JSON.parse(body) as { state?: string }).state : undefined; } catch { extra = undefined; }
      return { status: 200, body: await runCommand(stackRef, m[1], extra) };
    } catch (e) {
      return { status: 400, body: { message: e instanceof Error ? e.message : String(e) } };
    }
  });
  stackRef = stack;
  const rows = Number(arg('rows') ?? 0);
  if (rows > 0) {
    const g = await generateRuns(stack.databaseUrl, { rows });
    console.log(`[stack] generated ${g.rows} runs in ${g.ms} ms`);
  }
  const line = '-'.repeat(72);
  console.log(`\n${line}\nLocal EHG backend (PostgreSQL + PostgREST stand-in) ready in ${Date.now() - t0} ms\n`);
  console.log(`SUPABASE_URL=${stack.url}`);
  console.log(`SUPABASE_ANON_KEY=${stack.keys.anon}`);
  console.log(`SUPABASE_SERVICE_ROLE_KEY=${stack.keys.serviceRole}`);
  console.log(`(authenticated key: ${stack.keys.authenticated})`);
  console.log(`database (superuser): ${stack.databaseUrl}`);
  console.log(`demo runs seeded for scope_id ${scope}`);
  if (!backendOnly) {
    console.log(`\nScheduler polls every ${intervalMs / 1000} s; the demo worker picks QUEUED runs up after ~2 s and runs them ~5 s.`);
    console.log(`Control it by typing one of: ${COMMANDS.join(', ')}, breaker <TEXT>, pause <reason>, quit`);
    console.log(`or: curl -X POST ${stack.url}/__stack/scheduler/open   (${COMMANDS.filter((c) => c !== 'status').join('|')})`);
  } else {
    console.log('\n--backend-only: no scheduler or worker. Put the URL and a key above into the extension settings or a .env.');
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
  process.once('SIGINT', () => { void quit(); });
  process.once('SIGTERM', () => { void quit(); });
  if (!process.stdin.isTTY && process.stdin.readableEnded) return;
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    const [cmd, ...rest] = l.trim().split(/\s+/);
    if (!cmd) return;
    if (cmd === 'quit' || cmd === 'exit') { void quit(); return; }
    runCommand(stack, cmd, rest.join(' ') || undefined)
      .then((row) => console.log(JSON.stringify(row)))
      .catch((e) => console.log(`error: ${e instanceof Error ? e.message : String(e)}`));
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

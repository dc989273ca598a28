// A stand-in extension host for the "host killed mid-run" test: enqueues and executes one run
// exactly as the extension does (enqueueAndExecute), prints the run id, then waits to be killed.
// The key comes on stdin, never argv. An optional fifth argument is the CLI-hook hold in ms (the
// product's HOOK_HOLD_MS when absent).
import { enqueueAndExecute } from '../../../src/analysis/executeRun';
import { SupabaseBackend } from '../../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../../src/domain/credentials';
import { analysisContext, sessionRequest } from './analysis';

async function main(): Promise<void> {
  const [url, folder, scope, timeoutMs, hookHoldMs] = process.argv.slice(2);
  const key = await new Promise<string>((resolve) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => (s += c));
    process.stdin.on('end', () => resolve(s.trim()));
  });
  const c = checkProjectUrl(url);
  if (!c.ok) throw new Error(c.message);
  const backend = new SupabaseBackend({
    url: c.url,
    origin: c.origin,
    key,
    timeoutMs: 10_000,
    clientInfo: 'analysis-host',
  });
  const r = await enqueueAndExecute(
    backend,
    sessionRequest(scope, Number(timeoutMs), hookHoldMs ? { hookHoldMs: Number(hookHoldMs) } : {}),
    analysisContext({ url, key, folder, log: () => undefined }),
  );
  process.stdout.write(
    `${JSON.stringify({ kind: r.outcome.kind, runId: r.execution?.runId ?? null, childPid: r.execution?.process.pid ?? null })}\n`,
  );
  setInterval(() => undefined, 1000);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String(e) })}\n`);
  process.exit(1);
});

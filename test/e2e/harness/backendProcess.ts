// A local stack (with traces for the fixture analyzer) and its control endpoint in a process of their
// own, for the lane whose suites are bound by time (the scheduler's liveness scenarios): its simulator's
// writes and its gateway then do not wait behind the harness process's other work (the other lanes'
// gateways, the browser suites). Prints one JSON line ({ url, keys, databaseUrl, controlUrl }) when
// ready; stops everything on SIGTERM/SIGINT or when its parent goes away (stdin closes).
import { startStack } from '../../../devkit/stack';
import { generateTraces } from '../../../devkit/stack/datagen';
import { startControlServer } from '../backend';

const intervalMs = Number(process.argv[2] ?? 2_000);

async function main(): Promise<void> {
  const stack = await startStack({ scheduler: { intervalMs }, log: (line) => process.stderr.write(`${line}\n`) });
  // Traces for the workspace analyzer (the fixture's stand-in) to find bottlenecks in, as on every e2e stack.
  await generateTraces(stack.databaseUrl);
  const control = await startControlServer(stack);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await control.close().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop());
  }
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  const ready = { url: stack.url, keys: stack.keys, databaseUrl: stack.databaseUrl, controlUrl: control.url };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

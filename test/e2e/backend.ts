// Shared by the e2e stage (harness/lanes.ts, the ui and security suites) and the Electron runner (electron.ts): test workspaces, and the
// control endpoint through which the in-host suite drives the stack's simulators.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import type { Stack } from '../../devkit/stack';
import { writeForeignRow } from '../../devkit/stack/control';
import type { GatewayTap } from './gatewayTap';
import { ControlMethod, FaultSpec, describeError } from './shared';

/** The text of a .env file with these variables. */
function envText(env: Record<string, string>): string {
  return (
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  );
}

/** A workspace folder; with `env`, a .env file the extension reads in a trusted workspace. */
export function makeWorkspace(root: string, name: string, env?: Record<string, string>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nA workspace made by the EHG Telemetry e2e runner.\n`);
  if (env) fs.writeFileSync(path.join(dir, '.env'), envText(env));
  return fs.realpathSync(dir);
}

/** The fixture EHG workspace (test/fixtures/ehg-workspace: package.json "type": "module" and a stand-in analyzer), with a .env. */
export function makeEhgWorkspace(root: string, name: string, env: Record<string, string>, mode = 'normal'): string {
  const dir = path.join(root, name);
  fs.cpSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ehg-workspace'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '.analyzer-mode'), mode);
  fs.writeFileSync(path.join(dir, '.env'), envText(env));
  return fs.realpathSync(dir);
}

/** The in-host suite's calls into the stack (scheduler simulator, gateway log). */
export async function startControlServer(
  stack: Stack,
  tap?: GatewayTap,
): Promise<{ url: string; close(): Promise<void> }> {
  const scheduler = () => {
    if (!stack.scheduler) throw new Error('the stack was started without a scheduler simulator');
    return stack.scheduler;
  };
  const handlers: Record<ControlMethod, (...args: any[]) => unknown> = {
    'scheduler.setBreaker': (s: string) => scheduler().setBreaker(s),
    // Rows the daemon never writes (the simulator does not): a direct UPDATE after a crash.
    'scheduler.pause': (reason: string) => writeForeignRow(stack, { pausedReason: reason }),
    'scheduler.setStopping': () => writeForeignRow(stack, { status: 'stopping' }),
    'scheduler.slowRounds': (k: number) => scheduler().slowRounds(k),
    'scheduler.fastRounds': () => scheduler().fastRounds(),
    'scheduler.failSpawns': (n: number) => scheduler().failSpawns(n),
    'scheduler.watcherTick': () => scheduler().watcherTick(),
    'scheduler.stop': () => scheduler().stop(),
    'scheduler.silence': () => scheduler().silence(),
    'scheduler.start': () => scheduler().start(),
    'scheduler.writeOnce': () => scheduler().writeOnce(),
    'scheduler.crash': () => scheduler().crash(),
    'scheduler.revive': () => scheduler().revive(),
    'scheduler.claimRevival': () => scheduler().claimRevival(),
    'scheduler.setQueueDepth': (n: number) => scheduler().setQueueDepth(n),
    'scheduler.setAdaptive': (on: boolean) => scheduler().setAdaptive(on),
    'scheduler.clearRounds': () => scheduler().clearRounds(),
    'scheduler.restoreRounds': () => scheduler().restoreRounds(),
    /** The simulator's own view: what it last wrote and the wait it chose before the next poll. */
    'scheduler.state': () => ({
      ...scheduler().current,
      ...scheduler().settings,
      polling: scheduler().running,
      nextWaitMs: scheduler().currentWaitMs,
    }),
    'scheduler.deleteRow': async () => {
      await scheduler().silence();
      await scheduler().deleteRow();
    },
    'gateway.requestLog': () => stack.gateway.requestLog,
    'gateway.clearLog': () => stack.gateway.clearLog(),
    'gateway.setFault': (f: FaultSpec | null) => stack.gateway.setFault(f ? { ...f } : null),
    // The backend going away and coming back on the same port.
    'gateway.close': () => stack.gateway.close(),
    'gateway.listen': () => stack.gateway.listen(),
    'gateway.isListening': () => stack.gateway.isListening,
    'gateway.inFlight': () => {
      if (!tap) throw new Error('the runner started the control server without a gateway tap');
      return tap.inFlight().map((r) => ({ id: r.id, at: r.at, method: r.method, url: r.url }));
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      void (async () => {
        try {
          const { method, args } = JSON.parse(body) as { method: ControlMethod; args: unknown[] };
          const handler = handlers[method];
          if (!handler) throw new Error(`unknown control method ${method}`);
          const result = await handler(...(args ?? []));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: result ?? null }));
        } catch (err) {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: describeError(err) }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/control`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

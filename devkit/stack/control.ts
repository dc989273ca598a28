// Commands that drive the EVA scheduler simulator, shared by the stack CLI and `npm start`:
// typed on stdin, or POSTed to /__stack/scheduler/<command> on the gateway's port.
import type { ControlHandler, Stack } from './index';

export const CONTROL_COMMANDS: ReadonlyArray<[string, string]> = [
  ['open', 'the breaker adapter answers OPEN (shows at the next poll; status bar turns red)'],
  ['half-open', 'breaker HALF_OPEN (at the next poll)'],
  ['close', 'close the breaker again (at the next poll)'],
  ['breaker <TEXT>', "any other breaker value, e.g. 'open' (written as given, no pause; at the next poll)"],
  ['poll', 'a poll now instead of at the adaptive wait (not upstream: brings the next write forward)'],
  ['slow [K]', 'K rounds (default 1) hang: each times out after 30 s × base/60 s and re-runs every poll'],
  ['fast', 'the hanging rounds answer again'],
  ['stop', 'stop gracefully (status = stopped, breaker CLOSED)'],
  ['start', 'start a new scheduler instance'],
  ['queue <N>', 'pending queue depth the scheduler reads (0 = idle: writes every 3 × base; -1 = count failed)'],
  ['adaptive on|off', 'adaptive polling (EVA_DYNAMIC_SCALING; upstream default on)'],
  ['crash', 'the daemon dies: writes stop, status stays running (stale, then not polling)'],
  [
    'revive',
    "crash, wait for the watcher's threshold (300 s × base/60 s), then one watcher pass: claim, spawn, confirm",
  ],
  ['fail-revival [N]', 'the next N spawns (default 1) exit at startup: the token stays (revival failed)'],
  ['watch', "one watcher pass now (acts only on a row older than the watcher's threshold)"],
  ['claim', "crash, then only the watcher's claim (no daemon spawned: stays reviving, then revival failed)"],
  ['no-rounds', 'registered_rounds empties while polling goes on'],
  ['rounds', 'register the rounds again'],
  [
    'pause [reason]',
    'NOT the daemon (it never writes this): crash, then UPDATE paused_reason with the breaker as it is',
  ],
  ['stopping', "NOT the daemon (it never writes 'stopping'): crash, then UPDATE status = 'stopping'"],
  ['delete', 'crash, then delete the heartbeat row (no scheduler; "start" writes the first row)'],
  ['status', 'print the heartbeat row and the simulator settings'],
];

/**
 * Rows no upstream writer produces (a paused_reason with the breaker not OPEN, status 'stopping'),
 * for the extension's other states: the daemon is crashed first (its next write would overwrite the
 * row), then row 1 is UPDATEd directly. Not the simulator: it never writes these.
 */
export async function writeForeignRow(
  stack: Stack,
  patch: { pausedReason?: string | null; status?: 'stopping' },
): Promise<void> {
  await stack.scheduler?.crash();
  if (patch.pausedReason !== undefined)
    await stack.query('UPDATE public.eva_scheduler_heartbeat SET paused_reason = $1 WHERE id = 1', [
      patch.pausedReason,
    ]);
  if (patch.status !== undefined)
    await stack.query('UPDATE public.eva_scheduler_heartbeat SET status = $1 WHERE id = 1', [patch.status]);
}

export function controlHelp(indent = '    '): string {
  return CONTROL_COMMANDS.map(([c, h]) => `${indent}${c.padEnd(16)} ${h}`).join('\n');
}

export async function runControlCommand(stack: Stack, cmd: string, extra?: string): Promise<unknown> {
  const s = stack.scheduler;
  if (!s) throw new Error('the scheduler simulator is not running');
  switch (cmd) {
    case 'open':
      await s.setBreaker('OPEN');
      break;
    case 'half-open':
      await s.setBreaker('HALF_OPEN');
      break;
    case 'close':
      await s.setBreaker('CLOSED');
      break;
    case 'breaker':
      await s.setBreaker(extra ?? 'CLOSED');
      break;
    case 'pause':
      await writeForeignRow(stack, { pausedReason: extra || 'manual_pause' });
      break;
    case 'stopping':
      await writeForeignRow(stack, { status: 'stopping' });
      break;
    case 'poll':
      await s.writeOnce();
      break;
    case 'slow': {
      const k = extra === undefined ? 1 : Number(extra);
      await s.slowRounds(k);
      break;
    }
    case 'fast':
      await s.fastRounds();
      break;
    case 'fail-revival':
      await s.failSpawns(extra === undefined ? 1 : Number(extra));
      break;
    case 'watch':
      return { watcher: await s.watcherTick(), row: await heartbeatRow(stack) };
    case 'stop':
      await s.stop();
      break;
    case 'start':
      await s.start();
      break;
    case 'silence':
    case 'crash':
      await s.crash();
      break;
    case 'revive':
      return { watcher: await s.revive(), row: await heartbeatRow(stack) };
    case 'claim':
      await s.crash();
      await s.claimRevival();
      break;
    case 'queue': {
      const n = Number(extra);
      if (extra === undefined || !Number.isInteger(n)) throw new Error('queue needs an integer depth, e.g. "queue 45"');
      await s.setQueueDepth(n);
      break;
    }
    case 'adaptive':
      if (extra !== 'on' && extra !== 'off') throw new Error('adaptive needs "on" or "off"');
      await s.setAdaptive(extra === 'on');
      break;
    case 'no-rounds':
      await s.clearRounds();
      break;
    case 'rounds':
      await s.restoreRounds();
      break;
    case 'delete':
      await s.crash();
      await s.deleteRow();
      break;
    case 'status':
      break;
    default:
      throw new Error(`unknown command ${cmd}; one of: ${CONTROL_COMMANDS.map(([c]) => c.split(' ')[0]).join(', ')}`);
  }
  const row = await heartbeatRow(stack);
  return cmd === 'status'
    ? { row, simulator: { ...s.settings, polling: s.running, nextWaitMs: s.currentWaitMs } }
    : row;
}

async function heartbeatRow(stack: Stack): Promise<unknown> {
  return (await stack.query('SELECT * FROM public.eva_scheduler_heartbeat'))[0] ?? null;
}

/** The gateway's /__stack/scheduler/<command> endpoint (body: {"reason"|"state"|"depth"|"value": …}). */
export function controlEndpoint(getStack: () => Stack | null): NonNullable<ControlHandler> {
  return async (method, path, body) => {
    const m = /^\/__stack\/scheduler\/([a-z-]+)$/.exec(path);
    const stack = getStack();
    if (!m || !stack) return null;
    if (method !== 'POST' && m[1] !== 'status') return { status: 405, body: { message: 'use POST' } };
    let extra: string | undefined;
    try {
      const parsed = body
        ? (JSON.parse(body) as { reason?: string; state?: string; depth?: number; value?: string })
        : {};
      const v = parsed.reason ?? parsed.state ?? parsed.depth ?? parsed.value;
      extra = v === undefined ? undefined : String(v);
    } catch {
      extra = undefined;
    }
    try {
      return { status: 200, body: await runControlCommand(stack, m[1], extra) };
    } catch (e) {
      return { status: 400, body: { message: e instanceof Error ? e.message : String(e) } };
    }
  };
}

/** Reads commands from stdin ("open", "pause deploy", …) and prints the resulting row. */
export function readControlCommands(stack: Stack, onQuit?: () => void): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const readline = require('node:readline') as typeof import('node:readline');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    const [cmd, ...rest] = l.trim().split(/\s+/);
    if (!cmd) return;
    if ((cmd === 'quit' || cmd === 'exit') && onQuit) return onQuit();
    runControlCommand(stack, cmd, rest.join(' ') || undefined)
      .then((row) => console.log(`ok: ${cmd} → ${JSON.stringify(row)}`))
      .catch((e: unknown) => console.log(`error: ${e instanceof Error ? e.message : String(e)}`));
  });
}

// Commands that drive the EVA scheduler simulator, shared by the stack CLI and `npm start`:
// typed on stdin, or POSTed to /__stack/scheduler/<command> on the gateway's port.
import type { ControlHandler, Stack } from './index';

export const CONTROL_COMMANDS: ReadonlyArray<[string, string]> = [
  ['open', 'open the circuit breaker (status bar turns red)'],
  ['half-open', 'breaker HALF_OPEN'],
  ['close', 'close the breaker again'],
  ['breaker <TEXT>', 'any other breaker value (shown as unknown)'],
  ['pause [reason]', 'pause the scheduler (paused_reason)'],
  ['resume', 'resume it'],
  ['stopping', 'status = stopping'],
  ['stop', 'stop gracefully (status = stopped)'],
  ['start', 'start a new scheduler instance'],
  ['queue <N>', 'pending queue depth the scheduler reads (0 = idle: writes every 3 × base; -1 = count failed)'],
  ['adaptive on|off', 'adaptive polling (EVA_DYNAMIC_SCALING; upstream default on)'],
  ['crash', 'the daemon dies: writes stop, status stays running (stale, then not polling)'],
  ['revive', "the watcher's revival: claim with a supervisor- token, then a new instance takes over"],
  ['claim', "only the watcher's claim (its spawned daemon never comes up: stays reviving)"],
  ['no-rounds', 'registered_rounds empties while polling goes on'],
  ['rounds', 'register the rounds again'],
  ['delete', 'delete the heartbeat row (no scheduler)'],
  ['status', 'print the heartbeat row and the simulator settings'],
];

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
      await s.pause(extra || 'manual_pause');
      break;
    case 'resume':
      await s.resume();
      break;
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
      await s.revive();
      break;
    case 'claim':
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
    case 'stopping':
      await s.setStopping();
      break;
    case 'delete':
      await s.deleteRow();
      break;
    case 'status':
      break;
    default:
      throw new Error(`unknown command ${cmd}; one of: ${CONTROL_COMMANDS.map(([c]) => c.split(' ')[0]).join(', ')}`);
  }
  const row = (await stack.query('SELECT * FROM public.eva_scheduler_heartbeat'))[0] ?? null;
  return cmd === 'status'
    ? { row, simulator: { ...s.settings, polling: s.running, nextWaitMs: s.currentWaitMs } }
    : row;
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

// A detached shell that outlives this process: while this process is alive it waits; once this
// process is gone (however it ended, SIGKILL included) it signals the server it guards and, optionally,
// removes a folder once the server has exited. It also ends by itself when the guarded server exits,
// so a normal stop() leaves nothing behind. No secrets pass through it (only pids and a path).
import { spawn } from 'node:child_process';

export interface WatchdogOptions {
  /** The server to end when this process dies. */
  pid: number;
  /** Signal name without SIG (PostgreSQL: INT = fast shutdown; PostgREST: TERM). */
  signal: 'TERM' | 'INT' | 'KILL';
  /** Removed once the server has exited (e.g. a PostgreSQL data directory). */
  removeDir?: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function startWatchdog(o: WatchdogOptions): { stop(): void } {
  const parent = process.pid;
  const rm = o.removeDir
    ? `; for i in $(seq 1 100); do kill -0 ${o.pid} 2>/dev/null || break; sleep 0.1; done; rm -rf ${shellQuote(o.removeDir)}`
    : '';
  const script =
    `while kill -0 ${parent} 2>/dev/null && kill -0 ${o.pid} 2>/dev/null; do sleep 0.5; done; ` +
    `if kill -0 ${o.pid} 2>/dev/null; then kill -${o.signal} ${o.pid} 2>/dev/null; ` +
    `for i in $(seq 1 50); do kill -0 ${o.pid} 2>/dev/null || break; sleep 0.1; done; kill -KILL ${o.pid} 2>/dev/null; fi${rm}`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return {
    stop() {
      try {
        if (child.pid) process.kill(child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    },
  };
}

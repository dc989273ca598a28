// Unhandled rejections and uncaught exceptions in the extension host, recorded from the in-host suite.
// No other imports: index.ts installs it before anything else is loaded.
import * as assert from 'assert';

export interface Crash {
  kind: 'unhandledRejection' | 'uncaughtException';
  at: string;
  text: string;
}

const crashes: Crash[] = [];
let installed = false;

function describeValue(v: unknown): string {
  if (v instanceof Error) return v.stack ?? `${v.name}: ${v.message}`;
  try {
    return typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Records every unhandled promise rejection and uncaught exception in this extension host (the one
 * the extension runs in). The host keeps its own handlers, so recording changes nothing else.
 * Installed by index.ts before mocha starts, as early as the suite can run.
 */
export function installCrashRecorder(): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) =>
    crashes.push({ kind: 'unhandledRejection', at: new Date().toISOString(), text: describeValue(reason) }),
  );
  process.on('uncaughtException', (err) =>
    crashes.push({ kind: 'uncaughtException', at: new Date().toISOString(), text: describeValue(err) }),
  );
}

export function crashCount(): number {
  return crashes.length;
}

/** Fails with every crash recorded since `since` (a crashCount() taken earlier). */
export function assertNoCrashSince(since: number, what: string): void {
  assert.ok(installed, 'the crash recorder is installed (index.ts)');
  const seen = crashes.slice(since);
  assert.deepStrictEqual(
    seen,
    [],
    `${what}: unhandled rejection(s) / uncaught exception(s) in the extension host:\n${seen.map((c) => `${c.kind} at ${c.at}: ${c.text}`).join('\n')}`,
  );
}

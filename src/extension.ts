// Entry point. activate() only schedules the wiring (src/app.ts, its own bundle dist/app.js) for the
// next tick and returns a promise of it: the extension host does not wait on this extension's code
// while it activates the others of the same batch, and VS Code still treats the extension as active,
// and runs the commands it was activated for, only once everything is wired. Nothing touches
// secrets, files or the network before then.
import type * as vscode from 'vscode';
import type { EhgTelemetryApi } from './app';

export type { EhgTelemetryApi };

export function activate(context: vscode.ExtensionContext): Promise<EhgTelemetryApi> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(loadApp().wire(context));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, 0);
    // Deactivated before the wiring ran: nothing was built, and whoever awaits activation is not left waiting.
    context.subscriptions.push({
      dispose: () => {
        clearTimeout(timer);
        resolve({});
      },
    });
  });
}

let app: typeof import('./app') | undefined;

function loadApp(): typeof import('./app') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (app = require('./app') as typeof import('./app'));
}

/**
 * Everything is disposed through context.subscriptions (which also aborts requests in flight), right
 * after this returns. VS Code then awaits the promise returned here (5 s at most): a run this window
 * claimed and holds for the CLI hook is cancelled meanwhile (≤ 2 s, app.ts beforeDeactivate), so the
 * extension host does not exit with it RUNNING and nobody to start it. Never throws.
 */
export function deactivate(): Promise<void> | undefined {
  try {
    return app?.beforeDeactivate().catch(() => undefined);
  } catch {
    return undefined;
  }
}

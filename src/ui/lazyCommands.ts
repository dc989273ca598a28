// Every command is registered at activation, as the manifest promises, but the code behind them
// (commands.ts, the trends panel, …: dist/commands.js) loads on the first invocation.
import * as vscode from 'vscode';
import { COMMAND_IDS, CommandId } from './commandIds';

export type { CommandId };

export type CommandHandler = (...args: unknown[]) => Promise<unknown>;
export type CommandHandlers = Record<CommandId, CommandHandler> & vscode.Disposable;

/** Registers every command now; `load` runs once, on the first invocation of any of them. */
export function registerLazyCommands(load: () => CommandHandlers): vscode.Disposable {
  let handlers: CommandHandlers | undefined;
  return vscode.Disposable.from(
    ...COMMAND_IDS.map((id) =>
      vscode.commands.registerCommand(`ehgTelemetry.${id}`, (...args: unknown[]) => (handlers ??= load())[id](...args)),
    ),
    {
      dispose: () => {
        handlers?.dispose();
      },
    },
  );
}

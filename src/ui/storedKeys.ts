// Which origins have a key in SecretStorage (globalState list) and the context key that shows
// "Clear Stored Credentials". The seam a credential store (SecretStorage + this list, firing its own
// change event) replaces: publishStoredKeyContext is the one function that sets the context key.
import * as vscode from 'vscode';

export const STORED_ORIGINS_KEY = 'ehgTelemetry.storedOrigins';

export function storedOrigins(globalState: vscode.Memento): string[] {
  return globalState.get<string[]>(STORED_ORIGINS_KEY, []);
}

/** Sets `ehgTelemetry.hasStoredKey` from the stored-origins list (call after changing it). */
export function publishStoredKeyContext(globalState: vscode.Memento): void {
  void vscode.commands.executeCommand('setContext', 'ehgTelemetry.hasStoredKey', storedOrigins(globalState).length > 0);
}

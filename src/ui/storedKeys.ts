// The context key that shows "Clear Stored Credentials": the one function that sets it, from the
// credential store (which fires onDidChange when a key is stored or cleared, here or in another window).
import * as vscode from 'vscode';
import type { CredentialStore } from '../platform/credentialStore';

/** Sets `ehgTelemetry.hasStoredKey` from the credential store. */
export function publishStoredKeyContext(credentials: CredentialStore): void {
  void vscode.commands.executeCommand('setContext', 'ehgTelemetry.hasStoredKey', credentials.hasAny);
}

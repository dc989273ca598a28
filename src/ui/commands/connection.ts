// Connection commands: Configure Connection (URL, key, a test of what the key can do), Clear
// Credentials, Open Log.
import * as vscode from 'vscode';
import type { Capabilities, TelemetryBackend } from '../../data/backend';
import { checkProjectUrl } from '../../domain/credentials';
import type { ConnectionManager } from '../../platform/connection';
import type { CredentialStore } from '../../platform/credentialStore';
import type { Log } from '../../platform/log';
import { readSettings, SECTION } from '../../platform/settings';
import { info, warnModal } from '../notify';
import { command, Command, withProgress } from './shared';

/** The example in the URL box: a URL, not words, so it is not translated. */
const EXAMPLE_URL = 'https://abcd.supabase.co';

export type CreateBackend = (o: { url: string; origin: string; key: string; timeoutMs: number }) => TelemetryBackend;

export interface ConnectionCommandParts {
  connection: ConnectionManager;
  credentials: CredentialStore;
  createBackend: CreateBackend;
  log: Log;
}

export function connectionCommands(d: ConnectionCommandParts): Command[] {
  return [
    command(d.log, 'configureConnection', () => configureConnection(d)),
    command(d.log, 'clearCredentials', () => clearCredentials(d)),
    command(d.log, 'openLog', () => d.log.show()),
  ];
}

async function configureConnection(d: ConnectionCommandParts): Promise<unknown> {
  const settings = readSettings().settings;
  const target = await askUrl(settings.supabaseUrl, d.connection);
  if (!target) return;
  const key = await askKey(target.origin);
  if (key === undefined) return;
  const caps = await probe(d, target, key, settings.requestTimeoutMs);
  // Cancelled while testing: nothing is saved, nothing more is said.
  if (!caps) return;
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const summary = vscode.l10n.t(
    '{0} read runs · {1} read the heartbeat · {2} write runs',
    mark(caps.readRuns.ok),
    mark(caps.readHeartbeat.ok),
    mark(caps.writeRuns.ok),
  );
  d.log.info(
    `Connection test for ${target.origin} (key role ${caps.role}): ${caps.readRuns.detail}; ${caps.readHeartbeat.detail}; ${caps.writeRuns.detail}`,
  );
  if (!caps.readRuns.ok) {
    const saveAnyway = vscode.l10n.t('Save Anyway');
    const reenter = vscode.l10n.t('Re-enter');
    const choice = await warnModal(
      vscode.l10n.t('EHG Telemetry: {0}', caps.readRuns.detail),
      summary,
      saveAnyway,
      reenter,
    );
    if (choice === reenter) return vscode.commands.executeCommand('ehgTelemetry.configureConnection');
    if (choice !== saveAnyway) return;
  }
  await d.credentials.store(target.origin, key);
  await vscode.workspace.getConfiguration(SECTION).update('supabaseUrl', target.url, vscode.ConfigurationTarget.Global);
  await d.connection.refresh();
  if (caps.readRuns.ok) d.connection.setCanWrite(caps.writeRuns.ok);
  void info(
    caps.writeRuns.ok
      ? vscode.l10n.t('EHG Telemetry: connected to {0}. {1}.', target.origin, summary)
      : vscode.l10n.t(
          'EHG Telemetry: connected to {0}. {1}. Read-only: runs cannot be started or cancelled with this key.',
          target.origin,
          summary,
        ),
  );
}

async function askUrl(
  configured: string,
  connection: ConnectionManager,
): Promise<{ url: string; origin: string } | undefined> {
  const snap = connection.snapshot;
  const url = await vscode.window.showInputBox({
    title: vscode.l10n.t('EHG Telemetry: Configure Connection (1/2)'),
    prompt: vscode.l10n.t('URL of the EHG_Engineer Supabase project'),
    placeHolder: EXAMPLE_URL,
    value: configured || (snap.state.kind === 'configured' ? snap.state.url : ''),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const c = checkProjectUrl(v);
      if (!c.ok) return c.message;
      return c.warning ? { message: c.warning, severity: vscode.InputBoxValidationSeverity.Warning } : null;
    },
  });
  if (url === undefined) return undefined;
  const check = checkProjectUrl(url);
  return check.ok ? { url: check.url, origin: check.origin } : undefined;
}

/** The key, trimmed (undefined when dismissed). */
async function askKey(origin: string): Promise<string | undefined> {
  const key = await vscode.window.showInputBox({
    title: vscode.l10n.t('EHG Telemetry: Configure Connection (2/2)'),
    prompt: vscode.l10n.t(
      'Key for {0}. A service-role key can enqueue and cancel runs; the anon key is read-only. It is stored in the OS keychain (SecretStorage) and sent only to {0}.',
      origin,
    ),
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? null : vscode.l10n.t('Enter a key.')),
  });
  return key?.trim();
}

/** What the key can do, through a backend of its own; Cancel aborts its requests (undefined). */
function probe(
  d: ConnectionCommandParts,
  target: { url: string; origin: string },
  key: string,
  timeoutMs: number,
): Promise<Capabilities | undefined> {
  return withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('EHG Telemetry: testing {0}…', target.origin),
    },
    async (signal) => {
      const backend = d.createBackend({ url: target.url, origin: target.origin, key, timeoutMs });
      // Disposing a backend aborts its requests in flight.
      const abort = () => backend.dispose();
      signal.addEventListener('abort', abort, { once: true });
      try {
        return await backend.probeCapabilities();
      } finally {
        signal.removeEventListener('abort', abort);
        backend.dispose();
      }
    },
  );
}

async function clearCredentials(d: ConnectionCommandParts): Promise<void> {
  const origins = d.credentials.origins;
  const clear = vscode.l10n.t('Clear');
  const choice = await warnModal(
    vscode.l10n.t('Remove the stored key(s) and the URL setting?'),
    origins.length
      ? vscode.l10n.t('Keys stored for: {0}. A workspace .env is not changed.', origins.join(', '))
      : vscode.l10n.t('No key is stored; the URL setting will be cleared.'),
    clear,
  );
  if (choice !== clear) return;
  await d.credentials.clear();
  await vscode.workspace.getConfiguration(SECTION).update('supabaseUrl', undefined, vscode.ConfigurationTarget.Global);
  await d.connection.refresh();
  void info(vscode.l10n.t('EHG Telemetry: credentials cleared.'));
}

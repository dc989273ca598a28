// "Don't show again" for notifications that can repeat, remembered per kind in global state.
// Errors the user must act on once (e.g. a failed Configure Connection…) are not routed here.
import * as vscode from 'vscode';
import { MutedNotifications, NotificationKind } from '../domain/mutedNotifications';
import { info, notify } from './notify';

export { NOTIFICATION_KINDS } from '../domain/mutedNotifications';
export type { NotificationKind } from '../domain/mutedNotifications';

export class NotificationPrefs extends MutedNotifications implements vscode.Disposable {
  private readonly shown = new vscode.EventEmitter<NotificationKind>();
  /** A notification of this kind is shown (it was not muted). */
  readonly onDidShow = this.shown.event;

  constructor(state: vscode.Memento) {
    super(state);
  }

  dispose(): void {
    this.shown.dispose();
  }

  /**
   * Shows the message unless its kind is muted, with "Don't show again" after the given actions.
   * Resolves to the action chosen (undefined when dismissed, muted, or "Don't show again").
   */
  async show(
    kind: NotificationKind,
    severity: 'info' | 'warning',
    text: string,
    ...actions: string[]
  ): Promise<string | undefined> {
    if (this.isMuted(kind)) return undefined;
    this.shown.fire(kind);
    const never = vscode.l10n.t("Don't Show Again");
    // Every caller's text may hold database or server text: notify keeps it from becoming a (command) link.
    const choice = await notify(severity, text, ...actions, never);
    if (choice === never) {
      await this.mute(kind);
      return undefined;
    }
    return choice;
  }
}

/** The command that brings muted notifications back. */
export function registerNotificationCommands(prefs: NotificationPrefs): vscode.Disposable {
  return vscode.commands.registerCommand('ehgTelemetry.resetNotifications', async () => {
    await prefs.reset();
    void info(vscode.l10n.t('EHG Telemetry: notifications you turned off will be shown again.'));
  });
}

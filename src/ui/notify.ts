// The one way the extension shows a notification. Its text often carries database or server text
// (an error message, a run's status), and VS Code turns `[label](command:…)` in a notification into
// a link: every message, and a modal's detail, goes through notificationText here, so no call site
// can forget it. The text itself is already translated (vscode.l10n.t or the seam t) by the caller.
//
// test/unit/userStrings.test.ts fails when src/ calls vscode.window.show{Information,Warning,Error}Message
// anywhere but here, or passes these helpers a bare string literal instead of an l10n call.
import * as vscode from 'vscode';
import { notificationText } from '../domain/text';

export type Severity = 'info' | 'warning' | 'error';

/** A non-modal notification; resolves to the item chosen (undefined when dismissed). */
export function notify(severity: Severity, text: string, ...items: string[]): Thenable<string | undefined> {
  const message = notificationText(text);
  if (severity === 'error') return vscode.window.showErrorMessage(message, ...items);
  if (severity === 'warning') return vscode.window.showWarningMessage(message, ...items);
  return vscode.window.showInformationMessage(message, ...items);
}

export const info = (text: string, ...items: string[]): Thenable<string | undefined> => notify('info', text, ...items);
export const warn = (text: string, ...items: string[]): Thenable<string | undefined> =>
  notify('warning', text, ...items);
export const error = (text: string, ...items: string[]): Thenable<string | undefined> =>
  notify('error', text, ...items);

/**
 * A warning with a detail line under it (`modal`: a dialog that blocks until answered, with VS Code's
 * own Cancel button). Resolves to the item chosen (undefined when dismissed or cancelled).
 */
export function warnWithDetail(
  text: string,
  options: { modal?: boolean; detail?: string },
  ...items: string[]
): Thenable<string | undefined> {
  const detail = options.detail === undefined ? undefined : notificationText(options.detail);
  return vscode.window.showWarningMessage(notificationText(text), { modal: options.modal ?? false, detail }, ...items);
}

/** A modal warning dialog (a confirmation): resolves to the item chosen (undefined when cancelled). */
export const warnModal = (text: string, detail: string | undefined, ...items: string[]): Thenable<string | undefined> =>
  warnWithDetail(text, { modal: true, detail }, ...items);

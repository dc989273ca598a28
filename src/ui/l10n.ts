// Installs vscode.l10n.t as the translator of the pure modules (src/domain/l10n.ts). Imported for
// its effect by the UI modules that show domain text, so it runs when the extension bundle loads,
// before activate() does anything.
import * as vscode from 'vscode';
import { setTranslate } from '../domain/l10n';

setTranslate((message, ...args) => vscode.l10n.t(message, ...args));

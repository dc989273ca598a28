// Markdown built from untrusted database text: every value escaped, no command links, no HTML,
// no theme-icon syntax.
import * as vscode from 'vscode';
import { escapeMarkdown } from '../domain/text';
import './l10n';

export class SafeMarkdown {
  private readonly md = new vscode.MarkdownString('', false);

  constructor() {
    this.md.isTrusted = false;
    this.md.supportHtml = false;
    this.md.supportThemeIcons = false;
  }

  /** Our own fixed text (already safe). */
  raw(text: string): this {
    this.md.appendMarkdown(text);
    return this;
  }

  /** A "**Label:** value" line; the value is escaped. */
  field(label: string, value: string | number | null | undefined): this {
    const v = value === null || value === undefined || value === '' ? '—' : escapeMarkdown(String(value));
    this.md.appendMarkdown(`**${escapeMarkdown(label)}:** ${v}  \n`);
    return this;
  }

  line(text: string): this {
    this.md.appendMarkdown(`${escapeMarkdown(text)}  \n`);
    return this;
  }

  build(): vscode.MarkdownString {
    return this.md;
  }
}

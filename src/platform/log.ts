// The "EHG Telemetry" log channel. Every line passes through redaction, so a key can never reach it
// even if a server echoes it back in an error.
import * as vscode from 'vscode';
import { redact } from '../domain/credentials';

export class Log implements vscode.Disposable {
  private readonly channel: vscode.LogOutputChannel;
  private secrets: string[] = [];

  constructor(name = 'EHG Telemetry') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  /** Keys currently in use; they are removed from every line. */
  setSecrets(secrets: readonly (string | null | undefined)[]): void {
    this.secrets = secrets.filter((s): s is string => !!s);
  }

  private clean(text: string): string {
    return redact(text, this.secrets);
  }

  info(msg: string): void {
    this.channel.info(this.clean(msg));
  }
  warn(msg: string): void {
    this.channel.warn(this.clean(msg));
  }
  debug(msg: string): void {
    this.channel.debug(this.clean(msg));
  }
  error(msg: string, err?: unknown): void {
    const detail =
      err instanceof Error
        ? `\n${err.stack ?? err.message}`
        : err !== undefined
          ? ` ${typeof err === 'string' ? err : JSON.stringify(err)}`
          : '';
    this.channel.error(this.clean(`${msg}${detail}`));
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}

// Follows the runs this window started until they finish, logs each end and fires onDidFinish (the
// completion notification is ui/completionNotifier.ts's). Polls only while something is being watched.
import * as vscode from 'vscode';
import { plural } from '../domain/format';
import { isActive, RunSummary } from '../domain/run';
import type { ConnectionManager } from '../platform/connection';
import type { Log } from '../platform/log';
import type { TickOutcome } from '../platform/refreshScheduler';
import { Poller } from '../platform/poller';
import type { RunsModel } from './runsModel';

const WATCH_POLL_MS = 5_000;
const MAX_WATCH_MS = 2 * 3600_000;

export class RunWatcher implements vscode.Disposable {
  private readonly watched = new Map<string, number>();
  private readonly scheduler: Poller;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly finished = new vscode.EventEmitter<RunSummary>();
  /** A watched run was seen finished. */
  readonly onDidFinish = this.finished.event;

  constructor(
    private readonly connection: ConnectionManager,
    private readonly model: RunsModel,
    private readonly log: Log,
  ) {
    this.scheduler = new Poller({
      task: () => this.poll(),
      maxDelayMs: 10 * 60_000,
      minIntervalMs: 2_000,
      enabled: false,
    });
    this.disposables.push(
      this.scheduler,
      this.finished,
      connection.onDidChange(() => {
        if (!connection.snapshot.backend) this.watched.clear();
        this.scheduler.setEnabled(this.watched.size > 0);
      }),
    );
  }

  get watching(): string[] {
    return [...this.watched.keys()];
  }

  watch(runId: string): void {
    this.watched.set(runId, Date.now());
    this.scheduler.setEnabled(true);
    this.scheduler.start();
  }

  /** A run we watch has just ended (e.g. this window's analysis process finished it): look now. */
  checkNow(): void {
    if (this.watched.size) void this.scheduler.refreshNow();
  }

  private async poll(): Promise<TickOutcome> {
    const backend = this.connection.snapshot.backend;
    for (const [id, since] of this.watched) if (Date.now() - since > MAX_WATCH_MS) this.watched.delete(id);
    if (!backend || this.watched.size === 0) {
      this.scheduler.setEnabled(false);
      return { ok: true, nextDelayMs: WATCH_POLL_MS };
    }
    const res = await backend.getRunsById([...this.watched.keys()]);
    if (!res.ok) return { ok: false, retryAfterMs: res.error.retryAfterMs ?? undefined };
    this.model.mergeRuns(res.value);
    for (const run of res.value) {
      if (isActive(run.status)) continue;
      this.watched.delete(run.runId);
      this.log.info(
        `Run ${run.runId} finished: ${run.status}${run.findingsCount !== null ? `, ${plural(run.findingsCount, 'finding')}` : ''}`,
      );
      this.finished.fire(run);
    }
    if (this.watched.size === 0) this.scheduler.setEnabled(false);
    return { ok: true, nextDelayMs: WATCH_POLL_MS };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

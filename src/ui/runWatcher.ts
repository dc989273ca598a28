// Follows the runs this window enqueued until they finish, and tells the user once when one does
// (with findings, or failed / timed out). Polls only while something is being watched.
import * as vscode from 'vscode';
import { plural } from '../domain/format';
import { isActive, RunSummary } from '../domain/run';
import type { ConnectionManager } from '../platform/connection';
import type { Log } from '../platform/log';
import type { TickOutcome } from '../platform/refreshScheduler';
import { notify } from './notify';
import { Poller } from './poller';
import type { RunsModel } from './runsModel';
import type { NotificationPrefs } from './notificationPrefs';
import { RunComparisons } from './runComparisons';
import type { RunComparison } from '../domain/runComparison';
import { completionMessage } from '../domain/completionMessage';
import './l10n';

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
    private readonly extras: { comparisons?: RunComparisons; prefs?: NotificationPrefs } = {},
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
      this.finished.fire(run);
      void this.notify(run);
    }
    if (this.watched.size === 0) this.scheduler.setEnabled(false);
    return { ok: true, nextDelayMs: WATCH_POLL_MS };
  }

  /** The comparison with the previous run, for naming the new bottlenecks (null when none or it failed). */
  private async newSincePrevious(run: RunSummary): Promise<RunComparison | null> {
    if (!this.extras.comparisons || !RunComparisons.comparable(run)) return null;
    const res = await this.extras.comparisons.compare(run);
    return res.ok ? res.comparison : null;
  }

  private async notify(run: RunSummary): Promise<void> {
    const wanted =
      (run.status === 'SUCCEEDED' && (run.findingsCount ?? 0) > 0) ||
      run.status === 'FAILED' ||
      run.status === 'TIMED_OUT';
    this.log.info(
      `Run ${run.runId} finished: ${run.status}${run.findingsCount !== null ? `, ${plural(run.findingsCount, 'finding')}` : ''}`,
    );
    if (!wanted || !this.connection.snapshot.settings.notifyOnCompletion) return;
    const kind = run.status === 'SUCCEEDED' ? 'runFinished' : 'runFailed';
    if (this.extras.prefs?.isMuted(kind)) return;
    const since = run.status === 'SUCCEEDED' ? await this.newSincePrevious(run) : null;
    const text = completionMessage(run, since);
    const showLabel = vscode.l10n.t('Show');
    const severity = run.status === 'SUCCEEDED' ? 'info' : 'warning';
    const show = this.extras.prefs
      ? this.extras.prefs.show(kind, severity, text, showLabel)
      : notify(severity, text, showLabel);
    void show.then((choice) => {
      if (choice === showLabel)
        void vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: run.runId });
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

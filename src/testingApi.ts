// Test hooks: a read-only window into what the UI shows, for the in-editor test suites, plus the
// counters they read. This module exists only in the test build (esbuild.js `--test`, into
// dist-test/): extension.ts requires it behind `__EHG_TEST_HOOKS__`, which the production build
// defines as false, so the branch and this module are removed from dist/extension.js and the VSIX.
// Everything here observes the product from outside (wrapping the backend factory, the
// confirmation and a few methods); the product keeps no state for tests.
import * as vscode from 'vscode';
import type { TelemetryBackend } from './data/backend';
import type { ConnectionManager } from './platform/connection';
import type { Confirm } from './ui/commands';
import type { NotificationPrefs } from './ui/notificationPrefs';
import type { RunsModel } from './ui/runsModel';
import type { RunsTreeProvider } from './ui/runsTree';
import type { SchedulerMonitor } from './ui/schedulerMonitor';
import type { SessionStartController } from './ui/sessionStart';
import type { AnalysisRunner, ExecutionRecord } from './ui/analysisRunner';
import type { SchedulerStatusBar } from './ui/statusBar';
import type { TriggerDecisionCode } from './domain/sessionTrigger';
import { RUN_DOC_SCHEME, RunDocumentProvider } from './ui/runDocument';

export interface TestTreeItem {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  iconId: string;
  iconColor?: string;
  runId?: string;
  children?: Array<{ label: string; description?: string }>;
}

export interface TestingApi {
  settle(): Promise<void>;
  runsTree(opts?: { expand?: boolean }): Promise<TestTreeItem[]>;
  statusBar(): {
    text: string;
    tooltip: string;
    backgroundColor?: string;
    name: string;
    accessibilityLabel: string;
    command?: string;
    state: string;
  };
  state(): { viewState: string; connection: string; canWrite: boolean | null; trusted: boolean; envRead: boolean };
  /** The text of the run details document shown last. */
  lastDocument(): string | undefined;
  decisions(): Array<{ scopeId: string; decision: string; runId?: string }>;
  notifications(): number;
  requests(): number;
  heartbeatReads(): number;
  /** Requests made to compare runs with their previous run (at most one per run). */
  comparisonRequests(): number;
  refreshRuns(): Promise<void>;
  refreshHeartbeat(): Promise<void>;
  /** Runs this window executes now, and the last executions (child load time, memory, end). */
  analysis(): { active: string[]; history: ExecutionRecord[]; noAnalyzer: string[]; viewMessage: string | undefined };
  /**
   * The next modal confirmation (e.g. Cancel Run's) is answered with `answer` (the button's title,
   * undefined = dismissed) instead of being shown. A modal cannot be answered from the extension host.
   */
  answerNextConfirmation(answer: string | undefined): void;
}

/** What the hooks read once activate() has built everything. */
export interface Parts {
  connection: ConnectionManager;
  model: RunsModel;
  tree: RunsTreeProvider;
  statusBar: SchedulerStatusBar;
  prefs: NotificationPrefs;
  monitor: SchedulerMonitor;
  analysis: AnalysisRunner;
  documents: RunDocumentProvider;
  viewMessage: () => string | undefined;
  viewState: () => string;
}

export interface TestHooks {
  /** Counts the requests of every backend the factory makes (pruned when a backend is disposed). */
  observeBackends<A extends unknown[], B extends TelemetryBackend>(factory: (...args: A) => B): (...args: A) => B;
  /** The confirmation the commands use: answered by answerNextConfirmation() when one is pending. */
  confirm(real: Confirm): Confirm;
  /** The session start, when it is built (after activate() has returned): its decisions and attempts. */
  observeSessionStart(sessionStart: SessionStartController): void;
  attach(parts: Parts): TestingApi;
}

function text(v: string | vscode.TreeItemLabel | vscode.MarkdownString | undefined | boolean): string {
  if (v === undefined || typeof v === 'boolean') return '';
  if (typeof v === 'string') return v;
  if ('value' in v) return v.value;
  return v.label;
}

/** Replaces obj[name] (a method, possibly private) with wrap(original); fails loudly when it is gone. */
function instrument<F extends (...args: never[]) => unknown>(
  obj: object,
  name: string,
  wrap: (original: F) => F,
): void {
  const o = obj as Record<string, unknown>;
  const original = o[name];
  if (typeof original !== 'function') throw new Error(`test hooks: ${obj.constructor.name}.${name} is not a method`);
  o[name] = wrap((original as F).bind(obj) as F);
}

export function createTestHooks(): TestHooks {
  const live = new Set<TelemetryBackend>();
  let retiredRequests = 0;
  let comparisonRequests = 0;
  const answers: Array<string | undefined> = [];
  const decisions: Array<{ scopeId: string; decision: string; runId?: string }> = [];
  const inFlight = new Set<Promise<void>>();

  return {
    observeBackends(factory) {
      return (...args) => {
        const b = factory(...args);
        live.add(b);
        instrument(b, 'getPreviousSucceeded', (orig: TelemetryBackend['getPreviousSucceeded']) => (...a) => {
          comparisonRequests++;
          return orig(...a);
        });
        instrument(b, 'dispose', (orig: () => void) => () => {
          if (live.delete(b)) retiredRequests += requestCount(b);
          orig();
        });
        return b;
      };
    },
    confirm(real) {
      return (...args) => (answers.length ? Promise.resolve(answers.shift()) : real(...args));
    },
    observeSessionStart(sessionStart) {
      // Every decision the session start logs (repeats of the same skip are not logged).
      instrument(
        sessionStart,
        'logDecision',
        (orig: (scopeId: string, code: TriggerDecisionCode, fields: Record<string, unknown>) => void) =>
          (scopeId, code, fields) => {
            orig(scopeId, code, fields);
            decisions.push({
              scopeId,
              decision: code,
              runId: typeof fields.run_id === 'string' ? fields.run_id : undefined,
            });
            if (decisions.length > 200) decisions.shift();
          },
      );
      instrument(sessionStart, 'attempt', (orig: (st: unknown) => Promise<void>) => (st) => {
        const attempt = orig(st);
        inFlight.add(attempt);
        void attempt.finally(() => inFlight.delete(attempt));
        return attempt;
      });
    },
    attach(p) {
      let notifications = 0;
      instrument(p.prefs, 'show', (orig: NotificationPrefs['show']) => (kind, ...rest) => {
        if (!p.prefs.isMuted(kind)) notifications++;
        return orig(kind, ...rest);
      });
      // The text of each run document as provided, so that reading the shown one costs nothing.
      const provided = new Map<string, string>();
      instrument(
        p.documents,
        'provideTextDocumentContent',
        (orig: RunDocumentProvider['provideTextDocumentContent']) => async (uri) => {
          const text = await orig(uri);
          provided.delete(uri.toString());
          provided.set(uri.toString(), text);
          if (provided.size > 20) provided.delete(provided.keys().next().value!);
          return text;
        },
      );
      return {
        async settle() {
          await p.connection.refresh();
          while (inFlight.size) await Promise.allSettled([...inFlight]);
        },
        async runsTree(opts) {
          const roots = await p.tree.getChildren();
          const out: TestTreeItem[] = [];
          for (const node of roots) {
            const item = p.tree.getTreeItem(node);
            const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
            const entry: TestTreeItem = {
              label: text(item.label),
              description: text(item.description),
              tooltip: text(item.tooltip),
              contextValue: item.contextValue ?? '',
              iconId: icon?.id ?? '',
              iconColor: icon?.color?.id,
              runId: node.kind === 'run' ? node.run.runId : undefined,
            };
            if (opts?.expand && node.kind === 'run') {
              const kids = await p.tree.getChildren(node);
              entry.children = kids.map((k) => {
                const ki = p.tree.getTreeItem(k);
                return { label: text(ki.label), description: text(ki.description) || undefined };
              });
            }
            out.push(entry);
          }
          return out;
        },
        statusBar() {
          const item = p.statusBar.view;
          return {
            text: item.text,
            tooltip: text(item.tooltip),
            backgroundColor: item.backgroundColor?.id,
            name: item.name ?? '',
            accessibilityLabel: item.accessibilityInformation?.label ?? '',
            command: typeof item.command === 'string' ? item.command : item.command?.command,
            state: p.statusBar.state,
          };
        },
        state() {
          const snap = p.connection.snapshot;
          return {
            viewState: p.viewState(),
            connection: snap.state.kind,
            canWrite: snap.canWrite,
            trusted: vscode.workspace.isTrusted,
            envRead: p.connection.hasReadEnv,
          };
        },
        lastDocument() {
          // The run document in the active editor: shown, not only rendered.
          const active = vscode.window.activeTextEditor?.document;
          if (active?.uri.scheme !== RUN_DOC_SCHEME) return undefined;
          return provided.get(active.uri.toString()) ?? active.getText();
        },
        decisions: () => [...decisions],
        notifications: () => notifications,
        requests: () => [...live].reduce((n, b) => n + requestCount(b), retiredRequests),
        heartbeatReads: () => p.monitor.readCount,
        comparisonRequests: () => comparisonRequests,
        refreshRuns: async () => {
          await p.model.load();
        },
        refreshHeartbeat: () => p.monitor.refreshNow(),
        analysis: () => ({
          active: p.analysis.activeRunIds,
          history: p.analysis.history.map((h) => ({ ...h })),
          noAnalyzer: [...p.analysis.noAnalyzer.values()],
          viewMessage: p.viewMessage(),
        }),
        answerNextConfirmation(answer) {
          answers.push(answer);
        },
      };
    },
  };
}

/** SupabaseBackend counts its own requests (its guarded fetch); other backends count none. */
function requestCount(b: TelemetryBackend): number {
  const n = (b as { requestCount?: unknown }).requestCount;
  return typeof n === 'number' ? n : 0;
}

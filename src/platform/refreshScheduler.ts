// Decides when a background read runs. No `vscode` import, so it is unit-tested with fake timers.
//
// - Runs only while enabled and visible (someone can see the result); pauses otherwise.
// - Never overlaps: a refresh requested while one is in flight runs once, right after it.
// - The task says when it wants to run next (e.g. just after the scheduler's next poll).
// - While the window is unfocused, delays are stretched by `unfocusedFactor`.
// - Failures back off exponentially (base · 2^(n-1), capped), honouring Retry-After.
import { backoffDelayMs } from '../domain/backoff';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The shortest delay between two runs of a scheduled task. */
export const MIN_DELAY_MS = 1_000;

export type TickOutcome = { ok: true; nextDelayMs: number } | { ok: false; retryAfterMs?: number };

export interface RefreshSchedulerOptions {
  task: () => Promise<TickOutcome>;
  clock?: Clock;
  /** Delay multiplier while the window is unfocused. */
  unfocusedFactor: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Upper bound of any delay (also after stretching). */
  maxDelayMs: number;
  /** Becoming visible again triggers a read unless the last one finished less than this ago. */
  minIntervalMs: number;
}

export class RefreshScheduler {
  private readonly clock: Clock;
  private timer: unknown = undefined;
  private inFlight: Promise<void> | null = null;
  private pending = false;
  private disposed = false;
  private visible = true;
  private enabled = true;
  private focused = true;
  private lastEndAt: number | null = null;
  private baseDelayMs = 0;
  private failures = 0;
  private runs = 0;
  private wokeUp = false;

  constructor(private readonly opts: RefreshSchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
  get runCount(): number {
    return this.runs;
  }
  get isActive(): boolean {
    return !this.disposed && this.enabled && this.visible;
  }
  get hasTimer(): boolean {
    return this.timer !== undefined;
  }

  /** Starts (or resumes) scheduling. */
  start(): void {
    this.schedule();
  }

  setVisible(visible: boolean): void {
    if (this.visible === visible) return;
    this.visible = visible;
    this.wokeUp = visible;
    this.schedule();
  }

  setEnabled(enabled: boolean): void {
    if (this.enabled === enabled) return;
    this.enabled = enabled;
    if (enabled) {
      this.failures = 0;
      this.baseDelayMs = 0;
      this.lastEndAt = null;
    }
    this.schedule();
  }

  setFocused(focused: boolean): void {
    if (this.focused === focused) return;
    this.focused = focused;
    this.schedule();
  }

  /** Runs now (coalesced with one in flight). Also clears a backoff: the user asked. */
  refreshNow(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.inFlight) {
      this.pending = true;
      // Settle when the follow-up run (started as the current one ends) has finished, not before.
      return this.inFlight.then(() => this.inFlight ?? undefined);
    }
    return this.run();
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private currentDelay(): number {
    const stretched = this.focused ? this.baseDelayMs : this.baseDelayMs * this.opts.unfocusedFactor;
    return Math.min(this.opts.maxDelayMs, stretched);
  }

  private schedule(): void {
    this.clearTimer();
    if (!this.isActive || this.inFlight) return;
    const now = this.clock.now();
    let wait: number;
    if (this.lastEndAt === null) wait = 0;
    else {
      const due = this.lastEndAt + this.currentDelay();
      wait = Math.max(0, due - now);
      // Coming back into view: refresh promptly if the data is older than minIntervalMs (not in a
      // tight loop when a view flickers, and not while backing off from failures).
      if (this.wokeUp && this.failures === 0 && now - this.lastEndAt >= this.opts.minIntervalMs) wait = 0;
    }
    this.wokeUp = false;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
  }

  private run(): Promise<void> {
    this.clearTimer();
    this.runs++;
    const p = (async () => {
      let outcome: TickOutcome;
      try {
        outcome = await this.opts.task();
      } catch {
        outcome = { ok: false };
      }
      this.lastEndAt = this.clock.now();
      if (outcome.ok) {
        this.failures = 0;
        // NaN would make every timer fire at once: a tight loop against the backend.
        // A floor keeps a task that keeps asking for 0 ms from spinning against the backend.
        this.baseDelayMs = Number.isNaN(outcome.nextDelayMs)
          ? this.opts.maxDelayMs
          : Math.max(MIN_DELAY_MS, outcome.nextDelayMs);
      } else {
        this.failures++;
        this.baseDelayMs = backoffDelayMs(this.failures, {
          baseMs: this.opts.backoffBaseMs,
          maxMs: this.opts.backoffMaxMs,
          retryAfterMs: outcome.retryAfterMs,
        });
      }
    })();
    this.inFlight = p.finally(() => {
      this.inFlight = null;
      if (this.disposed) return;
      if (this.pending) {
        this.pending = false;
        void this.run();
      } else {
        this.schedule();
      }
    });
    return this.inFlight;
  }
}

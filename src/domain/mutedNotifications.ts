// Which repeatable notifications the user turned off with "Don't Show Again", per kind, kept in a
// Memento-like store (VS Code's global state). Pure: no vscode, so it is unit-tested with a fake store.

export type NotificationKind = 'runFinished' | 'runFailed' | 'backendProblem';
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['runFinished', 'runFailed', 'backendProblem'];
export const MUTED_STATE_KEY = 'ehgTelemetry.mutedNotifications';

/** The part of vscode.Memento this needs. */
export interface StateStore {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

export class MutedNotifications {
  constructor(private readonly state: StateStore) {}

  /** The muted kinds; anything else in the store (an older or foreign value) is ignored. */
  muted(): NotificationKind[] {
    const raw = this.state.get<unknown>(MUTED_STATE_KEY, []);
    return Array.isArray(raw) ? NOTIFICATION_KINDS.filter((k) => raw.includes(k)) : [];
  }

  isMuted(kind: NotificationKind): boolean {
    return this.muted().includes(kind);
  }

  async mute(kind: NotificationKind): Promise<void> {
    if (!this.isMuted(kind)) await this.state.update(MUTED_STATE_KEY, [...this.muted(), kind]);
  }

  /** "Show All Notifications Again". */
  async reset(): Promise<void> {
    await this.state.update(MUTED_STATE_KEY, []);
  }
}

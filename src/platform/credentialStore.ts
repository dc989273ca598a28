// The keys typed into "Configure Connection…": each in SecretStorage under its URL origin, and the list
// of origins that have one in globalState (SecretStorage cannot be listed; the list holds no key).
// The only code that reads or writes either.
import type * as vscode from 'vscode';

export const SECRET_PREFIX = 'ehgTelemetry.key:';
/** globalState: the origins with a stored key (for "Clear Credentials" and the hasStoredKey context). */
export const STORED_ORIGINS_KEY = 'ehgTelemetry.storedOrigins';

export function secretKeyFor(origin: string): string {
  return `${SECRET_PREFIX}${origin}`;
}

/** The parts of SecretStorage and Memento used here (unit tests pass in-memory ones). */
export type SecretsLike = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'onDidChange'>;
export type MementoLike = Pick<vscode.Memento, 'get' | 'update'>;

/** An origin as URL.origin spells it: scheme, host and port only. */
function assertOrigin(origin: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(origin);
  } catch {
    /* below */
  }
  if (!parsed || parsed.origin !== origin || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
    throw new Error('A key can only be stored for an http(s) origin such as https://abcd.supabase.co.');
}

export class CredentialStore implements vscode.Disposable {
  private readonly listeners = new Set<() => void>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly secrets: SecretsLike,
    private readonly state: MementoLike,
  ) {
    // Another window of the same profile may store or delete a key.
    this.subscription = secrets.onDidChange((e) => {
      if (e.key.startsWith(SECRET_PREFIX)) this.fire();
    });
  }

  /** Fires after a key was stored or removed (here or in another window). */
  readonly onDidChange = (listener: () => void): vscode.Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  /** Origins with a stored key, as recorded in globalState. */
  get origins(): readonly string[] {
    const v = this.state.get<unknown>(STORED_ORIGINS_KEY, []);
    return Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string') : [];
  }

  get hasAny(): boolean {
    return this.origins.length > 0;
  }

  /** The key stored for this origin, or null. */
  async get(origin: string): Promise<string | null> {
    return (await this.secrets.get(secretKeyFor(origin))) || null;
  }

  /** Stores (or replaces) the key for an origin. Throws, without storing, on a bad origin or an empty key. */
  async store(origin: string, key: string): Promise<void> {
    assertOrigin(origin);
    const trimmed = key.trim();
    if (!trimmed) throw new Error('The key is empty; nothing was stored.');
    await this.secrets.store(secretKeyFor(origin), trimmed);
    const origins = new Set(this.origins);
    origins.add(origin);
    await this.state.update(STORED_ORIGINS_KEY, [...origins]);
    this.fire();
  }

  /** Removes every stored key; returns the origins they were for. */
  async clear(): Promise<string[]> {
    const origins = [...this.origins];
    for (const o of origins) await this.secrets.delete(secretKeyFor(o));
    await this.state.update(STORED_ORIGINS_KEY, []);
    this.fire();
    return origins;
  }

  private fire(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A listener's failure must not stop the others (they only refresh state).
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.listeners.clear();
  }
}

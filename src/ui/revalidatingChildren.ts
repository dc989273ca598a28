// Children of a tree row that take a request to know, answered at once: the last children shown
// (or a "Loading…" row the first time) while a load runs in the background; when the load brings
// something different, `changed(parent)` asks the view to redraw that row.
//
// Why not an async getChildren: VS Code 1.100's extension host registers a row's children when
// each getChildren call resolves, and a second call for the same row that starts while the first
// is still waiting (a refresh of the tree during a slow expand) registers the same ids again and
// fails with "Element with id … is already registered": the expanded row then shows no children
// until it is collapsed (microsoft/vscode#192055). Answering synchronously leaves no such window.
//
// A redraw can be lost: when the load answers at once, the redraw reaches the workbench while it is
// still taking in the "Loading…" answer, and it reuses that answer instead of asking again. So a
// redraw counts as delivered only when the view asks for the children again; until then it is
// repeated a few times (`redrawRetryMs`). A collapsed row is not asked for: the repeats then stop.
export interface RevalidatingChildrenOptions<P, C> {
  /** Reads the children; should not reject (a rejection becomes `failed`). */
  load(parent: P): Promise<C[]>;
  /** What to show before the first load has answered. */
  loading(parent: P): C[];
  /** What to show when the load rejected. */
  failed(parent: P, error: unknown): C[];
  /** What the user sees of the children: a change of it is a redraw, the same is none. */
  signature(children: C[]): string;
  /** Asks the view to read this parent's children again. */
  changed(parent: P): void;
  /** Delays after a redraw at which it is repeated while the view has not asked again (default 300 ms, 1 s, 3 s). */
  redrawRetryMs?: readonly number[];
}

interface Entry<P, C> {
  parent: P;
  children: C[] | undefined;
  signature: string;
  pending: boolean;
  again: boolean;
  /** A redraw was asked for and the view has not asked for the children since. */
  undelivered: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class RevalidatingChildren<P, C> {
  private readonly entries = new Map<string, Entry<P, C>>();
  private disposed = false;

  constructor(private readonly opts: RevalidatingChildrenOptions<P, C>) {}

  /** The children to show now; starts (or queues) a load that redraws the parent if they change. */
  get(key: string, parent: P): C[] {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        parent,
        children: undefined,
        signature: '',
        pending: false,
        again: false,
        undelivered: false,
        timer: undefined,
      };
      this.entries.set(key, entry);
    }
    entry.parent = parent;
    if (entry.children !== undefined) this.delivered(entry);
    this.revalidate(key, entry);
    return entry.children ?? this.opts.loading(parent);
  }

  /** Forgets the keys `keep` refuses (rows no longer in the tree). */
  prune(keep: (key: string, parent: P) => boolean): void {
    for (const [key, entry] of this.entries)
      if (!keep(key, entry.parent)) {
        this.delivered(entry);
        this.entries.delete(key);
      }
  }

  dispose(): void {
    this.disposed = true;
    for (const entry of this.entries.values()) this.delivered(entry);
    this.entries.clear();
  }

  private delivered(entry: Entry<P, C>): void {
    entry.undelivered = false;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** Asks for a redraw, and again after each retry delay until the view asks for the children. */
  private redraw(key: string, entry: Entry<P, C>, attempt = 0): void {
    this.delivered(entry);
    entry.undelivered = true;
    this.opts.changed(entry.parent);
    const delays = this.opts.redrawRetryMs ?? [300, 1_000, 3_000];
    if (attempt >= delays.length) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!this.disposed && entry.undelivered && this.entries.get(key) === entry) this.redraw(key, entry, attempt + 1);
    }, delays[attempt]);
  }

  private revalidate(key: string, entry: Entry<P, C>): void {
    if (this.disposed) return;
    // One load at a time per row; a request during it asks for one more after it (it may have
    // started before whatever made the view ask again).
    if (entry.pending) {
      entry.again = true;
      return;
    }
    entry.pending = true;
    const parent = entry.parent;
    void this.opts
      .load(parent)
      .catch((error: unknown) => this.opts.failed(parent, error))
      .then((children) => {
        entry.pending = false;
        if (this.disposed || this.entries.get(key) !== entry) return;
        const signature = this.opts.signature(children);
        if (entry.children === undefined || signature !== entry.signature) {
          entry.children = children;
          entry.signature = signature;
          this.redraw(key, entry);
        }
        if (entry.again) {
          entry.again = false;
          this.revalidate(key, entry);
        }
      })
      // A view that threw while being told: nothing to redraw; the next request loads again.
      .catch(() => undefined);
  }
}

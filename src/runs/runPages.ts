// How much of the runs list is loaded: pages of ehgTelemetry.runs.pageSize, at most MAX_LISTED_RUNS.
// Load More adds a page and reads the list through its poller, so a Load More and a poll never
// overlap (the poller runs one read at a time and coalesces the rest). No `vscode` import: unit-tested.
import { listLimit, MAX_LISTED_RUNS } from '../data/backend';

export class RunPages {
  private pages = 1;

  constructor(private readonly pageSize: () => number) {}

  /** Rows a read asks for: every page loaded so far, at most MAX_LISTED_RUNS. */
  get limit(): number {
    return listLimit(this.pageSize(), this.pages);
  }

  /**
   * More runs exist than the list may hold: judged by what was asked for, not by the rows shown
   * (rows that could not be parsed are left out, and Load More would then ask for the same rows again).
   */
  atCap(hasMore: boolean): boolean {
    return hasMore && this.limit >= MAX_LISTED_RUNS;
  }

  /** One more page; false (nothing to add) at the cap. */
  addPage(hasMore: boolean): boolean {
    if (this.atCap(hasMore)) return false;
    this.pages = Math.min(this.pages + 1, Math.ceil(MAX_LISTED_RUNS / Math.max(1, this.pageSize())));
    return true;
  }

  /** Back to the first page (another connection or scope). */
  reset(): void {
    this.pages = 1;
  }
}

/** Load More: one more page, read by the list's poller (after a read in flight, never beside it). */
export function loadMore(
  pages: Pick<RunPages, 'addPage'>,
  hasMore: boolean,
  poller: { refreshNow(): Promise<void> },
): Promise<void> {
  return pages.addPage(hasMore) ? poller.refreshNow() : Promise.resolve();
}

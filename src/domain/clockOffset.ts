// The server's clock, as seen through the Date headers of its responses.
//
// A Date header has whole seconds (truncated) and is written before the response travels, so each
// sample `serverDate − local receive time` is at most the true offset, and up to a second or more
// below it (1 s of truncation, plus the time the response took to arrive). One sample alone makes the
// offset jump by a second from response to response, and a single slow response drags it further.
// The largest of the last few samples is the closest to the truth and never ahead of the server;
// keeping only the last few lets a real clock change (NTP, a new server) through within a few requests.

/** How many of the most recent samples the estimate looks at. */
export const CLOCK_SAMPLES = 8;

export class ClockOffsetEstimator {
  private readonly samples: number[] = [];

  /** A response's Date header (ms since the epoch) and the local time its headers arrived. */
  add(serverDateMs: number, receivedAtMs: number): void {
    if (!Number.isFinite(serverDateMs) || !Number.isFinite(receivedAtMs)) return;
    this.samples.push(serverDateMs - receivedAtMs);
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
  }

  /** Server clock minus local clock, in ms (0 before any sample). */
  get offsetMs(): number {
    return this.samples.length ? Math.max(...this.samples) : 0;
  }
}

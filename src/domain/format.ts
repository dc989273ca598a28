// Human-readable figures shared by the tree, the status bar and documents.

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return `${m}m ${String(s).padStart(2, '0')}s`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return `${h}h ${String(m).padStart(2, '0')}m`;
}

/** "5m ago" for a past instant; small future offsets (clock skew) read as "just now". */
export function formatAge(at: Date | null, now: Date): string {
  if (!at) return 'unknown time';
  const diff = now.getTime() - at.getTime();
  if (diff < -60_000) return `in ${formatSpan(-diff)}`;
  if (diff < 10_000) return 'just now';
  return `${formatSpan(diff)} ago`;
}

/** "in 40s" / "12s ago" for a scheduled instant relative to now. */
export function formatRelative(at: Date | null, now: Date): string {
  if (!at) return 'unknown';
  const diff = at.getTime() - now.getTime();
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${formatSpan(diff)}` : `${formatSpan(-diff)} ago`;
}

function formatSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '?×';
  return `${ratio >= 9.95 ? ratio.toFixed(0) : ratio.toFixed(1)}×`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// Human-readable figures shared by the tree, the status bar and documents.
import { t } from './l10n';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (Math.round(ms) < 1000) return t('{0} ms', Math.round(ms));
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return t('{0} s', (tenths / 10).toFixed(1));
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return t('{0}m {1}s', m, String(s).padStart(2, '0'));
  }
  const totalMinutes = Math.round(ms / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return t('{0}h {1}m', h, String(m).padStart(2, '0'));
}

/** "5m ago" for a past instant; small future offsets (clock skew) read as "just now". */
export function formatAge(at: Date | null, now: Date): string {
  if (!at) return t('unknown time');
  const diff = now.getTime() - at.getTime();
  if (diff < -60_000) return t('in {0}', formatSpan(-diff));
  if (diff < 10_000) return t('just now');
  return t('{0} ago', formatSpan(diff));
}

/** "in 40s" / "12s ago" for a scheduled instant relative to now. */
export function formatRelative(at: Date | null, now: Date): string {
  if (!at) return t('unknown');
  const diff = at.getTime() - now.getTime();
  if (Math.abs(diff) < 1000) return t('now');
  return diff > 0 ? t('in {0}', formatSpan(diff)) : t('{0} ago', formatSpan(-diff));
}

function formatSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return t('{0}s', s);
  const m = Math.floor(s / 60);
  if (m < 60) return t('{0}m', m);
  const h = Math.floor(m / 60);
  if (h < 48) return t('{0}h', h);
  return t('{0}d', Math.floor(h / 24));
}

export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '?×';
  return `${ratio >= 9.95 ? ratio.toFixed(0) : ratio.toFixed(1)}×`;
}

/**
 * "1 finding" / "3 findings" as two whole messages, so that a language with other plural rules can
 * word both. (`plural` with English words is kept for log lines, which are not translated.)
 */
export function findingsText(n: number): string {
  return n === 1 ? t('1 finding') : t('{0} findings', n);
}

/** "1 trace" / "12 traces". */
export function tracesText(n: number): string {
  return n === 1 ? t('1 trace') : t('{0} traces', n);
}

/** English only, for log lines (not shown as UI text). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

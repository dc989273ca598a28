// The analyzer's `errors` (its result's list of strings), kept on the run row as output_ref.errors and
// read back for the view. Pure: no `vscode`, no I/O. Everything here is untrusted text (the analyzer is
// workspace code; the row is database text).
//
// The format is the analyzer's (EHG_Engineer lib/telemetry/bottleneck-analyzer.js):
//   `db_connection_error: <message>`                    the trace read failed (returns early)
//   `create_failed:<dimension_key>: <message>`          one improvement item was not inserted; <message>
//                                                       is PostgREST's error message (PostgreSQL's text)
// This is the one place that parses it. In production every item insert is refused (the lineage
// trigger and the CHECKs of protocol_improvement_queue), so `create_failed` is the common case.
import { cleanText, isRecord, parseNumber } from './text';

/** At most this many entries are stored on the row (the rest are counted in errors_total). */
export const MAX_STORED_ERRORS = 50;
/** Each stored entry is cut to this many characters. */
export const MAX_ERROR_ENTRY_CHARS = 500;
/** Entries read back from a row, whatever it holds. */
const MAX_READ_ERRORS = 200;

/** An entry as text (unbounded; callers bound it). Null for an empty entry. */
export function valueText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return null;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return '[an error value that cannot be written as text]';
  }
}

// ---- Reading them back --------------------------------------------------------------------------

/** Why the database refused an item, from PostgreSQL's message (the only structure the analyzer keeps). */
export type Refusal =
  | { kind: 'check'; constraint: string }
  | { kind: 'not-null'; column: string }
  | { kind: 'unique'; constraint: string }
  | { kind: 'foreign-key'; constraint: string }
  | { kind: 'row-level-security' }
  | { kind: 'permission' }
  /** A trigger's RAISE or anything else the database said (e.g. `lineage_required: …`). */
  | { kind: 'message'; text: string };

export type AnalyzerError =
  | { kind: 'item-refused'; dimensionKey: string | null; refusal: Refusal }
  /** The insert did not reach the database (network, timeout): not a refusal. */
  | { kind: 'item-unreachable'; dimensionKey: string | null; message: string }
  | { kind: 'trace-read'; message: string }
  | { kind: 'other'; code: string | null; message: string };

const ITEM = /^create_failed:(.*?): ([\s\S]*)$/;
const CODED = /^([A-Za-z][A-Za-z0-9_]{0,60}):\s?([\s\S]*)$/;
const UNREACHABLE =
  /\b(fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|network error|AbortError|aborted|timed out)\b/i;

/** One entry of the analyzer's errors, classified. */
export function parseAnalyzerError(entry: string): AnalyzerError {
  const item = ITEM.exec(entry);
  if (item || entry.startsWith('create_failed:')) {
    const key = cleanText(item ? item[1] : entry.slice('create_failed:'.length), 200) || null;
    const message = item ? item[2] : '';
    if (UNREACHABLE.test(message))
      return { kind: 'item-unreachable', dimensionKey: key, message: cleanText(message, 200) ?? '' };
    return { kind: 'item-refused', dimensionKey: key, refusal: parseRefusal(message) };
  }
  const coded = CODED.exec(entry);
  if (coded?.[1] === 'db_connection_error') return { kind: 'trace-read', message: cleanText(coded[2], 300) ?? '' };
  return {
    kind: 'other',
    code: coded ? coded[1] : null,
    message: cleanText(coded ? coded[2] : entry, 300) ?? '',
  };
}

/** PostgreSQL's wording of a refused row (its messages are stable; names are quoted). */
export function parseRefusal(message: string): Refusal {
  let m = /violates check constraint "([^"]{1,120})"/.exec(message);
  if (m) return { kind: 'check', constraint: m[1] };
  m = /null value in column "([^"]{1,120})"/.exec(message);
  if (m) return { kind: 'not-null', column: m[1] };
  m = /violates unique constraint "([^"]{1,120})"/.exec(message);
  if (m) return { kind: 'unique', constraint: m[1] };
  m = /violates foreign key constraint "([^"]{1,120})"/.exec(message);
  if (m) return { kind: 'foreign-key', constraint: m[1] };
  if (/violates row-level security policy/.test(message)) return { kind: 'row-level-security' };
  if (/permission denied/i.test(message)) return { kind: 'permission' };
  return { kind: 'message', text: cleanText(message, 160) ?? '' };
}

/** What the view says, grouped: one group per kind (and per refusal reason). */
export type AnalyzerErrorGroup =
  | { kind: 'items-refused'; count: number; refusal: Refusal }
  | { kind: 'items-unreachable'; count: number; message: string }
  | { kind: 'trace-read'; message: string }
  | { kind: 'other'; count: number; code: string | null; message: string }
  /** Errors of further kinds or reasons, beyond MAX_GROUPS of each. */
  | { kind: 'more'; count: number }
  /** Errors the analyzer reported that were not stored (over MAX_STORED_ERRORS). */
  | { kind: 'not-stored'; count: number };

/** At most this many groups of each kind are worded; the rest are counted in one 'more' group. */
const MAX_GROUPS = 3;

function refusalKey(r: Refusal): string {
  switch (r.kind) {
    case 'check':
    case 'unique':
    case 'foreign-key':
      return `${r.kind}:${r.constraint}`;
    case 'not-null':
      return `${r.kind}:${r.column}`;
    case 'message':
      return `${r.kind}:${r.text}`;
    default:
      return r.kind;
  }
}

/** The stored errors of an output_ref, read back and grouped. Empty when there are none. */
export function analyzerErrorsOf(outputRef: unknown): { entries: string[]; groups: AnalyzerErrorGroup[] } {
  if (!isRecord(outputRef)) return { entries: [], groups: [] };
  const raw = outputRef.errors;
  const list: unknown[] = Array.isArray(raw) ? raw.slice(0, MAX_READ_ERRORS) : raw === undefined ? [] : [raw];
  const entries = list
    .map((e) => cleanText(valueText(e)?.slice(0, MAX_ERROR_ENTRY_CHARS * 4), MAX_ERROR_ENTRY_CHARS))
    .filter((e): e is string => e !== null && e !== '');
  const groups: AnalyzerErrorGroup[] = [];
  const refused = new Map<string, { kind: 'items-refused'; count: number; refusal: Refusal }>();
  const unreachable = new Map<string, { kind: 'items-unreachable'; count: number; message: string }>();
  const other = new Map<string, { kind: 'other'; count: number; code: string | null; message: string }>();
  let traceRead: { kind: 'trace-read'; message: string } | null = null;
  for (const entry of entries) {
    const e = parseAnalyzerError(entry);
    if (e.kind === 'item-refused')
      bump(refused, refusalKey(e.refusal), () => ({ kind: 'items-refused', count: 0, refusal: e.refusal }));
    else if (e.kind === 'item-unreachable')
      bump(unreachable, e.message, () => ({ kind: 'items-unreachable', count: 0, message: e.message }));
    else if (e.kind === 'trace-read') traceRead ??= { kind: 'trace-read', message: e.message };
    else bump(other, `${e.code}:${e.message}`, () => ({ kind: 'other', count: 0, code: e.code, message: e.message }));
  }
  if (traceRead) groups.push(traceRead);
  let more = 0;
  for (const kind of [[...refused.values()], [...unreachable.values()], [...other.values()]]) {
    const sorted = [...kind].sort((a, b) => b.count - a.count);
    groups.push(...sorted.slice(0, MAX_GROUPS));
    more += sorted.slice(MAX_GROUPS).reduce((n, g) => n + g.count, 0);
  }
  if (more > 0) groups.push({ kind: 'more', count: more });
  const readable = Array.isArray(raw) ? raw.length : entries.length;
  const total = Math.max(parseNumber(outputRef.errors_total) ?? 0, readable);
  if (total > entries.length) groups.push({ kind: 'not-stored', count: total - entries.length });
  return { entries, groups };
}

function bump<G extends { count: number }>(map: Map<string, G>, key: string, make: () => G): void {
  let g = map.get(key);
  if (!g) {
    g = make();
    map.set(key, g);
  }
  g.count++;
}

// Shapes of analyzer results (output_ref) for seeded demo runs, and a small deterministic PRNG.
// Seeded rows only: runs the extension executes get their output from the workspace's analyzer.
/** Small deterministic PRNG (mulberry32). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A bottleneck exactly as the analyzer (EHG_Engineer lib/telemetry/bottleneck-analyzer.js, step 4) writes it. */
export interface Bottleneck {
  dimension_type: string;
  dimension_key: string;
  dimension_name: string;
  baseline_p50_ms: number;
  baseline_ms: number;
  observed_p50_ms: number;
  p50_ms: number;
  ratio: number;
  sample_count: number;
  exceedance_count: number;
  first_seen_at: null;
  last_seen_at: null;
  evidence_trace_ids: string[];
  improvement_id: string | null;
}

/** output_ref as the extension writes it: the hook's four fields, plus the analyzer's errors when it had any. */
export interface AnalysisOutput {
  bottlenecks: Bottleneck[];
  traces_scanned: number;
  dimensions_evaluated: number;
  items_created: number;
  errors?: string[];
}

/**
 * The analyzer's three dimensions (DIMENSION_COLUMNS: phase ← phase, gate ← gate_name, subagent ←
 * subagent_name) and the keys generateTraces (datagen.ts) writes. Nothing else can be a bottleneck.
 */
export const DIMENSIONS: Record<'phase' | 'gate' | 'subagent', readonly string[]> = {
  phase: ['LEAD', 'PLAN', 'EXEC', 'LEAD_FINAL'],
  gate: ['GATE_PRD_REQUIRED', 'GATE_DESIGN_REVIEW', 'GATE_SECURITY_SCAN', 'GATE_RETROSPECTIVE'],
  subagent: ['DESIGN', 'DATABASE', 'TESTING', 'SECURITY'],
};
export type DimensionType = keyof typeof DIMENSIONS;

/**
 * What PostgREST answers when the analyzer inserts an improvement item into upstream's
 * protocol_improvement_queue (devkit/stack/sql/007_analyzer_tables.sql: the BEFORE INSERT lineage trigger
 * refuses it before the CHECKs would). test/integration/analysis-execution.test.ts checks the live
 * stack gives the analyzer exactly this.
 */
export const ITEM_REFUSAL = 'lineage_required: source_type and source_id must both be set or both be null';

/** The analyzer's threshold_ratio default (telemetry_thresholds global row): nothing below it is reported. */
const THRESHOLD_RATIO = 3;
/** …and min_samples: fewer exceeding lookback samples is no bottleneck. */
const MIN_SAMPLES = 3;

function hex(rng: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

export function uuidFrom(rng: () => number): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Sorted worst first: by ratio, then observed_p50_ms (both descending), as the analyzer sorts. */
export function sortBottlenecks(b: Bottleneck[]): Bottleneck[] {
  return [...b].sort((x, y) => y.ratio - x.ratio || y.observed_p50_ms - x.observed_p50_ms);
}

/** One bottleneck as the analyzer computes it from a baseline p50 and an observed p50 (step 4). */
export function makeBottleneck(
  rng: () => number,
  type: DimensionType,
  key: string,
  baselineP50: number,
  observedP50: number,
): Bottleneck {
  // The lookback samples: at least min_samples exceed baseline × threshold, and since the observed p50
  // is above that, at least half of them do.
  const samples = MIN_SAMPLES + Math.floor(rng() * 60);
  const half = Math.ceil(samples / 2);
  const exceed = Math.min(samples, Math.max(MIN_SAMPLES, half + Math.floor(rng() * (samples - half + 1))));
  return {
    dimension_type: type,
    dimension_key: key,
    dimension_name: key,
    baseline_p50_ms: baselineP50,
    baseline_ms: baselineP50,
    observed_p50_ms: observedP50,
    p50_ms: observedP50,
    ratio: Math.round((observedP50 / baselineP50) * 100) / 100,
    sample_count: samples,
    exceedance_count: exceed,
    first_seen_at: null,
    last_seen_at: null,
    // The first five lookback trace ids the analyzer read (fewer when it saw fewer).
    evidence_trace_ids: Array.from({ length: Math.min(5, samples) }, () => uuidFrom(rng)),
    improvement_id: null,
  };
}

/**
 * An analyzer result with `count` bottlenecks, each a different dimension key (the analyzer groups by
 * `type:key`, so a key is reported once per run); `forceType` makes the worst one of that type.
 * With auto-create, the analyzer tries an item for every bottleneck and production's table refuses
 * each one (ITEM_REFUSAL): improvement_id stays null, items_created 0, one `create_failed` error each
 * (a refused item does not count against max_per_run, so none is skipped by the rate limit).
 * `keepErrors: false` is the row as the CLI hook writes it (it drops `errors`).
 */
export function makeAnalysis(
  rng: () => number,
  count: number,
  forceType?: DimensionType,
  keepErrors = true,
): AnalysisOutput {
  const pairs = (Object.keys(DIMENSIONS) as DimensionType[]).flatMap((type) =>
    DIMENSIONS[type].map((key) => [type, key] as const),
  );
  // Deterministic shuffle, then one key of the forced type first.
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const forced = forceType ? pairs.findIndex(([type]) => type === forceType) : -1;
  if (forced > 0) [pairs[0], pairs[forced]] = [pairs[forced], pairs[0]];
  const list = pairs.slice(0, Math.min(count, pairs.length)).map(([type, key], i) => {
    const baseline = 1000 * (2 + Math.floor(rng() * 28));
    // At or above the threshold; the forced worst one above all others.
    const factor = i === 0 && forceType ? 6 + rng() * 2.5 : THRESHOLD_RATIO + rng() * 2.9;
    return makeBottleneck(rng, type, key, baseline, Math.round(baseline * factor));
  });
  const bottlenecks = sortBottlenecks(list);
  return {
    bottlenecks,
    // Paged reads stop at 10,000 (fetchAllPaginated maxRows); every key of the traces is evaluated.
    traces_scanned: 500 + Math.floor(rng() * 9500),
    dimensions_evaluated: pairs.length,
    items_created: 0,
    ...(keepErrors && bottlenecks.length > 0
      ? { errors: bottlenecks.map((b) => `create_failed:${b.dimension_key}: ${ITEM_REFUSAL}`) }
      : {}),
  };
}

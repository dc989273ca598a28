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

export interface Bottleneck {
  dimension_type: string;
  dimension_key: string;
  observed_p50_ms: number;
  baseline_p50_ms: number;
  ratio: number;
  sample_count: number;
  exceedance_count: number;
  evidence_trace_ids: string[];
  improvement_id: string | null;
}

export interface AnalysisOutput {
  bottlenecks: Bottleneck[];
  traces_scanned: number;
  dimensions_evaluated: number;
  items_created: number;
}

export const DIMENSIONS: Record<string, string[]> = {
  phase: ['LEAD', 'PLAN', 'EXEC', 'LEAD_FINAL'],
  gate: ['GATE_PRD_REQUIRED', 'GATE_DESIGN_REVIEW', 'GATE_SECURITY_SCAN', 'GATE_RETROSPECTIVE'],
  subagent: ['DESIGN', 'DATABASE', 'TESTING', 'SECURITY', 'PERFORMANCE'],
  sd_type: ['feature', 'infrastructure', 'bugfix', 'documentation'],
};

function hex(rng: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

function uuidFrom(rng: () => number): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Sorted worst first: by ratio, then observed_p50_ms (both descending). */
export function sortBottlenecks(b: Bottleneck[]): Bottleneck[] {
  return [...b].sort((x, y) => y.ratio - x.ratio || y.observed_p50_ms - x.observed_p50_ms);
}

/** An analyzer result with `count` bottlenecks; `forceType` makes the worst one of that dimension_type. */
export function makeAnalysis(rng: () => number, count: number, forceType?: string): AnalysisOutput {
  const types = Object.keys(DIMENSIONS);
  const list: Bottleneck[] = [];
  for (let i = 0; i < count; i++) {
    const type = i === 0 && forceType ? forceType : types[Math.floor(rng() * types.length)];
    const keys = DIMENSIONS[type] ?? ['UNKNOWN'];
    const baseline = 1000 * (2 + Math.floor(rng() * 28));
    // the forced worst one gets the highest ratio
    const ratio = i === 0 && forceType ? 6 + Math.round(rng() * 20) / 10 : 1.5 + Math.round(rng() * 40) / 10;
    const samples = 5 + Math.floor(rng() * 195);
    const traces = Array.from({ length: Math.min(5, 1 + Math.floor(rng() * 7)) }, () => uuidFrom(rng));
    list.push({
      dimension_type: type,
      dimension_key: keys[Math.floor(rng() * keys.length)],
      observed_p50_ms: Math.round(baseline * ratio),
      baseline_p50_ms: baseline,
      ratio,
      sample_count: samples,
      exceedance_count: Math.max(1, Math.floor(samples * (0.2 + rng() * 0.6))),
      evidence_trace_ids: traces,
      improvement_id: rng() < 0.4 ? uuidFrom(rng) : null,
    });
  }
  const bottlenecks = sortBottlenecks(list);
  return {
    bottlenecks,
    traces_scanned: 40 + Math.floor(rng() * 4000),
    dimensions_evaluated: 10 + Math.floor(rng() * 30),
    items_created: bottlenecks.filter((b) => b.improvement_id !== null).length,
  };
}

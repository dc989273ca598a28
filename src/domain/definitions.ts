// Go to Definition for a bottleneck: where a gate or a sub-agent is declared in an EHG_Engineer checkout,
// found by reading files (never by running or requiring workspace code). Pure: the files come through a
// small reader (DefinitionIO) that src/platform/definitionSearch.ts backs with vscode.workspace.fs and
// findFiles, and the unit tests with memory or the fixture workspace.
//
// Upstream (rickfelix/EHG_Engineer) declares a gate under scripts/modules/handoff/: in
// executors/<handoff>/gates/*.js, executors/<handoff>/gates.js or the shared gates/*.js, either as a
// literal in the gate object (`name: 'GATE_SD_QUALITY',`) or through a constant
// (`const GATE_NAME = 'CONSUMER_IMPACT_ADVISORY';` … `name: GATE_NAME,`). Later lines of the same file
// repeat the name in result objects, so only a file's first match counts. The same name in several
// executors is real (PREREQUISITE_HANDOFF_CHECK): the evidence spans' workflow_execution_id
// (`${handoffType}-${sdId}-${Date.now()}`, e.g. PLAN-TO-EXEC-SD-X-1712…) says which one ran.
// A sub-agent code (DESIGN, ORCHESTRATOR_CHILD) is the agent file .claude/agents/<kebab>-agent.md (built,
// gitignored upstream) or its committed source .partial, or an archived one; lib/sub-agents/<code>.js
// is its implementation.
import { cleanText } from './text';

/** The dimension types Go to Definition applies to. */
export const DEFINITION_TYPES: readonly string[] = ['gate', 'subagent'];

/** Whether Go to Definition applies to this dimension type (gate, subagent; not phase or anything else). */
export function hasDefinition(dimensionType: string): boolean {
  return DEFINITION_TYPES.includes(dimensionType);
}

export interface DefinitionBounds {
  /** Files read at most, over the whole search. */
  maxFiles: number;
  /** Files bigger than this are skipped (and the search says it was truncated). */
  maxBytes: number;
  /** The whole search, from the first listing to the last file read. */
  timeMs: number;
  /** Files read at once. */
  concurrency: number;
}

/**
 * Upstream's scripts/ holds ~4,900 source files (2026-08): reading all of them from a local disk takes
 * ~1.5 s, so the file bound lets the fallback finish there and the time bound is what stops a slow
 * (remote) folder.
 */
export const DEFAULT_DEFINITION_BOUNDS: DefinitionBounds = {
  maxFiles: 10_000,
  maxBytes: 1_000_000,
  timeMs: 10_000,
  concurrency: 8,
};

/** A key longer than this is not a gate name or an agent code: nothing is searched for it. */
export const MAX_KEY_LENGTH = 200;

/** How a declaration was found; the order within a search (lower first) is part of the ranking. */
export type DeclarationShape =
  | 'literal' //        name: 'KEY'
  | 'constant' //       const NAME = 'KEY'
  | 'agent' //          .claude/agents/<kebab>-agent.md
  | 'agent-source' //   .claude/agents/<kebab>-agent.partial
  | 'agent-archived' // .claude/agents/_archived/…
  | 'implementation'; // lib/sub-agents/<code>.js

const SHAPE_ORDER: Record<DeclarationShape, number> = {
  literal: 0,
  constant: 1,
  agent: 0,
  'agent-source': 1,
  'agent-archived': 2,
  implementation: 3,
};

export interface DefinitionHit {
  /** Relative to the workspace folder, with `/`. */
  relativePath: string;
  /** 0-based line of the declaration. */
  line: number;
  /** The declaration line, trimmed, single-line and bounded. */
  preview: string;
  shape: DeclarationShape;
  /** Found by the wider scripts/** search, after the gate folders held no declaration. */
  fallback: boolean;
}

/** `s` as a literal inside a regular expression. */
export function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** The two declaration shapes for `key`, each tested against one line (no flags: `^` is the line start, `$` its end). */
export function declarationPatterns(key: string): { literal: RegExp; constant: RegExp } {
  const k = escapeRegExp(key);
  // The string ends the value (`'G' + suffix` declares something else): a comma, semicolon, closing
  // bracket, comment or the end of the line follows.
  const end = '(?=\\s*(?:[,;)}\\]]|//|/\\*|$))';
  return {
    literal: new RegExp(`^\\s*name:\\s*(['"\`])${k}\\1${end}`),
    constant: new RegExp(`^\\s*(?:export\\s+)?const\\s+[A-Z0-9_]+\\s*=\\s*(['"\`])${k}\\1${end}`),
  };
}

/** A preview of a source line: single line, no control characters, at most 160 characters. */
export function previewLine(line: string): string {
  return cleanText(line, 160) ?? '';
}

/** The lines of a text as an editor numbers them (CRLF, LF and a lone CR each end a line). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * The first line of `text` that declares gate `key` in either shape (later repeats are result objects),
 * or null. The key must be followed by the same quote, so `GATE_A` never matches `GATE_AB`.
 */
export function findGateDeclaration(
  text: string,
  key: string,
): { line: number; preview: string; shape: 'literal' | 'constant' } | null {
  if (!key || !text.includes(key)) return null;
  const { literal, constant } = declarationPatterns(key);
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.includes(key)) continue;
    if (literal.test(l)) return { line: i, preview: previewLine(l), shape: 'literal' };
    if (constant.test(l)) return { line: i, preview: previewLine(l), shape: 'constant' };
  }
  return null;
}

/** Where an agent file names itself: the `name:` line of its front matter, else its first non-blank line (else 0). */
export function agentNameLine(text: string): { line: number; preview: string } {
  const lines = splitLines(text.slice(0, 20_000));
  if (lines[0]?.trim() === '---') {
    for (let i = 1; i < Math.min(lines.length, 60); i++) {
      if (lines[i].trim() === '---') break;
      if (/^name\s*:/.test(lines[i])) return { line: i, preview: previewLine(lines[i]) };
    }
  }
  const first = Math.max(
    0,
    lines.findIndex((l) => l.trim() !== ''),
  );
  return { line: first, preview: previewLine(lines[first] ?? '') };
}

const SKIPPED_SEGMENTS = new Set(['node_modules', '__tests__']);
const SOURCE_FILE = /\.(?:js|mjs|cjs|ts)$/;

/** A source file the search may read: js/mjs/cjs/ts, not in node_modules or __tests__, not a *.test.* / *.spec.* file. */
export function isSearchableSource(relativePath: string): boolean {
  const parts = relativePath.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (!SOURCE_FILE.test(base) || /\.d\.ts$/.test(base) || /\.(?:test|spec)\./.test(base)) return false;
  return !parts.some((p) => SKIPPED_SEGMENTS.has(p) || p === '' || p === '.' || p === '..');
}

/** In upstream's gate places (GATE_GLOBS): a `gates` folder, or a `gates.<ext>` file, under scripts/modules/handoff/. */
export function isGateFile(relativePath: string): boolean {
  if (!relativePath.startsWith('scripts/modules/handoff/') || !isSearchableSource(relativePath)) return false;
  const parts = relativePath.split('/');
  const dirs = parts.slice(3, -1);
  return dirs.includes('gates') || /^gates\.(?:js|mjs|cjs|ts)$/.test(parts[parts.length - 1]);
}

/** In the fallback's place: any searchable source under scripts/. */
export function isScriptFile(relativePath: string): boolean {
  return relativePath.startsWith('scripts/') && isSearchableSource(relativePath);
}

/** The globs (relative to the folder) a listing uses for each search scope, and what it excludes. */
export const GATE_GLOBS: readonly string[] = [
  'scripts/modules/handoff/**/gates/**/*.{js,mjs,cjs,ts}',
  'scripts/modules/handoff/**/gates.{js,mjs,cjs,ts}',
];
export const FALLBACK_GLOBS: readonly string[] = ['scripts/**/*.{js,mjs,cjs,ts}'];
export const EXCLUDE_GLOB = '{**/node_modules/**,**/__tests__/**,**/*.test.*,**/*.spec.*}';

/**
 * The agent file's base name for a sub-agent key, as upstream's generator names it
 * (`code.toLowerCase().replace(/_/g, '-')`): DESIGN → design, ORCHESTRATOR_CHILD → orchestrator-child,
 * `testing-agent` (any case) → testing. Null for anything that is not a plain code (a path, spaces,
 * dots…), so no key can point outside .claude/agents/.
 */
export function agentBaseName(key: string): string | null {
  let k = key.trim();
  if (k.length === 0 || k.length > MAX_KEY_LENGTH) return null;
  if (/[-_]agent$/i.test(k) && k.length > 6) k = k.slice(0, -6);
  if (!/^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$/.test(k)) return null;
  return k.toLowerCase().replace(/_/g, '-');
}

/** The files that may define sub-agent `key`, best first (relative paths), or [] for a key that is no code. */
export function subagentPaths(key: string): { relativePath: string; shape: DeclarationShape }[] {
  const base = agentBaseName(key);
  if (!base) return [];
  const file = `${base}-agent`;
  const snake = base.replace(/-/g, '_');
  return [
    { relativePath: `.claude/agents/${file}.md`, shape: 'agent' as const },
    { relativePath: `.claude/agents/${file}.partial`, shape: 'agent-source' as const },
    { relativePath: `.claude/agents/_archived/${file}.md`, shape: 'agent-archived' as const },
    { relativePath: `.claude/agents/_archived/${file}.partial`, shape: 'agent-archived' as const },
    ...[...new Set([snake, base])].map((n) => ({
      relativePath: `lib/sub-agents/${n}.js`,
      shape: 'implementation' as const,
    })),
  ];
}

/** Upstream's handoff types, as the executors/ folders spell them. */
export const KNOWN_HANDOFFS: readonly string[] = [
  'exec-to-plan',
  'lead-final-approval',
  'lead-to-plan',
  'plan-to-exec',
  'plan-to-lead',
];

/**
 * The handoff folder a workflow_execution_id belongs to (`${handoffType}-${sdId}-${ms}`):
 * `PLAN-TO-EXEC-SD-X-001-1712…` → `plan-to-exec`. The longest of `folders` whose upper case prefixes
 * the id (followed by `-`); else the part before `-SD-`; else null.
 */
export function handoffDirectory(
  workflowExecutionId: string,
  folders: readonly string[] = KNOWN_HANDOFFS,
): string | null {
  const id = workflowExecutionId.trim().toUpperCase();
  let best: string | null = null;
  for (const f of folders) {
    if (f && id.startsWith(`${f.toUpperCase()}-`) && (!best || f.length > best.length)) best = f.toLowerCase();
  }
  if (best) return best;
  const m = /^([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*?)-SD-/.exec(id);
  return m ? m[1].toLowerCase() : null;
}

/** The executor folder a path lies in (`…/executors/plan-to-exec/gates/x.js` → `plan-to-exec`), or null. */
export function executorDirectory(relativePath: string): string | null {
  const parts = relativePath.split('/');
  const i = parts.indexOf('executors');
  return i >= 0 && i < parts.length - 2 ? parts[i + 1].toLowerCase() : null;
}

/**
 * Best first: hits in the executor folder of the handoff most evidence spans ran in; then the gate
 * folders before the scripts/** fallback; then by shape (literal before constant; agent file, its
 * source, archived, implementation); then by path.
 */
export function rankHits(
  hits: readonly DefinitionHit[],
  workflowExecutionIds: readonly string[] = [],
): DefinitionHit[] {
  const folders = [...new Set([...KNOWN_HANDOFFS, ...hits.map((h) => executorDirectory(h.relativePath) ?? '')])];
  const ran = new Map<string, number>();
  for (const id of workflowExecutionIds) {
    const h = handoffDirectory(id, folders);
    if (h) ran.set(h, (ran.get(h) ?? 0) + 1);
  }
  const score = (h: DefinitionHit) => ran.get(executorDirectory(h.relativePath) ?? '') ?? 0;
  return [...hits].sort(
    (a, b) =>
      score(b) - score(a) ||
      Number(a.fallback) - Number(b.fallback) ||
      SHAPE_ORDER[a.shape] - SHAPE_ORDER[b.shape] ||
      (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0),
  );
}

/** The files a search reads, the clock and the cancellation: vscode.workspace in the editor, memory or node:fs in tests. */
export interface DefinitionIO {
  /** Relative paths (with `/`) of files the scope's globs match (GATE_GLOBS or FALLBACK_GLOBS, minus EXCLUDE_GLOB), at most `max`. */
  listFiles(scope: 'gates' | 'scripts', max: number): Promise<string[]>;
  /** The size of the plain file there, or null when there is none. Throws when it cannot tell. */
  stat(relativePath: string): Promise<{ size: number } | null>;
  read(relativePath: string): Promise<Uint8Array>;
  now(): number;
  isCancelled(): boolean;
}

export interface DefinitionSearch {
  /** Ranked best first (rankHits). */
  hits: DefinitionHit[];
  /** Files read. */
  filesSearched: number;
  /** The search did not see everything: a bound (files, bytes, time) was hit, a file could not be read, or it was cancelled. */
  truncated: boolean;
  cancelled: boolean;
  /** Files listed or named but not readable (stat or read failed). */
  unreadable: number;
}

/** The running search's counters and its bounds. */
class SearchBudget {
  filesSearched = 0;
  truncated = false;
  cancelled = false;
  unreadable = 0;
  private readonly deadline: number;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly io: DefinitionIO,
    readonly bounds: DefinitionBounds,
  ) {
    this.deadline = io.now() + bounds.timeMs;
  }

  /** True (and noted) once cancelled or out of time or files. */
  stopped(): boolean {
    if (this.io.isCancelled()) this.cancelled = this.truncated = true;
    else if (this.io.now() > this.deadline || this.filesSearched >= this.bounds.maxFiles) this.truncated = true;
    else return false;
    return true;
  }

  /** The file's text, or null when it is missing, too big (noted) or unreadable (counted). Check stopped() before. */
  async read(relativePath: string): Promise<string | null> {
    try {
      const st = await this.io.stat(relativePath);
      if (!st) return null;
      if (st.size > this.bounds.maxBytes) {
        this.truncated = true;
        return null;
      }
      const bytes = await this.io.read(relativePath);
      this.filesSearched++;
      if (bytes.byteLength > this.bounds.maxBytes) {
        this.truncated = true;
        return null;
      }
      return this.decoder.decode(bytes);
    } catch {
      this.unreadable++;
      this.truncated = true;
      return null;
    }
  }
}

/** Reads one scope's files in path order; a file counts once even when both scopes list it. */
async function scanScope(
  key: string,
  scope: 'gates' | 'scripts',
  budget: SearchBudget,
  io: DefinitionIO,
  seen: Set<string>,
): Promise<DefinitionHit[]> {
  const hits: DefinitionHit[] = [];
  const room = budget.bounds.maxFiles - budget.filesSearched;
  if (budget.stopped()) return hits;
  const listed = await io.listFiles(scope, room + 1);
  if (listed.length > room) budget.truncated = true;
  const accept = scope === 'gates' ? isGateFile : isScriptFile;
  const files = [...new Set(listed)].filter((f) => accept(f) && !seen.has(f)).sort();
  // A few reads at a time (a remote folder answers each after a round trip); bounds checked between batches.
  for (let i = 0; i < files.length;) {
    if (budget.stopped()) break;
    const left = budget.bounds.maxFiles - budget.filesSearched;
    const batch = files.slice(i, i + Math.max(1, Math.min(budget.bounds.concurrency || 1, left)));
    i += batch.length;
    for (const f of batch) seen.add(f);
    const texts = await Promise.all(batch.map((f) => budget.read(f)));
    batch.forEach((f, j) => {
      const text = texts[j];
      const d = text === null ? null : findGateDeclaration(text, key);
      if (d) hits.push({ relativePath: f, ...d, fallback: scope === 'scripts' });
    });
  }
  return hits;
}

async function searchGate(key: string, budget: SearchBudget, io: DefinitionIO): Promise<DefinitionHit[]> {
  if (!key || key.length > MAX_KEY_LENGTH || /[\r\n]/.test(key)) return [];
  const seen = new Set<string>();
  const hits = await scanScope(key, 'gates', budget, io, seen);
  // Declared somewhere else under scripts/ (a gate defined inline in an executor, say): the wider search.
  if (hits.length > 0 || budget.cancelled || budget.stopped()) return hits;
  return scanScope(key, 'scripts', budget, io, seen);
}

async function searchSubagent(key: string, budget: SearchBudget): Promise<DefinitionHit[]> {
  const hits: DefinitionHit[] = [];
  for (const { relativePath, shape } of subagentPaths(key)) {
    if (budget.stopped()) break;
    const text = await budget.read(relativePath);
    if (text !== null) hits.push({ relativePath, ...agentNameLine(text), shape, fallback: false });
  }
  return hits;
}

/**
 * Where gate or sub-agent `key` is declared, ranked (rankHits with the evidence spans' execution ids).
 * Bounded (files, bytes per file, time) and cancellable between files; reads only. Rejects only when a
 * listing fails (io.listFiles); an unreadable file is counted and the search goes on.
 */
export async function searchDefinitions(
  dimensionType: string,
  key: string,
  io: DefinitionIO,
  options: { workflowExecutionIds?: readonly string[]; bounds?: DefinitionBounds } = {},
): Promise<DefinitionSearch> {
  const budget = new SearchBudget(io, options.bounds ?? DEFAULT_DEFINITION_BOUNDS);
  let hits: DefinitionHit[] = [];
  if (dimensionType === 'gate') hits = await searchGate(key, budget, io);
  else if (dimensionType === 'subagent') hits = await searchSubagent(key, budget);
  const { filesSearched, truncated, cancelled, unreadable } = budget;
  return { hits: rankHits(hits, options.workflowExecutionIds), filesSearched, truncated, cancelled, unreadable };
}

// The "Bottleneck Trends" webview (bundled as dist/trends.js, loaded only when the panel opens).
// Everything from the database is put in the page as text nodes or attribute values, never as
// markup; the chart is hand-drawn SVG whose colours come from VS Code's theme variables (classes
// in the panel's nonce'd stylesheet). The same data is in tables, for screen readers and for reading.
import { formatDuration, formatRatio } from '../domain/format';
import type { RunBars, TrendsData, TrendSeries } from '../domain/trends';

export interface RenderMessage {
  type: 'render';
  data: TrendsData;
  strings: Record<string, string>;
  selectedRunId?: string;
}
interface VsCodeApi {
  postMessage(msg: unknown): void;
  setState(s: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = 8;
const vscode = acquireVsCodeApi();
let strings: Record<string, string> = {};

function t(key: string, ...args: Array<string | number>): string {
  const s = strings[key] ?? key;
  return s.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function svg(tag: string, attrs: Record<string, string | number> = {}): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function title(text: string): SVGElement {
  const e = svg('title');
  e.textContent = text;
  return e;
}

function shortDate(iso: string | null): string {
  if (!iso) return '?';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '?' : `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 16)}`;
}

function name(s: { dimensionType: string; dimensionKey: string }): string {
  return `${s.dimensionType}:${s.dimensionKey}`;
}

/** A round upper bound for the y axis. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const steps = [1, 2, 2.5, 5, 10];
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const s of steps) if (s * mag >= v) return s * mag;
  return 10 * mag;
}

function trendChart(data: TrendsData): Element {
  const W = 720,
    H = 280,
    L = 48,
    R = 40,
    T = 16,
    B = 40;
  const n = data.runs.length;
  const max = niceMax(
    Math.max(1, ...data.series.flatMap((s) => s.ratios.filter((r): r is number => r !== null))) * 1.05,
  );
  const x = (i: number) => (n <= 1 ? L + (W - L - R) / 2 : L + (i * (W - L - R)) / (n - 1));
  const y = (r: number) => T + (H - T - B) * (1 - r / max);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': 'trend-title trend-desc',
    class: 'chart',
  });
  const desc = svg('desc', { id: 'trend-desc' });
  desc.textContent = t('chartDescription', data.series.length, n);
  root.append(desc);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    const label = svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' });
    label.textContent = formatRatio(v);
    root.append(label);
  }
  if (max >= 1) root.append(svg('line', { x1: L, x2: W - R, y1: y(1), y2: y(1), class: 'baseline' }));
  data.runs.forEach((run, i) => {
    if (n > 8 && i % Math.ceil(n / 8) !== 0 && i !== n - 1) return;
    const label = svg('text', { x: x(i), y: H - B + 16, 'text-anchor': 'middle', class: 'axis' });
    label.textContent = shortDate(run.finishedAt);
    root.append(label);
  });
  data.series.forEach((s, si) => {
    const g = svg('g', { class: `series s${si % PALETTE}`, 'data-series': s.id });
    g.append(title(name(s)));
    // A line through consecutive runs where the bottleneck was present; gaps stay gaps.
    let d = '';
    let pen = false;
    s.ratios.forEach((r, i) => {
      if (r === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(r).toFixed(1)}`;
      pen = true;
    });
    if (d) g.append(svg('path', { d, class: si >= PALETTE ? 'line dashed' : 'line' }));
    s.ratios.forEach((r, i) => {
      if (r === null) return;
      const c = svg('circle', { cx: x(i), cy: y(r), r: 3.5, class: 'point' });
      c.append(title(`${name(s)} — ${formatRatio(r)} (${shortDate(data.runs[i].finishedAt)})`));
      g.append(c);
    });
    root.append(g);
  });
  return root;
}

function legend(series: TrendSeries[]): Element {
  const list = el('ul', { class: 'legend', 'aria-label': t('legend') });
  series.forEach((s, si) => {
    // Focus or hover on a legend entry highlights its line; buttons are reachable with Tab.
    const b = el(
      'button',
      { type: 'button', class: `swatch s${si % PALETTE}`, 'aria-pressed': 'false', 'data-series': s.id },
      el('span', { class: 'mark', 'aria-hidden': 'true' }),
      `${name(s)} ${formatRatio(s.latest)}`,
    );
    const highlight = (on: boolean) => {
      document
        .querySelectorAll('.chart .series')
        .forEach((g) => g.classList.toggle('dim', on && g.getAttribute('data-series') !== s.id));
    };
    b.addEventListener('mouseenter', () => highlight(true));
    b.addEventListener('mouseleave', () => highlight(b.getAttribute('aria-pressed') === 'true'));
    b.addEventListener('focus', () => highlight(true));
    b.addEventListener('blur', () => highlight(false));
    b.addEventListener('click', () => {
      const on = b.getAttribute('aria-pressed') !== 'true';
      list.querySelectorAll('button').forEach((o) => o.setAttribute('aria-pressed', 'false'));
      b.setAttribute('aria-pressed', String(on));
      highlight(on);
    });
    list.append(el('li', {}, b));
  });
  return list;
}

function trendTable(data: TrendsData): Element {
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, t('bottleneck')),
    ...data.runs.map((r) => el('th', { scope: 'col' }, shortDate(r.finishedAt))),
  );
  const rows = data.series.map((s) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, name(s)),
      ...s.ratios.map((r) => el('td', {}, r === null ? '—' : formatRatio(r))),
    ),
  );
  return el(
    'table',
    { id: 'trend-table' },
    el('caption', {}, t('trendTableCaption')),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
}

function barsChart(run: RunBars): Element {
  const rowH = 34,
    L = 8,
    W = 720,
    labelW = 260;
  const H = Math.max(1, run.bars.length) * rowH + 8;
  const max = niceMax(Math.max(1, ...run.bars.flatMap((b) => [b.observedP50Ms ?? 0, b.baselineP50Ms ?? 0])));
  const scale = (ms: number | null) => (ms && ms > 0 ? ((W - labelW - 90) * ms) / max : 0);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': 'bars-title',
    class: 'chart bars',
  });
  run.bars.forEach((b, i) => {
    const top = 4 + i * rowH;
    const label = svg('text', { x: L, y: top + 18, class: 'label' });
    label.textContent = name(b).length > 38 ? `${name(b).slice(0, 37)}…` : name(b);
    label.append(title(name(b)));
    root.append(label);
    const base = svg('rect', {
      x: labelW,
      y: top + 4,
      width: scale(b.baselineP50Ms),
      height: 10,
      class: 'bar-baseline',
    });
    base.append(title(t('baselineValue', formatDuration(b.baselineP50Ms))));
    const obs = svg('rect', {
      x: labelW,
      y: top + 16,
      width: scale(b.observedP50Ms),
      height: 10,
      class: 'bar-observed',
    });
    obs.append(title(t('observedValue', formatDuration(b.observedP50Ms))));
    const value = svg('text', {
      x: labelW + scale(Math.max(b.observedP50Ms ?? 0, b.baselineP50Ms ?? 0)) + 6,
      y: top + 24,
      class: 'axis',
    });
    value.textContent = `${formatRatio(b.ratio)} · ${formatDuration(b.observedP50Ms)} / ${formatDuration(b.baselineP50Ms)}`;
    root.append(base, obs, value);
  });
  return root;
}

function barsTable(run: RunBars): Element {
  const head = el(
    'tr',
    {},
    ...[t('bottleneck'), t('observed'), t('baseline'), t('ratio')].map((h) => el('th', { scope: 'col' }, h)),
  );
  const rows = run.bars.map((b) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, drillDownButton(run.runId, b)),
      el('td', {}, formatDuration(b.observedP50Ms)),
      el('td', {}, formatDuration(b.baselineP50Ms)),
      el('td', {}, formatRatio(b.ratio)),
    ),
  );
  return el(
    'table',
    { id: 'bars-table' },
    el('caption', {}, t('barsTableCaption')),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
}

/**
 * The bottleneck's name as a button: the extension opens the run's details, which show each
 * bottleneck's evidence spans and improvement item (the same drill-down as the tree).
 */
function drillDownButton(runId: string, b: { dimensionType: string; dimensionKey: string }): Element {
  const button = el(
    'button',
    { type: 'button', class: 'drill', title: t('drillDown', name(b)), 'aria-label': t('drillDown', name(b)) },
    name(b),
  );
  button.addEventListener('click', () =>
    vscode.postMessage({ type: 'drillDown', runId, dimensionType: b.dimensionType, dimensionKey: b.dimensionKey }),
  );
  return button;
}

function runSection(data: TrendsData, selected: string | undefined): Element {
  const section = el('section', { 'aria-labelledby': 'bars-title' });
  const heading = el('h2', { id: 'bars-title' }, t('barsTitle'));
  const select = el('select', { id: 'run-select', 'aria-label': t('chooseRun') });
  const newestFirst = [...data.perRun].reverse();
  for (const r of newestFirst) {
    const o = el(
      'option',
      { value: r.runId },
      `${shortDate(r.finishedAt)} · ${r.runId.slice(0, 8)} · ${t('findings', r.bars.length)}`,
    );
    select.append(o);
  }
  const current = newestFirst.find((r) => r.runId === selected) ?? newestFirst[0];
  if (current) select.value = current.runId;
  const body = el('div', { id: 'bars-body' });
  const show = (run: RunBars | undefined) => {
    body.replaceChildren();
    if (!run) return;
    if (run.bars.length === 0) body.append(el('p', {}, t('noBottlenecksInRun')));
    else body.append(barsChart(run), barsTable(run));
    vscode.setState({ selectedRunId: run.runId });
  };
  select.addEventListener('change', () => show(data.perRun.find((r) => r.runId === select.value)));
  show(current);
  const key = el(
    'p',
    { class: 'note' },
    el('span', { class: 'key key-baseline', 'aria-hidden': 'true' }),
    ` ${t('baseline')}  `,
    el('span', { class: 'key key-observed', 'aria-hidden': 'true' }),
    ` ${t('observed')}`,
  );
  section.append(heading, el('label', { for: 'run-select' }, t('run')), ' ', select, key, body);
  return section;
}

function render(msg: RenderMessage): void {
  strings = msg.strings;
  const { data } = msg;
  const root = document.getElementById('root');
  if (!root) return;
  root.replaceChildren();
  root.append(el('h1', {}, t('title')), el('p', { class: 'scope' }, t('scope', data.scopeLabel)));
  if (data.runs.length === 0) {
    root.append(el('p', { role: 'status' }, t('noRuns')));
    return;
  }
  const trend = el(
    'section',
    { 'aria-labelledby': 'trend-title' },
    el('h2', { id: 'trend-title' }, t('trendTitle', data.runs.length)),
  );
  if (data.series.length === 0) trend.append(el('p', {}, t('noBottlenecks')));
  else {
    trend.append(trendChart(data), legend(data.series), trendTable(data));
    if (data.omittedSeries > 0) trend.append(el('p', { class: 'note' }, t('omitted', data.omittedSeries)));
  }
  const state = vscode.getState() as { selectedRunId?: unknown } | undefined;
  const selected = msg.selectedRunId ?? (typeof state?.selectedRunId === 'string' ? state.selectedRunId : undefined);
  root.append(trend, runSection(data, selected));
  document.body.setAttribute('data-rendered', 'true');
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data as Partial<RenderMessage> | null;
  if (m && m.type === 'render' && m.data && m.strings) render(m as RenderMessage);
});
vscode.postMessage({ type: 'ready' });

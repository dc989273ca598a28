// Issue 12 in the browser (installed VSIX): rows that lead with the finding at the default side-bar
// width, the change since the previous run, the Bottleneck Trends webview (CSP with nonce, no
// remote loads, keyboard, tables) and the walkthrough.
import * as assert from 'assert';
import type { FrameLocator, Request } from 'playwright-core';
import { parseBottleneckList, compareRuns, summaryParts } from '../../../src/domain/runComparison';
import { formatRatio } from '../../../src/domain/format';
import { screenshot, ui } from './context';
import { waitFor } from '../../../devkit/wait';
import {
  expandRow,
  openWorkbench,
  runFromPalette,
  showContainer,
  topLevelRows,
  waitForText,
  WORKBENCH_TIMEOUT_MS,
} from '../../../devkit/workbench';

interface DbRun {
  run_id: string;
  status: string;
  scope_type: string | null;
  scope_id: string | null;
  finished_at: Date | null;
  output_ref: { bottlenecks?: Array<{ dimension_type: string; dimension_key: string; ratio: number }> } | null;
  reason_code: string | null;
}

async function scopeRuns(): Promise<DbRun[]> {
  const { stack, workspace } = ui();
  return stack.query<DbRun>(
    "select run_id, status, scope_type, scope_id, finished_at, output_ref, reason_code from telemetry_analysis_runs where scope_type = 'workspace' and scope_id = $1 order by triggered_at desc, run_id desc",
    [workspace],
  );
}

/** Drags the side bar's sash until the side bar is `width` px wide (VS Code's default is 300 px). */
async function setSideBarWidth(width: number): Promise<number> {
  const { page } = ui();
  const sidebar = page.locator('.part.sidebar');
  for (let attempt = 0; attempt < 3; attempt++) {
    const box = await sidebar.boundingBox();
    if (!box) throw new Error('no side bar');
    if (Math.abs(box.width - width) <= 2) return box.width;
    const x = box.x + box.width;
    await page.mouse.move(x - 1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(x - 1 + (width - box.width), box.y + box.height / 2, { steps: 6 });
    await page.mouse.up();
    await page.mouse.move(1000, 650);
  }
  return (await sidebar.boundingBox())!.width;
}

describe('issue 12: findings first, change since the previous run, trends, walkthrough', function () {
  this.timeout(180_000);
  /** Every request the browser made while these tests ran. */
  const requests: string[] = [];
  const onRequest = (r: Request) => requests.push(r.url());

  before(async () => {
    const { page, server, workspace, context } = ui();
    context.on('request', onRequest);
    await openWorkbench(page, server.workbenchUrl(workspace));
    await showContainer(page, 'EHG Telemetry');
  });
  after(() => ui().context.off('request', onRequest));

  /** The newest SUCCEEDED run with bottlenecks of the demo scope (each test finds it for itself). */
  function newestWithBottlenecks(runs: DbRun[]): DbRun | undefined {
    return runs.find((r) => r.status === 'SUCCEEDED' && (r.output_ref?.bottlenecks?.length ?? 0) > 0);
  }

  it("at the default side-bar width (300 px) a finished run's row shows its top bottleneck without truncation", async () => {
    const { page } = ui();
    const width = await setSideBarWidth(300);
    assert.ok(Math.abs(width - 300) <= 2, `side bar is ${width} px wide`);
    const runs = await scopeRuns();
    const target = newestWithBottlenecks(runs);
    assert.ok(target, 'the demo scope has a SUCCEEDED run with bottlenecks');
    const top = target.output_ref!.bottlenecks![0];
    const want = `${top.dimension_type}:${top.dimension_key} ${formatRatio(top.ratio)}`;
    const index = runs.findIndex((r) => r.run_id === target.run_id);
    const row = topLevelRows(page).nth(index);
    await waitForText(row.locator('.label-name'), want, {
      message: `row ${index} to read "${want}"`,
      timeoutMs: 60_000,
    });
    // Hovered, as a user pointing at it sees it (inline actions, if any, take their room then).
    await row.hover();
    const fit = await row.evaluate((el) => {
      const name = el.querySelector('.label-name')!.getBoundingClientRect();
      const box = el.querySelector('.monaco-icon-label-container')!.getBoundingClientRect();
      return { nameRight: name.right, boxRight: box.right, rowRight: el.getBoundingClientRect().right };
    });
    assert.ok(
      fit.nameRight <= fit.boxRight + 0.5,
      `the label ends at ${fit.nameRight} px, its visible box at ${fit.boxRight} px (truncated)`,
    );
    // Active, failed and no-finding rows say what they are.
    const labels = await topLevelRows(page).evaluateAll((els) =>
      els.map((e) => (e.querySelector('.label-name')?.textContent ?? '').trim()),
    );
    for (const [i, r] of runs.slice(0, labels.length).entries()) {
      if (r.status === 'FAILED') assert.match(labels[i], /^Failed/, `row ${i} (FAILED): ${labels[i]}`);
      if (r.status === 'RUNNING') assert.match(labels[i], /^Running · /, `row ${i} (RUNNING): ${labels[i]}`);
      if (r.status === 'SUCCEEDED' && (r.output_ref?.bottlenecks?.length ?? 0) === 0)
        assert.match(labels[i], /^(No bottlenecks|Insufficient data)$/, `row ${i} (no findings): ${labels[i]}`);
    }
    await screenshot('ui-07-rows-300px');
  });

  it('expanding the run marks its bottlenecks against the previous succeeded run and the row says what changed', async () => {
    const { page } = ui();
    const runs = await scopeRuns();
    const target = newestWithBottlenecks(runs);
    assert.ok(target, 'the demo scope has a SUCCEEDED run with bottlenecks');
    const previous = runs
      .filter((r) => r.status === 'SUCCEEDED' && r.finished_at && r.finished_at < target.finished_at!)
      .sort((a, b) => b.finished_at!.getTime() - a.finished_at!.getTime())[0];
    assert.ok(previous, 'the demo scope has an earlier SUCCEEDED run');
    const expected = compareRuns(parseBottleneckList(target.output_ref), {
      runId: previous.run_id,
      finishedAt: previous.finished_at,
      bottlenecks: parseBottleneckList(previous.output_ref),
      insufficientData: false,
    });
    assert.equal(expected.kind, 'compared');
    const words = summaryParts(expected).map(([n, k]) => `${n} ${k}`);
    const index = runs.findIndex((r) => r.run_id === target.run_id);
    const row = topLevelRows(page).nth(index);
    await expandRow(row, true);
    const children = page.locator('.part.sidebar .monaco-list-row[aria-level="2"]');
    await children.first().waitFor({ state: 'visible', timeout: 30_000 });
    const marks = /\b(new|worse|better|unchanged|resolved)\b/;
    await waitFor(
      async () => (await children.locator('.label-description').allInnerTexts()).some((t) => marks.test(t)),
      { message: 'marks on the expanded bottlenecks', timeoutMs: 30_000 },
    );
    await waitFor(
      async () => {
        const d = (await row.locator('.label-description').first().innerText()).trim();
        return words.length === 0 || d.startsWith(words.join(' · '));
      },
      { message: `the row's description to say ${words.join(' · ')}`, timeoutMs: 30_000 },
    );
    if (expected.kind === 'compared' && expected.counts.resolved > 0) {
      const resolved = expected.changes.find((c) => c.kind === 'resolved')!;
      await page
        .locator('.part.sidebar .monaco-list-row[aria-level="2"]', {
          hasText: `${resolved.dimensionType}:${resolved.dimensionKey}`,
        })
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 });
    }
    await screenshot('ui-08-changes');
    await expandRow(row, false); // collapse again
  });

  it('Show Bottleneck Trends opens a webview with a nonce CSP, no remote loads, keyboard-reachable controls and tables', async () => {
    const { page, server } = ui();
    const before = requests.length;
    await runFromPalette(page, 'EHG Telemetry: Show Bottleneck Trends');
    const outer = page.frameLocator('iframe.webview.ready');
    const frame: FrameLocator = outer.frameLocator('#active-frame');
    await frame.locator('body[data-rendered="true"]').waitFor({ state: 'attached', timeout: WORKBENCH_TIMEOUT_MS });
    const facts = await frame.locator('html').evaluate((html) => {
      const doc = html.ownerDocument;
      const csp = doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '';
      // VS Code's webview host adds its own acquireVsCodeApi script (id _vscodeApiScript); every other one is ours.
      const scripts = [...doc.querySelectorAll('script')]
        .filter((s) => s.id !== '_vscodeApiScript')
        .map((s) => ({ nonce: s.nonce || s.getAttribute('nonce') || '', src: s.getAttribute('src') ?? '', id: s.id }));
      // The host's own default styles (id _defaultStyles) aside, every style element is ours.
      const styles = [...doc.querySelectorAll('style')]
        .filter((s) => s.id !== '_defaultStyles')
        .map((s) => s.nonce || s.getAttribute('nonce') || '');
      // A script without the nonce must not run.
      const w = doc.defaultView as unknown as Record<string, unknown>;
      const injected = doc.createElement('script');
      injected.textContent = 'window.__ehgInjected = 1;';
      doc.body.appendChild(injected);
      const focusable = [...doc.querySelectorAll('button, select')].filter(
        (e) => (e as unknown as { tabIndex: number }).tabIndex >= 0,
      ).length;
      return {
        csp,
        scripts,
        styles,
        injectedRan: w.__ehgInjected === 1,
        tables: [...doc.querySelectorAll('table')].map((t) => ({
          id: t.id,
          rows: t.querySelectorAll('tbody tr').length,
          caption: t.querySelector('caption')?.textContent ?? '',
        })),
        series: doc.querySelectorAll('.chart .series').length,
        focusable,
        svgFill: (doc.defaultView as any).getComputedStyle(doc.querySelector('.chart .series .point') ?? doc.body)
          .fill as string,
      };
    });
    assert.match(facts.csp, /default-src 'none'/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(facts.csp)?.[1];
    assert.ok(nonce, `script-src with a nonce: ${facts.csp}`);
    assert.doesNotMatch(facts.csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!.*vscode-cdn)/, facts.csp);
    const pageScripts = facts.scripts.filter((s) => s.src.includes('trends.js'));
    assert.equal(pageScripts.length, 1, `one trends.js script: ${JSON.stringify(facts.scripts)}`);
    assert.ok(
      facts.scripts.every((s) => s.nonce === nonce),
      `every script carries the nonce: ${JSON.stringify(facts.scripts)}`,
    );
    assert.ok(facts.styles.length > 0 && facts.styles.every((n) => n === nonce), 'every style carries the nonce');
    assert.equal(facts.injectedRan, false, 'a script without the nonce did not run');
    const trendTable = facts.tables.find((t) => t.id === 'trend-table');
    assert.ok(
      trendTable && trendTable.rows === facts.series && facts.series > 0,
      `trend table rows = chart series: ${JSON.stringify(facts)}`,
    );
    assert.ok(
      facts.tables.some((t) => t.id === 'bars-table' && t.rows > 0),
      'observed vs baseline table for one run',
    );
    assert.ok(
      facts.focusable >= facts.series + 1,
      `legend buttons and the run picker are focusable: ${facts.focusable}`,
    );
    assert.ok(
      facts.svgFill && facts.svgFill !== 'none' && facts.svgFill !== 'rgb(0, 0, 0)',
      `chart colours come from the theme: ${facts.svgFill}`,
    );
    await page.mouse.move(1000, 700);
    await screenshot('ui-09-trends');
    // Keyboard: focus a legend entry and its line stays, the others dim.
    await frame.locator('.legend button').first().focus();
    assert.ok(
      (await frame.locator('.chart .series.dim').count()) === facts.series - 1,
      'focusing a legend entry highlights its line',
    );
    // Choosing another run with the keyboard redraws its bars.
    const options = await frame.locator('#run-select option').count();
    if (options > 1) {
      await frame.locator('#run-select').focus();
      await frame.locator('#run-select').press('ArrowDown');
    }
    await screenshot('ui-09b-trends-one-run');
    const origin = new URL(server.workbenchUrl(ui().workspace)).host;
    const remote = requests.slice(before).filter((u) => {
      const url = new URL(u);
      if (url.protocol === 'data:' || url.protocol === 'blob:') return false;
      // Webview resources are served by the workbench's own service worker under this host name.
      return url.host !== origin && !url.host.endsWith('.vscode-resource.vscode-cdn.net');
    });
    assert.deepStrictEqual(remote, [], 'no request left the machine while the trends were open');
    await page.keyboard.press('Escape');
    await runFromPalette(page, 'View: Close All Editors');
  });

  it('the walkthrough opens with its four steps and theme-aware images', async () => {
    const { page } = ui();
    await runFromPalette(page, 'Welcome: Open Walkthrough...', { nextInput: true });
    const item = page
      .locator('.quick-input-widget .monaco-list-row', { hasText: 'Get started with EHG Telemetry' })
      .first();
    await item.waitFor({ state: 'visible', timeout: 20_000 });
    await item.click();
    const container = page.locator('.gettingStartedContainer');
    await container
      .locator('.getting-started-step', { hasText: 'Connect to the EHG_Engineer database' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    for (const step of ['Trust the folder', 'Open the Analysis Runs view', 'Read a finding']) {
      assert.ok(await container.locator('.getting-started-step', { hasText: step }).count(), `step "${step}"`);
    }
    // The step's image is an <img> whose srcset the walkthrough sets for the colour theme (src stays
    // empty); its URL is a resource URL with the path encoded in it.
    let seen: Array<{ src: string; loaded: boolean }> = [];
    await waitFor(
      async () => {
        seen = [];
        for (const f of page.frames()) {
          const imgs = await f
            .evaluate(() =>
              [...(globalThis as any).document.images].map((i: any) => ({
                src: decodeURIComponent(String(i.currentSrc || i.src || i.getAttribute('srcset') || '')),
                loaded: i.complete && i.naturalWidth > 0,
              })),
            )
            .catch(() => []);
          seen.push(...(imgs as Array<{ src: string; loaded: boolean }>));
        }
        return seen.some((i) => /walkthrough\/configure-/.test(i.src) && i.loaded);
      },
      { message: "the first step's image", timeoutMs: 20_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; images: ${JSON.stringify(seen)}`);
    });
    const img = seen.find((i) => /walkthrough\/configure-/.test(i.src))!;
    assert.match(img.src, /walkthrough\/configure-dark\.svg/, `the dark theme shows the dark image: ${img.src}`);
    await screenshot('ui-10-walkthrough');
    await runFromPalette(page, 'View: Close All Editors');
  });
});

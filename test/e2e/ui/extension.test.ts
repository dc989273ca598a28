// The VSIX as a user installs it, driven through the browser: container and view, rows, expansion,
// the scheduler status bar under the simulator, the command palette, and the not-configured welcome.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../../devkit/codeServer';
import { screenshot, ui } from './context';
import {
  ensureWorkbench,
  expandRow,
  openWorkbench,
  runFromPalette,
  schedulerItem,
  showContainer,
  pointerAway,
  topLevelRows as rowsOf,
  waitForStatus,
  WORKBENCH_TIMEOUT_MS,
} from '../../../devkit/workbench';
import { waitFor } from '../../../devkit/wait';

const STATUS_LABEL: Record<string, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  CANCELLED: 'Cancelled',
  FAILED_ENQUEUE: 'Enqueue failed',
};

interface DbRun {
  run_id: string;
  status: string;
  triggered_by: string;
  top_bottleneck_category: string | null;
  output_ref: { bottlenecks?: Array<{ dimension_type: string; dimension_key: string }> } | null;
}

function scopeRuns(): Promise<DbRun[]> {
  const { stack, workspace } = ui();
  // "This Workspace" lists the folder's own workspace-scoped runs (global ones are under All Scopes), newest first.
  return stack.query<DbRun>(
    "select run_id, status, triggered_by, top_bottleneck_category, output_ref from telemetry_analysis_runs where scope_type = 'workspace' and scope_id = $1 order by triggered_at desc, run_id desc",
    [workspace],
  );
}

const topLevelRows = () => rowsOf(ui().page);

describe('EHG Telemetry in the browser (installed VSIX)', function () {
  this.timeout(180_000);

  // Every test starts on the demo workspace, whatever the test before it left open.
  beforeEach(async () => {
    const { page, server, workspace } = ui();
    await ensureWorkbench(page, server.workbenchUrl(workspace));
  });

  describe('the Analysis Runs view', () => {
    beforeEach(async () => {
      await showContainer(ui().page, 'EHG Telemetry');
    });

    it('shows the EHG Telemetry activity-bar container and its Analysis Runs view', async () => {
      const { page } = ui();
      const sidebar = await showContainer(page, 'EHG Telemetry');
      const title = await sidebar.locator('.composite.title').innerText();
      assert.match(title, /EHG Telemetry/i);
      assert.match(title, /Analysis Runs/i);
    });

    it('lists the runs with their status and top bottleneck category', async () => {
      const rowMatches = (text: string, run: DbRun) =>
        text.includes(STATUS_LABEL[run.status] ?? run.status) &&
        (!run.top_bottleneck_category || text.includes(run.top_bottleneck_category));
      let texts: string[] = [];
      let expected: DbRun[] = [];
      // Database and tree are read together until they agree (the tree refreshes on its own schedule).
      await waitFor(
        async () => {
          expected = (await scopeRuns()).slice(0, 8);
          texts = await topLevelRows().evaluateAll((els) =>
            els.map((e) => e.getAttribute('aria-label') ?? e.textContent ?? ''),
          );
          return expected.length > 0 && expected.every((run, i) => rowMatches(texts[i] ?? '', run));
        },
        { message: 'the first rows to show the status and top category of the newest runs', timeoutMs: 60_000 },
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}\nrows: ${JSON.stringify(texts.slice(0, 8), null, 1)}\ndatabase: ${JSON.stringify(expected.map((r) => [r.status, r.top_bottleneck_category]))}`,
        );
      });
      assert.ok(
        expected.some((r) => r.top_bottleneck_category),
        'at least one of the rows checked has a top bottleneck category',
      );
      await screenshot('ui-01-runs');
    });

    it('expands a SUCCEEDED run into its bottlenecks', async () => {
      const { page } = ui();
      const runs = (await scopeRuns()).slice(0, 8);
      const index = runs.findIndex((r) => r.status === 'SUCCEEDED' && (r.output_ref?.bottlenecks?.length ?? 0) > 0);
      assert.ok(
        index >= 0,
        `no SUCCEEDED run with bottlenecks among the first rows: ${JSON.stringify(runs.map((r) => r.status))}`,
      );
      const first = runs[index].output_ref!.bottlenecks![0];
      await expandRow(topLevelRows().nth(index), true);
      const child = page.locator('.part.sidebar .monaco-list-row[aria-level="2"]', {
        hasText: `${first.dimension_type}:${first.dimension_key}`,
      });
      await child.first().waitFor({ state: 'visible', timeout: 30_000 });
      // Healthy scheduler in the status bar for the picture.
      await waitForStatus(ui().page, /running/i, 60_000);
      await widenSideBar();
      const file = await screenshot('ui-02-expanded-run');
      if (process.env.E2E_UPDATE_SCREENSHOT === '1')
        fs.copyFileSync(file, path.join(REPO_ROOT, 'media', 'screenshot.png'));
    });
  });

  describe('scheduler status bar', () => {
    // Each test starts from a healthy scheduler with the breaker closed.
    beforeEach(async () => {
      const s = ui().stack.scheduler;
      assert.ok(s, 'the stack runs a scheduler simulator');
      await s.start();
      await s.setBreaker('CLOSED');
    });

    after(async () => {
      const s = ui().stack.scheduler;
      await s?.start().catch(() => undefined);
      await s?.setBreaker('CLOSED').catch(() => undefined);
    });

    it('changes text and colour when the simulator opens the breaker', async () => {
      const { page, stack } = ui();
      assert.ok(stack.scheduler, 'the stack runs a scheduler simulator');
      await schedulerItem(page).waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
      const healthy = await waitForStatus(ui().page, /running/i, 60_000);
      await stack.scheduler.setBreaker('OPEN');
      await stack.scheduler.writeOnce();
      const open = await waitForStatus(ui().page, /OPEN/, 60_000);
      assert.notStrictEqual(
        open.background,
        healthy.background,
        `colour should change when the breaker opens (${healthy.background})`,
      );
      await screenshot('ui-03-breaker-open');
    });

    it('changes again when heartbeats stop (stale)', async () => {
      const { stack } = ui();
      // Its own setup: the breaker open (as the test above leaves it, but not relying on that).
      await stack.scheduler!.setBreaker('OPEN');
      await stack.scheduler!.writeOnce();
      const open = await waitForStatus(ui().page, /OPEN/, 60_000);
      await stack.scheduler!.silence();
      const stale = await waitForStatus(ui().page, /stale/i, 60_000 + ui().schedulerIntervalMs);
      assert.notStrictEqual(
        stale.background,
        open.background,
        `colour should change from the breaker's (${open.background})`,
      );
      await screenshot('ui-04-stale');
    });
  });

  describe('command palette', () => {
    beforeEach(async () => {
      await showContainer(ui().page, 'EHG Telemetry');
    });

    it('Trigger Analysis Run from the command palette (F1) adds a new row', async () => {
      const { page, stack, workspace } = ui();
      // A manual trigger is deduplicated against active runs: finish the demo's queued/running ones first,
      // as a worker would (the worker itself stays stopped in these tests).
      await stack.query(
        "update telemetry_analysis_runs set status = 'CANCELLED', finished_at = now() where (scope_id = $1 or scope_id is null) and status in ('QUEUED', 'RUNNING')",
        [workspace],
      );
      const before = await scopeRuns();
      const rowsBefore = await topLevelRows().count();
      await runFromPalette(page, 'EHG Telemetry: Trigger Analysis Run');
      let added: DbRun | undefined;
      await waitFor(
        async () => {
          added = (await scopeRuns()).find((r) => !before.some((b) => b.run_id === r.run_id));
          return !!added;
        },
        { message: 'a new MANUAL run in the database', timeoutMs: 30_000 },
      );
      assert.strictEqual(added!.triggered_by, 'MANUAL');
      await waitFor(
        async () => {
          const first = (await topLevelRows().first().getAttribute('aria-label')) ?? '';
          return (await topLevelRows().count()) > rowsBefore || /manual/i.test(first);
        },
        { message: 'the new run as the first row', timeoutMs: 30_000 },
      );
      assert.match((await topLevelRows().first().getAttribute('aria-label')) ?? '', /manual/i);
      await screenshot('ui-05-triggered');
    });
  });

  describe('a folder without .env', () => {
    it('shows the not-configured welcome with "Configure Connection…"', async () => {
      const { page, server, emptyWorkspace } = ui();
      await openWorkbench(page, server.workbenchUrl(emptyWorkspace));
      await showContainer(page, 'EHG Telemetry');
      const button = page.locator('.part.sidebar .welcome-view-content .monaco-button', {
        hasText: 'Configure Connection…',
      });
      await button.first().waitFor({ state: 'visible', timeout: 60_000 });
      assert.match(await page.locator('.part.sidebar .welcome-view-content').first().innerText(), /No connection/);
      await screenshot('ui-06-not-configured');
    });
  });
});

/** Drags the side bar's sash so that rows are not cut off in the screenshot. */
async function widenSideBar(): Promise<void> {
  const { page } = ui();
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  await page.mouse.move(x, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(x + 330, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  // Off the sash and the rows, so neither shows a hover highlight in the picture.
  await pointerAway(page);
}

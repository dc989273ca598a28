// "Don't Show Again" on a real repeatable notification, in the browser (installed VSIX): the
// completion notification of a run this window started (it names what is new since the previous
// run) is muted by its own button, for its kind only (a failed run still says so), stays away for
// the next finished run, and comes back after "Show All Notifications Again" from the palette.
// Drives only the page and the database (and the fixture analyzer's mode file), not the testing API.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { screenshot, ui } from './context';
import { openWorkbench, runFromPalette, showContainer, topLevelRows } from '../../../devkit/workbench';

interface DbRun {
  run_id: string;
  status: string;
  triggered_by: string;
}

const FINISHED = /analysis finished with \d+ findings?/;
const FAILED = /analysis run failed/;
const RESET = /notifications you turned off will be shown again/;

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function scopeRuns(): Promise<DbRun[]> {
  const { stack, workspace } = ui();
  return stack.query<DbRun>(
    "select run_id, status, triggered_by from telemetry_analysis_runs where scope_type = 'workspace' and scope_id = $1 order by triggered_at desc, run_id desc",
    [workspace],
  );
}

/** The fixture analyzer reads this file on every run (test/fixtures/ehg-workspace/README.md). */
function analyzerMode(mode: 'normal' | 'throw'): void {
  fs.writeFileSync(path.join(ui().workspace, '.analyzer-mode'), mode);
}

/** Texts of the notifications on the page now (toasts, and the notification center when it is open). */
async function notificationTexts(): Promise<string[]> {
  return ui()
    .page.locator('.notification-list-item-message')
    .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
}

function toast(text: RegExp) {
  return ui().page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
}

/** Triggers a MANUAL run from the palette and waits until this window's analysis has finished it. */
async function triggerAndFinish(): Promise<DbRun> {
  const { page, stack, workspace } = ui();
  // Runs are deduplicated against active ones: nothing may be queued or running (e.g. the session-start run).
  await stack.query(
    "update telemetry_analysis_runs set status = 'CANCELLED', finished_at = now() where (scope_id = $1 or scope_id is null) and status in ('QUEUED', 'RUNNING')",
    [workspace],
  );
  const before = new Set((await scopeRuns()).map((r) => r.run_id));
  await runFromPalette(page, 'EHG Telemetry: Trigger Analysis Run');
  let run: DbRun | undefined;
  await waitUntil(
    'the new MANUAL run to finish',
    async () => {
      run = (await scopeRuns()).find((r) => !before.has(r.run_id));
      return !!run && !['QUEUED', 'RUNNING'].includes(run.status);
    },
    120_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(run)}`);
  });
  assert.strictEqual(run!.triggered_by, 'MANUAL');
  return run!;
}

/** Opens or closes the notification center with the bell in the status bar. */
async function toggleNotificationCenter(open: boolean): Promise<void> {
  const { page } = ui();
  const center = page.locator('.notifications-center');
  if ((await center.isVisible()) === open) return;
  await page
    .locator('.part.statusbar [id="status.notifications"], .part.statusbar .statusbar-item:has(.codicon-bell)')
    .first()
    .click();
  await center.waitFor({ state: open ? 'visible' : 'hidden', timeout: 20_000 });
}

describe('notifications: Don\'t Show Again and "Show All Notifications Again" (installed VSIX)', function () {
  this.timeout(600_000);

  before(async () => {
    const { page, server, workspace } = ui();
    analyzerMode('normal');
    await openWorkbench(page, server.workbenchUrl(workspace));
    await showContainer(page, 'EHG Telemetry');
    // Trigger Analysis Run is offered (palette and view title) once the connection says the key can write.
    await page
      .locator('.part.sidebar .action-label[aria-label*="Trigger Analysis Run"]')
      .first()
      .waitFor({ state: 'visible', timeout: 90_000 });
    await topLevelRows(page).first().waitFor({ state: 'visible', timeout: 90_000 });
  });

  after(async () => {
    analyzerMode('normal');
    // Leaves nothing muted for the tests after this file (the state is the browser profile's).
    await runFromPalette(ui().page, 'EHG Telemetry: Show All Notifications Again').catch(() => undefined);
  });

  it('mutes the completion notification of its kind only, and brings it back from the palette', async () => {
    const { page } = ui();

    // 1. A run this window started finishes with findings: the notification says what is new.
    const first = await triggerAndFinish();
    assert.strictEqual(first.status, 'SUCCEEDED');
    const finished = toast(FINISHED);
    await finished.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(
      await finished.locator('.notification-list-item-message').innerText(),
      /; (new since the previous run: .+|no new bottlenecks since the previous run)\.$/,
      'the completion notification says what changed since the previous run',
    );
    await screenshot('ui-notifications-1-finished');
    await finished.locator('.monaco-button', { hasText: "Don't Show Again" }).click();
    await finished.waitFor({ state: 'hidden', timeout: 20_000 });

    // 2. Another kind is not muted: a failed run still raises its notification.
    analyzerMode('throw');
    const failed = await triggerAndFinish();
    assert.strictEqual(failed.status, 'FAILED');
    await toast(FAILED).waitFor({ state: 'visible', timeout: 60_000 });

    // 3. The muted kind stays away: a run that finishes with findings shows nothing, not even in the
    //    notification center. The failed run above shows that this window's notifications do arrive;
    //    the wait is longer than it took.
    analyzerMode('normal');
    const started = Date.now();
    const quiet = await triggerAndFinish();
    assert.strictEqual(quiet.status, 'SUCCEEDED');
    const seen: string[] = [];
    const until = Date.now() + Math.max(15_000, Date.now() - started);
    while (Date.now() < until) {
      seen.push(...(await notificationTexts()));
      await page.waitForTimeout(200);
    }
    await toggleNotificationCenter(true);
    seen.push(...(await notificationTexts()));
    assert.ok(
      seen.some((t) => FAILED.test(t)),
      'the notification center lists the failed run (so it is where a muted one would be)',
    );
    assert.deepStrictEqual(
      seen.filter((t) => FINISHED.test(t)),
      [],
      'no completion notification while its kind is muted',
    );
    await toggleNotificationCenter(false);

    // 4. "Show All Notifications Again" from the command palette: it confirms, and the next run's
    //    completion notification is back.
    await runFromPalette(page, 'EHG Telemetry: Show All Notifications Again');
    await toast(RESET).waitFor({ state: 'visible', timeout: 20_000 });
    const again = await triggerAndFinish();
    assert.strictEqual(again.status, 'SUCCEEDED');
    await toast(FINISHED).waitFor({ state: 'visible', timeout: 60_000 });
    assert.ok(
      await toast(FINISHED).locator('.monaco-button', { hasText: "Don't Show Again" }).isVisible(),
      'it offers "Don\'t Show Again" again',
    );
    await screenshot('ui-notifications-2-back');
  });
});

// Security, through the browser with the installed VSIX (security.e2e.ts loads it):
//   - hostile database text renders inert in the real hovers (tree row, status bar) and in Show Run Details;
//   - an error message that echoes the key is shown without it;
//   - the key is configured the way a user does it (Configure Connection… in the command palette);
//   - a workspace whose settings and .env point ehgTelemetry at another server cannot send it the key.
// The scan for the keys in everything the editor kept runs after all phases (keyScan.e2e.ts).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';
import { HostileRuns, insertHostileRuns, removeHostileRuns, writeHostileHeartbeat } from '../hostile';
import {
  ensureWorkbench,
  openWorkbench,
  runFromPalette,
  schedulerItem,
  showContainer,
  pointerAway,
  topLevelRows,
  waitForStatus,
} from '../../../devkit/workbench';
import { observeQuietFor, waitFor } from '../../../devkit/wait';
import { sec } from './context';

const DATA_LINK = 'command:workbench.action.quit';

async function shot(name: string): Promise<void> {
  const { page, screenshotsDir } = sec();
  await page.screenshot({ path: path.join(screenshotsDir, `security-${name}.png`) }).catch(() => undefined);
}

/** Runs a command from the palette (F1) and leaves the quick input to whatever the command shows next. */
function palette(page: Page, title: string): Promise<void> {
  return runFromPalette(page, title, { nextInput: true });
}

async function quickInput(page: Page, titlePart: string, value: string): Promise<void> {
  await page
    .locator('.quick-input-widget .quick-input-title', { hasText: titlePart })
    .first()
    .waitFor({ state: 'visible', timeout: 20_000 });
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await input.fill(value);
  await page.keyboard.press('Enter');
}

interface HoverFacts {
  text: string;
  commandLinks: string[];
  images: number;
  handlers: number;
}

/** Hovers `target` and reads the rendered hover: links, images and inline event handlers in it. */
async function hoverFacts(page: Page, target: Locator, contains: string): Promise<HoverFacts> {
  await pointerAway(page);
  await target.hover();
  const hover = page.locator('.monaco-hover', { hasText: contains }).first();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  const facts = await hover.evaluate((el: any) => ({
    text: String(el.textContent ?? ''),
    commandLinks: Array.from(el.querySelectorAll('a') as ArrayLike<any>)
      .map((a) => `${a.getAttribute('href') ?? ''} ${a.getAttribute('data-href') ?? ''}`)
      .filter((h) => /command:/i.test(h)),
    images: el.querySelectorAll('img').length as number,
    handlers: el.querySelectorAll('[onerror], [onload], [onclick]').length as number,
  }));
  await page.mouse.move(5, 5);
  return facts;
}

/** Anything in the whole page that can only have come from the hostile data being rendered as HTML. */
async function pageHasDataMarkup(page: Page): Promise<string[]> {
  return page.evaluate((link) => {
    const d = (globalThis as any).document;
    const found: string[] = [];
    if (d.querySelectorAll('img[src="x"]').length) found.push('an <img src=x> from the data');
    if (d.querySelectorAll('[onerror]').length) found.push('an element with an onerror attribute');
    const links = Array.from(d.querySelectorAll('a') as ArrayLike<any>).filter((a) =>
      `${a.getAttribute('href') ?? ''} ${a.getAttribute('data-href') ?? ''}`.includes(link),
    );
    if (links.length) found.push(`${links.length} link(s) to ${link}`);
    return found;
  }, DATA_LINK);
}

function newestExtensionLog(): string {
  const root = path.join(sec().server.userDataDir, 'logs');
  let best: { file: string; mtime: number } | undefined;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'EHG Telemetry.log' && (!best || fs.statSync(p).mtimeMs > best.mtime))
        best = { file: p, mtime: fs.statSync(p).mtimeMs };
    }
  };
  if (fs.existsSync(root)) walk(root);
  return best ? fs.readFileSync(best.file, 'utf8') : '';
}

/** Configure Connection… from the palette in the .env workspace (URL, then key), until it says it connected. */
async function configureConnection(): Promise<void> {
  const { page, server, envWorkspace, stack, shown, userKey } = sec();
  await ensureWorkbench(page, server.workbenchUrl(envWorkspace));
  const before = shown.notifications.length;
  await palette(page, 'EHG Telemetry: Configure Connection…');
  await quickInput(page, '(1/2)', stack.url);
  await quickInput(page, '(2/2)', userKey);
  await waitFor(() => shown.notifications.slice(before), {
    message: 'the "connected to" notification',
    until: (ns) => ns.some((n) => n.includes(`connected to ${new URL(stack.url).origin}`)),
    timeoutMs: 60_000,
  });
}

describe('security in the browser (installed VSIX)', function () {
  this.timeout(180_000);
  let hostile: HostileRuns | undefined;

  // Every test starts in the .env workspace, whatever the test before it left open.
  beforeEach(async () => {
    const { page, server, envWorkspace } = sec();
    await ensureWorkbench(page, server.workbenchUrl(envWorkspace));
  });

  after(async () => {
    const { stack } = sec();
    stack.gateway.setFault(null);
    await removeHostileRuns((q, p) => stack.query(q, p), hostile).catch(() => undefined);
    await stack.scheduler?.start().catch(() => undefined);
  });

  // Each step is a child suite with its own setup (none relies on what an earlier one left).
  describe('baseline', () => {
    it('a trusted workspace .env connects with its own key (baseline for the checks below)', async () => {
      const { page, tap, envKey } = sec();
      await waitForStatus(page, /running/i);
      await waitFor(() => tap.carrying(envKey).length > 0, {
        message: 'a request carrying the .env key at the gateway',
        timeoutMs: 30_000,
      });
    });
  });

  describe('hostile database text', () => {
    before(async () => {
      const { stack, envWorkspace, page, server } = sec();
      await ensureWorkbench(page, server.workbenchUrl(envWorkspace));
      hostile = await insertHostileRuns((q, p) => stack.query(q, p), envWorkspace);
      await showContainer(page, 'EHG Telemetry');
      await palette(page, 'EHG Telemetry: Refresh');
    });

    it('hovering a hostile run shows its text literally: no command link, no image, no HTML from the data', async () => {
      const { page } = sec();
      const row = topLevelRows(page).filter({ hasText: 'onerror=alert(1)' }).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      const facts = await hoverFacts(page, row, 'Analysis run');
      await shot('01-hostile-row-hover');
      assert.deepStrictEqual(facts.commandLinks, [], 'no command: link in the hover');
      assert.strictEqual(facts.images, 0, 'no image in the hover');
      assert.strictEqual(facts.handlers, 0, 'no inline event handler in the hover');
      assert.ok(
        facts.text.includes('onerror=alert(1)'),
        `the hover shows the hostile text as text: ${facts.text.slice(0, 300)}`,
      );
      assert.ok(facts.text.includes('command:workbench.action.quit'), 'the Markdown link is shown as text');
      assert.deepStrictEqual(await pageHasDataMarkup(page), []);
    });

    it('hovering the status bar with a hostile heartbeat (unknown breaker state) shows it literally', async () => {
      const { page, stack } = sec();
      await stack.scheduler!.silence();
      try {
        await writeHostileHeartbeat((q, p) => stack.query(q, p));
        await palette(page, 'EHG Telemetry: Refresh');
        await waitForStatus(page, /breaker unknown/i, 30_000);
        const facts = await hoverFacts(page, schedulerItem(page), 'EVA scheduler');
        await shot('02-hostile-status-hover');
        assert.deepStrictEqual(facts.commandLinks, [], 'no command: link in the status bar hover');
        assert.strictEqual(facts.images, 0, 'no image in the status bar hover');
        assert.strictEqual(facts.handlers, 0, 'no inline event handler in the status bar hover');
        assert.ok(facts.text.includes('MELTED'), `the unknown breaker state is named: ${facts.text.slice(0, 300)}`);
        assert.ok(facts.text.includes('onerror=alert(1)'), 'the hostile paused reason is shown as text');
      } finally {
        await stack.scheduler!.start();
        // The hostile row claimed its next poll in an hour, so the extension would wait minutes to re-read it.
        await palette(page, 'EHG Telemetry: Refresh').catch(() => undefined);
      }
      await waitForStatus(page, /running/i);
    });

    it('Show Run Details of the hostile run opens it and the workbench stays alive (no dialog, no HTML from the data)', async () => {
      const { page, shown } = sec();
      const runId = hostile!.markup;
      await palette(page, 'EHG Telemetry: Show Run Details');
      const input = page.locator('.quick-input-widget .quick-input-box input').first();
      await input.waitFor({ state: 'visible', timeout: 20_000 });
      await input.fill(runId);
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: runId }).first().click({ timeout: 20_000 });
      await page
        .locator('.tabs-container .tab', { hasText: runId })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await page
        .locator('.monaco-editor .view-lines', { hasText: 'onerror=alert(1)' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await shot('03-hostile-details');
      // Alive: the palette still opens and closes, the status bar still updates.
      await page.keyboard.press('F1');
      await page
        .locator('.quick-input-widget .quick-input-box input')
        .first()
        .waitFor({ state: 'visible', timeout: 20_000 });
      await page.keyboard.press('Escape');
      assert.ok(await schedulerItem(page).isVisible(), 'the status bar item is still there');
      assert.deepStrictEqual(shown.dialogs, [], 'no alert/confirm/prompt was opened');
      assert.deepStrictEqual(await pageHasDataMarkup(page), []);
      await page.keyboard.press('Control+K').catch(() => undefined);
      await page.keyboard.press('Escape');
      // Teardown: close the details document it opened, so no later test leaves a window with it open
      // (the markdown language server starting for it while the page navigates logs an error).
      await runFromPalette(page, 'View: Close All Editors');
    });
  });

  describe('error messages', () => {
    it('an error answer that echoes the key is shown with the key redacted', async () => {
      const { page, stack, shown, envKey } = sec();
      const before = shown.notifications.length;
      stack.gateway.setFault({
        status: 500,
        table: 'eva_scheduler_heartbeat',
        body: { message: `boom near token ${envKey} (echoed by the server)` },
      });
      try {
        await palette(page, 'EHG Telemetry: Refresh');
        await waitFor(() => shown.notifications.slice(before), {
          message: 'a notification about the failed read',
          until: (ns) => ns.some((n) => /failed \(500/.test(n)),
          timeoutMs: 30_000,
        });
      } finally {
        stack.gateway.setFault(null);
      }
      const text = shown.notifications.slice(before).find((n) => /failed \(500/.test(n))!;
      await shot('04-echoed-key');
      assert.ok(text.includes('boom near token'), `the server's message is shown: ${text}`);
      assert.ok(/redacted/i.test(text), `the echoed key is replaced: ${text}`);
      for (const part of [envKey, ...envKey.split('.').slice(1)])
        assert.ok(!text.includes(part), 'the notification does not contain the key');
      await waitForStatus(page, /running/i);
    });
  });

  describe('the stored key', () => {
    it('Configure Connection… from the command palette (URL, then key) connects and sends the new key', async () => {
      const { tap, userKey } = sec();
      const t0 = Date.now();
      await configureConnection();
      await shot('05-configured');
      assert.ok(tap.carrying(userKey, t0).length > 0, 'the gateway received the configured key');
    });

    it('a workspace whose settings.json and .env point at another server cannot send it the stored key', async () => {
      const { page, server, tap, recorder, redirectWorkspace, userKey, stack } = sec();
      // Its own setup: the key stored through Configure Connection… (as the test above does), not left by it.
      await configureConnection();
      const t0 = Date.now();
      await openWorkbench(page, server.workbenchUrl(redirectWorkspace));
      await waitForStatus(page, /running/i);
      // A new window is a new extension host: the key it sends can only have come from SecretStorage.
      await waitFor(() => tap.carrying(userKey, t0).length > 0, {
        message: 'the stored key at the real gateway from the new window',
        timeoutMs: 30_000,
      });
      await showContainer(page, 'EHG Telemetry');
      await palette(page, 'EHG Telemetry: Refresh');
      // An absence: a request to the other server after the Refresh would be recorded within this.
      await observeQuietFor(3_000, 'no request to the other server');
      await shot('06-redirect-workspace');
      const seen = recorder.requests.map((r) => `${r.method} ${r.url}`);
      assert.deepStrictEqual(recorder.carrying(userKey), [], 'the other server received the stored key');
      assert.deepStrictEqual(seen, [], 'the other server received no request at all');
      assert.ok(tap.carrying(userKey, t0).length > 0, 'the real gateway did');
      const log = newestExtensionLog();
      const origin = new URL(stack.url).origin;
      assert.ok(
        log.lastIndexOf(`Connection: ${origin} (from user settings)`) >= 0,
        'the new window connected with the user-settings URL',
      );
      assert.ok(!log.includes(`Connection: ${recorder.url}`), 'the extension never connected to the other server');
    });
  });
});

// Playwright helpers for the VS Code web workbench (code-server 4.100.3 = VS Code 1.100.3 DOM), shared
// by the ui and security browser suites and the bench (scripts/bench).
import type { Locator, Page } from 'playwright-core';
import { waitFor } from './wait';

/** Generous but bounded: the workbench needs a few seconds on a busy 2-core machine. */
export const WORKBENCH_TIMEOUT_MS = 90_000;

export async function openWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: WORKBENCH_TIMEOUT_MS });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
  // The status bar renders once the workbench has restored its parts.
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
}

/**
 * Opens the workbench at `url` unless the page already shows it for the same folder: a suite's own
 * setup, so no suite depends on the folder another one left the page on.
 */
export async function ensureWorkbench(page: Page, url: string): Promise<void> {
  const folder = (u: string) => {
    try {
      return new URL(u).searchParams.get('folder');
    } catch {
      return null;
    }
  };
  const here = folder(page.url());
  if (here !== null && here === folder(url) && (await page.locator('.part.statusbar').isVisible())) return;
  await openWorkbench(page, url);
}

/** The extension's status-bar item. Its DOM id is `<publisher>.<name>.<item id>`. */
export function schedulerItem(page: Page): Locator {
  return page.locator('.part.statusbar .statusbar-item[id$="ehgTelemetry.scheduler"]');
}

export async function statusItemLook(page: Page): Promise<{ text: string; ariaLabel: string; background: string }> {
  const item = schedulerItem(page);
  return item.evaluate((el) => ({
    text: (el.textContent ?? '').trim(),
    ariaLabel: el.querySelector('[aria-label]')?.getAttribute('aria-label') ?? el.getAttribute('aria-label') ?? '',
    background: (globalThis as any).getComputedStyle(el).backgroundColor as string,
  }));
}

export type StatusLook = Awaited<ReturnType<typeof statusItemLook>>;

/** Waits until the status-bar item's text matches; returns its look (text, label, colour), or fails with the last one. */
export function waitForStatus(page: Page, pattern: RegExp, timeoutMs = 60_000): Promise<StatusLook> {
  return waitFor(() => statusItemLook(page), {
    message: `the status bar text to match ${pattern}`,
    until: (look) => pattern.test(look.text),
    timeoutMs,
  });
}

/** Waits until the (trimmed) inner text of `locator` matches; returns it, or fails with the last text read. */
export function waitForText(
  locator: Locator,
  pattern: RegExp | string,
  opts: { message?: string; timeoutMs?: number } = {},
): Promise<string> {
  const matches = (text: string) => (typeof pattern === 'string' ? text === pattern : pattern.test(text));
  return waitFor(async () => (await locator.first().innerText()).trim(), {
    message: opts.message ?? `${locator.toString()} to read ${pattern}`,
    until: matches,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

/** Moves the pointer off everything and waits until no hover widget or sash highlight is left (before a hover or a picture). */
export async function pointerAway(page: Page): Promise<void> {
  await page.mouse.move(5, 5);
  await page
    .locator('.monaco-hover:visible, .monaco-sash.hover')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 });
}

export function activityBarEntry(page: Page, title: string): Locator {
  return page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title}"]`);
}

/**
 * Opens a view container from the activity bar (idempotent: does not toggle it closed), and returns
 * the side bar once it shows that container. A workbench being restored (after opening another folder)
 * can mark the entry checked while the side bar is hidden or still shows another container: the side
 * bar's own title decides, and the entry is clicked only while it shows something else.
 */
export async function showContainer(page: Page, title: string): Promise<Locator> {
  const entry = activityBarEntry(page, title);
  await entry.waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
  const li = entry.locator('xpath=..');
  const sidebar = page.locator('.part.sidebar');
  const wanted = title.toLowerCase();
  const showsIt = async () =>
    (await sidebar.isVisible()) &&
    (
      (await sidebar
        .locator('.composite.title')
        .innerText({ timeout: 1_000 })
        .catch(() => '')) ?? ''
    )
      .toLowerCase()
      .includes(wanted);
  if (!((await li.getAttribute('class')) ?? '').includes('checked')) await entry.click();
  for (let attempt = 0; ; attempt++) {
    const shown = await waitFor(showsIt, { message: `the side bar showing ${title}`, timeoutMs: 10_000 }).then(
      () => true,
      () => false,
    );
    if (shown) return sidebar;
    if (attempt === 2) throw new Error(`the side bar did not show ${title} after ${attempt + 1} clicks`);
    await entry.click();
  }
}

/**
 * Expands (or collapses) a tree row, whatever state an earlier test left it in. A click can land while
 * the view redraws (a message appearing above the tree moves the rows): then it is made again.
 */
export async function expandRow(row: Locator, expanded: boolean): Promise<void> {
  const state = async () => (await row.getAttribute('aria-expanded')) === 'true';
  for (let attempt = 0; ; attempt++) {
    if ((await state()) !== expanded) await row.click();
    const done = await waitFor(state, {
      message: `the row to be ${expanded ? 'expanded' : 'collapsed'}`,
      until: (v) => v === expanded,
      timeoutMs: 10_000,
    }).then(
      () => true,
      () => false,
    );
    if (done) return;
    if (attempt === 2)
      throw new Error(`the row was not ${expanded ? 'expanded' : 'collapsed'} after ${attempt + 1} clicks`);
  }
}

/** Top-level rows of the tree in the side bar (children have aria-level 2). */
export function topLevelRows(page: Page): Locator {
  return page.locator('.part.sidebar .monaco-list-row[aria-level="1"]');
}

/**
 * Runs a command through the command palette (F1), by its title as the palette shows it. With
 * `nextInput`, the quick input is left to whatever the command shows next (an input box), and the
 * palette is opened with Escape rather than a click, which could land in an open editor.
 *
 * The palette closes when the workbench moves focus (a webview editor or a notification taking it a
 * moment after the click), so an attempt whose palette closed before it was typed into is made again,
 * at most three times; the last failure is the one reported.
 */
export async function runFromPalette(page: Page, title: string, opts: { nextInput?: boolean } = {}): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input[type="text"], .quick-input-box input').first();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (opts.nextInput || attempt > 1) await page.keyboard.press('Escape');
    else
      await page
        .locator('.monaco-workbench')
        .click({ position: { x: 600, y: 300 } })
        .catch(() => undefined);
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 20_000 });
      await input.fill(`>${title}`, { timeout: 5_000 });
      const row = widget.locator('.monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 20_000 });
      await row.click({ timeout: 5_000 });
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (lastError) throw lastError;
  if (opts.nextInput) return;
  await widget.waitFor({ state: 'hidden', timeout: 20_000 }).catch(() => undefined);
}

// Playwright helpers for the VS Code web workbench (code-server 4.100.3 = VS Code 1.100.3 DOM).
import type { Locator, Page } from 'playwright-core';

/** Generous but bounded: the workbench needs a few seconds on a busy 2-core machine. */
export const WORKBENCH_TIMEOUT_MS = 90_000;

export async function openWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: WORKBENCH_TIMEOUT_MS });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
  // The status bar renders once the workbench has restored its parts.
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
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

export function activityBarEntry(page: Page, title: string): Locator {
  return page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title}"]`);
}

/** Opens a view container from the activity bar (idempotent: does not toggle it closed). */
export async function showContainer(page: Page, title: string): Promise<Locator> {
  const entry = activityBarEntry(page, title);
  await entry.waitFor({ state: 'visible', timeout: WORKBENCH_TIMEOUT_MS });
  const li = entry.locator('xpath=..');
  if (!((await li.getAttribute('class')) ?? '').includes('checked')) await entry.click();
  const sidebar = page.locator('.part.sidebar');
  await sidebar.waitFor({ state: 'visible', timeout: 30_000 });
  return sidebar;
}

/** Top-level rows of the tree in the side bar (children have aria-level 2). */
export function topLevelRows(page: Page): Locator {
  return page.locator('.part.sidebar .monaco-list-row[aria-level="1"]');
}

/**
 * Runs a command through the command palette (F1), by its title as the palette shows it. With
 * `nextInput`, the quick input is left to whatever the command shows next (an input box), and the
 * palette is opened with Escape rather than a click, which could land in an open editor.
 */
export async function runFromPalette(page: Page, title: string, opts: { nextInput?: boolean } = {}): Promise<void> {
  if (opts.nextInput) await page.keyboard.press('Escape');
  else
    await page
      .locator('.monaco-workbench')
      .click({ position: { x: 600, y: 300 } })
      .catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget .quick-input-box input');
  await input.first().waitFor({ state: 'visible', timeout: 20_000 });
  await input.first().fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
  if (opts.nextInput) return;
  await page
    .locator('.quick-input-widget')
    .waitFor({ state: 'hidden', timeout: 20_000 })
    .catch(() => undefined);
}

// What the runner hands the browser tests: the page on a code-server with the VSIX installed, the
// stack behind it, and where screenshots go. Set by ui.e2e.ts (its before hook) for the ui/*.test.js files it loads.
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CodeServer } from '../../../devkit/codeServer';
import type { Stack } from '../../../devkit/stack';

export interface UiContext {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  server: CodeServer;
  stack: Stack;
  /** Workspace with a .env pointing at the stack and demo runs seeded for its scope. */
  workspace: string;
  /** Workspace without a .env (not configured). */
  emptyWorkspace: string;
  screenshotsDir: string;
  schedulerIntervalMs: number;
}

let current: UiContext | undefined;

export function setUiContext(ctx: UiContext | undefined): void {
  current = ctx;
}

export function ui(): UiContext {
  if (!current) throw new Error('the UI context is not set: ui tests are run by test/e2e/ui.e2e.ts');
  return current;
}

/** Saves a full-page screenshot under test-results/ and returns its path. */
export async function screenshot(name: string): Promise<string> {
  const { page, screenshotsDir } = ui();
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// What the workbench showed the user, recorded from the page: the text of every notification toast
// (including ones that disappear by themselves) and every JavaScript dialog (alert/confirm/prompt,
// which data rendered as HTML could open). Survives navigation: installed on the browser context.
import type { BrowserContext } from 'playwright-core';

export interface Shown {
  notifications: string[];
  dialogs: string[];
}

export async function captureShown(context: BrowserContext): Promise<Shown> {
  const shown: Shown = { notifications: [], dialogs: [] };
  await context.exposeBinding('__ehgShown', (_source, text: unknown) => {
    if (typeof text === 'string') shown.notifications.push(text);
  });
  await context.addInitScript(() => {
    const seen = new WeakSet<object>();
    const g = globalThis as unknown as { document: any; MutationObserver: any; __ehgShown?: (t: string) => void };
    const report = () => {
      for (const el of g.document.querySelectorAll('.notification-list-item-message')) {
        const text = (el.textContent ?? '').trim();
        if (seen.has(el) || !text) continue;
        seen.add(el);
        g.__ehgShown?.(text);
      }
    };
    new g.MutationObserver(report).observe(g.document, { childList: true, subtree: true, characterData: true });
  });
  context.on('page', (page) => watchDialogs(page, shown));
  for (const page of context.pages()) watchDialogs(page, shown);
  return shown;
}

function watchDialogs(page: import('playwright-core').Page, shown: Shown): void {
  page.on('dialog', (d) => {
    shown.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
}

// The Chromium the browser tests, the bench and the screenshots drive (Debian's package, or
// CHROMIUM_PATH), launched with the same flags everywhere: no sandbox (root in CI), no GPU, and none
// of its own background traffic (component updates, sync, QUIC), so only the workbench talks.
import * as fs from 'fs';
import { chromium, Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches it (60 s at most), or says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

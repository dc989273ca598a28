// mocha's root hooks for the e2e stage (`--require` in test/e2e/.mocharc.json): before everything, a
// clean results folder and the start of the editor, the browser, the stacks and the in-host lanes (in
// the background: the package checks need none of them, the other suites await `setup()`); after
// everything, every server, editor, browser and folder is stopped or removed. An interruption stops
// them too, and fails the run.
import * as fs from 'fs';
import * as path from 'path';
import { releaseAll } from '../../../devkit/cleanup';
import { CI, log, RESULTS_DIR } from './env';
import { allLanesDone, ownSignalHandler, setup, stopLanes } from './lanes';

let released = false;
async function stopEverything(): Promise<void> {
  if (released) return;
  released = true;
  await releaseAll(log, 20_000);
}

function onSignal(signal: NodeJS.Signals): void {
  console.log(`\n[e2e] interrupted (${signal}): stopping the stacks, editors and the browser`);
  stopLanes();
  void stopEverything().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}
const handler = onSignal as (...args: unknown[]) => void;
ownSignalHandler(handler);
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

export const mochaHooks = {
  beforeAll(): void {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    for (const f of fs.readdirSync(RESULTS_DIR)) fs.rmSync(path.join(RESULTS_DIR, f), { recursive: true, force: true });
    log(`results, logs and screenshots: ${RESULTS_DIR}${CI ? ' (CI: a missing editor or browser is a failure)' : ''}`);
    // Started now, awaited by the suites that need it; a failure fails each of them.
    setup().catch(() => undefined);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    stopLanes();
    await allLanesDone().catch(() => undefined);
    await stopEverything();
  },
};

// Extension-host memory over refresh cycles, and the request count at the moment activate() resolves,
// measured inside the host by scripts/bench/inhost/memory.ts. The extension is a development copy of
// the packaged one (same dist/extension.js and manifest, except `activationEvents` emptied so that the
// in-host probe, not onStartupFinished, triggers activation and can observe the instant it returns).
import * as fs from 'fs';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, startCodeServer } from '../codeServer';
import { openWorkbench } from '../../test/e2e/ui/workbench';
import type { Stack } from '../../test/stack';
import { EXT_ID, makeWorkspace } from './editor';
import { INHOST_CONFIG_ENV, InHostConfig, InHostResults } from './inhost/shared';
import { log, onCleanup, round, sleep, tempDir } from './util';

export interface MemoryFigures extends InHostResults {
  heapGrowthMb: number;
  firstRequestAfterActivateMs: number | null;
  gatewayRequestsBeforeActivate: number;
}

export async function memorySession(stack: Stack, browser: Browser, cycles: number): Promise<MemoryFigures> {
  const root = tempDir('ehg-bench-inhost-');
  const dev = path.join(root, 'ehg-telemetry-dev');
  fs.mkdirSync(path.join(dev, 'dist'), { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  manifest.activationEvents = [];
  fs.writeFileSync(path.join(dev, 'package.json'), JSON.stringify(manifest, null, 2));
  // Every bundle: the data layer (dist/supabaseBackend.js) is loaded lazily by dist/extension.js.
  for (const f of fs.readdirSync(path.join(REPO_ROOT, 'dist'))) if (f.endsWith('.js')) fs.copyFileSync(path.join(REPO_ROOT, 'dist', f), path.join(dev, 'dist', f));
  fs.cpSync(path.join(REPO_ROOT, 'media'), path.join(dev, 'media'), { recursive: true });
  const workspace = makeWorkspace(root, 'inhost-workspace', stack);
  const resultsFile = path.join(root, 'results.json');
  const configFile = path.join(root, 'config.json');
  const cfg: InHostConfig = { resultsFile, extensionId: EXT_ID, cycles, warmup: 50 };
  fs.writeFileSync(configFile, JSON.stringify(cfg));
  const entry = path.join(REPO_ROOT, 'out', 'scripts', 'bench', 'inhost', 'memory.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing (run \`npm run compile\`)`);
  const server = await startCodeServer({ env: { [INHOST_CONFIG_ENV]: configFile }, logFile: path.join(root, 'code-server.log') });
  const stopServer = onCleanup('code-server (in-host)', () => server.stop());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const closeContext = onCleanup('browser context (in-host)', () => context.close());
  try {
    const page = await context.newPage();
    stack.gateway.clearLog();
    await openWorkbench(page, server.workbenchUrl(workspace, { extensionDevelopmentPath: dev, extensionTestsPath: entry }));
    log(`memory: workbench up; in-host probe running ${cycles} refresh cycles`);
    const deadline = Date.now() + 8 * 60_000;
    let res: InHostResults | undefined;
    for (;;) {
      try { res = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as InHostResults; } catch { /* not yet */ }
      if (res?.done) break;
      if (server.exited()) throw new Error(`code-server exited:\n${server.output().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`the in-host probe did not finish in time (last: ${JSON.stringify(res)})`);
      await sleep(500);
    }
    if (res.error) throw new Error(`in-host probe failed: ${res.error}`);
    const ours = stack.gateway.requestLog.filter((e) => e.role === 'service_role').map((e) => Date.parse(e.at));
    const act = res.activatedAt ?? NaN;
    return {
      ...res,
      heapGrowthMb: round((res.heapAfterMb ?? NaN) - (res.heapBeforeMb ?? NaN), 2),
      firstRequestAfterActivateMs: ours.length ? ours[0] - act : null,
      gatewayRequestsBeforeActivate: ours.filter((t) => t < act).length,
    };
  } finally {
    await closeContext();
    await stopServer();
  }
}

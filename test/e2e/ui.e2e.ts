// The browser suites (ui/*.test.js) against the packaged VSIX, installed with --install-extension into
// a code-server of their own on the web stack, and driven through the page. Their files are loaded
// inside this describe, so its hooks give them the editor and keep its evidence for the key scan.
import * as path from 'path';
import { makeEhgWorkspace, makeWorkspace } from './backend';
import {
  installedEditor,
  keepEvidence,
  ONLY,
  RESULTS_DIR,
  requireSuiteFiles,
  SCHEDULER_INTERVAL_MS,
  SERIAL,
  browser,
} from './harness/env';
import { allLanesDone, local, setup } from './harness/lanes';
import { setUiContext } from './ui/context';

if (ONLY.has('ui'))
  describe('ui', function () {
    this.timeout(180_000);
    let editor: Awaited<ReturnType<typeof installedEditor>> | undefined;
    let failures = 0;

    before(async function () {
      this.timeout(10 * 60_000);
      const { root, web } = await setup();
      // With E2E_LANES=serial the in-host groups use this stack too: they go first.
      if (SERIAL) await allLanesDone();
      const { stack } = local(web);
      const envFor = (key: string) => ({ SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: key });
      const workspace = makeEhgWorkspace(root, 'ui-workspace', envFor(stack.keys.serviceRole));
      const emptyWorkspace = makeWorkspace(root, 'not-configured-workspace');
      await stack.scheduler?.start();
      await stack.scheduler?.setBreaker('CLOSED');
      editor = await installedEditor(root, 'ui');
      setUiContext({
        browser: browser(),
        context: editor.context,
        page: editor.page,
        server: editor.server,
        stack,
        workspace,
        emptyWorkspace,
        screenshotsDir: RESULTS_DIR,
        schedulerIntervalMs: SCHEDULER_INTERVAL_MS,
      });
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && editor)
        await editor.page
          .screenshot({ path: path.join(RESULTS_DIR, `ui-failure-${++failures}.png`) })
          .catch(() => undefined);
    });

    after(async function () {
      this.timeout(120_000);
      setUiContext(undefined);
      if (!editor) return;
      await keepEvidence('ui', editor.server.userDataDir, editor.context, editor.shown, editor.consoleLog);
      await editor.closeContext().catch(() => undefined);
      await editor.stopServer();
    });

    requireSuiteFiles(path.join(__dirname, 'ui'));
  });

// The security browser suites (security/*.test.js) against the packaged VSIX on the web stack: hostile
// text in real hovers, Configure Connection… typed in, a workspace trying to redirect the key. Their
// files are loaded inside this describe; the last check reads the extension host's log.
import * as fs from 'fs';
import * as path from 'path';
import { onCleanup } from '../../devkit/cleanup';
import { makeWorkspace } from './backend';
import {
  assertNoExtensionErrors,
  installedEditor,
  keepEvidence,
  ONLY,
  RESULTS_DIR,
  requireSuiteFiles,
  securityKeys,
  SERIAL,
} from './harness/env';
import { allLanesDone, local, setup } from './harness/lanes';
import { setSecurityContext } from './security/context';
import { startRecordingServer } from './security/recorder';

if (ONLY.has('security'))
  describe('security', function () {
    this.timeout(180_000);
    let editor: Awaited<ReturnType<typeof installedEditor>> | undefined;
    let closeRecorder: (() => Promise<void>) | undefined;
    let failures = 0;

    before(async function () {
      this.timeout(10 * 60_000);
      const { root, web } = await setup();
      if (SERIAL) await allLanesDone();
      const { stack, tap } = local(web);
      await stack.scheduler?.start();
      await stack.scheduler?.setBreaker('CLOSED');
      // Distinctive keys (a unique claim each) that the gateway accepts, so the scan cannot miss them.
      const scanId = Date.now().toString(36);
      const envKey = stack.makeJwt({ role: 'service_role', ref: 'localstack', e2e_scan: `security-env-${scanId}` });
      const userKey = stack.makeJwt({ role: 'service_role', ref: 'localstack', e2e_scan: `security-user-${scanId}` });
      Object.assign(securityKeys, { envKey, userKey });
      const recorder = await startRecordingServer();
      closeRecorder = onCleanup('recording server', () => recorder.close());
      const envWorkspace = makeWorkspace(root, 'security-env-workspace', {
        SUPABASE_URL: stack.url,
        SUPABASE_SERVICE_ROLE_KEY: envKey,
      });
      // Tries both ways a workspace could point the extension elsewhere: workspace settings, and a .env
      // URL without a key (hoping the stored key gets paired with it).
      const redirectWorkspace = makeWorkspace(root, 'security-redirect-workspace', { SUPABASE_URL: recorder.url });
      fs.mkdirSync(path.join(redirectWorkspace, '.vscode'), { recursive: true });
      fs.writeFileSync(
        path.join(redirectWorkspace, '.vscode', 'settings.json'),
        JSON.stringify({ 'ehgTelemetry.supabaseUrl': recorder.url, 'ehgTelemetry.useWorkspaceEnv': true }, null, 2),
      );
      editor = await installedEditor(root, 'security');
      setSecurityContext({
        context: editor.context,
        page: editor.page,
        server: editor.server,
        stack,
        tap,
        recorder,
        envWorkspace,
        redirectWorkspace,
        envKey,
        userKey,
        shown: editor.shown,
        screenshotsDir: RESULTS_DIR,
      });
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && editor)
        await editor.page
          .screenshot({ path: path.join(RESULTS_DIR, `security-failure-${++failures}.png`) })
          .catch(() => undefined);
    });

    after(async function () {
      this.timeout(120_000);
      setSecurityContext(undefined);
      if (editor) {
        await keepEvidence('security', editor.server.userDataDir, editor.context, editor.shown, editor.consoleLog);
        await editor.closeContext().catch(() => undefined);
        await editor.stopServer();
      }
      await closeRecorder?.();
    });

    requireSuiteFiles(path.join(__dirname, 'security'));

    // After the suites above (a describe runs after the ones declared before it).
    describe('after the browser security tests', () => {
      it('the extension host logged no error from the extension', () => {
        if (!editor) throw new Error('the security editor did not start');
        assertNoExtensionErrors(editor.server.userDataDir);
      });
    });
  });

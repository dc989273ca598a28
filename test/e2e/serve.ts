// Backend for debugging the in-host suite from a desktop VS Code (.vscode/launch.json "Extension
// Tests"): the local stack, the control endpoint, a workspace with a .env, and the config file the
// suite reads, at fixed paths under .vscode-test/e2e-dev/. Runs until stopped (Ctrl-C / task end).
//
//   npm run compile && node out/test/e2e/serve.js
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../devkit/codeServer';
import { startStack } from '../../devkit/stack';
import { makeWorkspace, startControlServer } from './backend';
import { InHostConfig } from './shared';

const DEV_DIR = path.join(REPO_ROOT, '.vscode-test', 'e2e-dev');

async function main(): Promise<void> {
  fs.rmSync(DEV_DIR, { recursive: true, force: true });
  fs.mkdirSync(DEV_DIR, { recursive: true });
  const stack = await startStack({ scheduler: { intervalMs: 2_000 } });
  const control = await startControlServer(stack);
  const workspace = makeWorkspace(DEV_DIR, 'workspace', {
    SUPABASE_URL: stack.url,
    SUPABASE_SERVICE_ROLE_KEY: stack.keys.serviceRole,
  });
  const config: InHostConfig = {
    phase: 'first-open', // EHG_E2E_PHASE in the launch configuration picks another
    resultsFile: path.join(DEV_DIR, 'results.json'),
    supabaseUrl: stack.url,
    keys: stack.keys,
    databaseUrl: stack.databaseUrl,
    workspace,
    controlUrl: control.url,
    schedulerIntervalMs: 2_000,
  };
  fs.writeFileSync(path.join(DEV_DIR, 'config.json'), JSON.stringify(config, null, 2));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await control.close();
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  console.log(`stack ${stack.url}, database ${stack.databaseUrl}`);
  console.log(`workspace ${workspace}; config ${path.join(DEV_DIR, 'config.json')}; results ${config.resultsFile}`);
  console.log('e2e backend ready');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

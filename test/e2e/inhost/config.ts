// The in-host suite's configuration: a JSON file the runner writes, named by an environment variable
// that code-server passes on to the extension host.
import * as fs from 'fs';
import { CONFIG_ENV, InHostConfig, InHostPhase } from '../shared';

export function readConfig(): InHostConfig {
  const file = process.env[CONFIG_ENV];
  if (!file)
    throw new Error(
      `${CONFIG_ENV} is not set: the in-host suite is started by the e2e stage (test/e2e/harness/lanes.ts) or electron.ts`,
    );
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as InHostConfig;
  // For debugging from .vscode/launch.json: pick a phase without rewriting the file.
  const phase = process.env.EHG_E2E_PHASE as InHostPhase | undefined;
  return phase ? { ...config, phase } : config;
}

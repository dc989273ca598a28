// The in-host suite's configuration: a JSON file the runner writes, named by an environment variable
// that code-server passes on to the extension host.
import * as fs from 'fs';
import { CONFIG_ENV, InHostConfig } from '../shared';

export function readConfig(): InHostConfig {
  const file = process.env[CONFIG_ENV];
  if (!file) throw new Error(`${CONFIG_ENV} is not set: the in-host suite is started by test/e2e/run.ts (or electron.ts)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as InHostConfig;
}

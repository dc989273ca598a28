// Commands load lazily (src/ui/lazyCommands.ts registers COMMAND_IDS at activation): every command
// the manifest contributes must be in the list, or it would exist in the palette and do nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_IDS, OTHER_COMMAND_IDS } from '../../src/ui/commandIds';

describe('command registration', () => {
  it('registers exactly the commands package.json contributes', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      contributes: { commands: Array<{ command: string }> };
    };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    const registered = [...COMMAND_IDS, ...OTHER_COMMAND_IDS].map((id) => `ehgTelemetry.${id}`).sort();
    assert.deepEqual(registered, contributed);
  });
});

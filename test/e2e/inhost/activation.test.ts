// First open, part 1: the extension activates by itself and registers every command it contributes.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from '../shared';
import { testing, waitFor } from './helpers';

describe('activation', () => {
  it('activates on startup without being asked', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not installed in this extension host`);
    // onStartupFinished: it activates on its own shortly after the workbench is up.
    await waitFor(() => ext.isActive, {
      message: 'the extension to activate by itself',
      until: (a) => a,
      timeoutMs: 30_000,
    });
  });

  it('registers every command in contributes.commands', async () => {
    await testing();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed: string[] = (ext.packageJSON.contributes?.commands ?? []).map(
      (c: { command: string }) => c.command,
    );
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('exposes its test API and sees the trusted workspace', async () => {
    const t = await testing();
    await t.settle();
    const s = t.state();
    assert.strictEqual(vscode.workspace.isTrusted, true);
    assert.strictEqual(s.trusted, true);
    assert.strictEqual(s.envRead, true, `the workspace .env was not read (state ${JSON.stringify(s)})`);
    assert.strictEqual(s.canWrite, true, `a service-role key should be able to write (state ${JSON.stringify(s)})`);
  });
});

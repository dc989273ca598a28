// The stack leaves nothing behind: after stop(), after its process is SIGKILLed (no handler runs),
// and it explains itself when PostgREST cannot be started.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStack } from '../../devkit/stack';
import { repoRoot } from '../../devkit/stack/postgres';
import { startPostgrest } from '../../devkit/stack/postgrest';
import { processAlive as alive, waitFor } from '../../devkit/wait';

function until(what: string, ok: () => boolean, ms: number): Promise<boolean> {
  return waitFor(ok, { message: what, timeoutMs: ms, intervalMs: 100 });
}

describe('stack: nothing left behind', function () {
  this.timeout(60_000);

  it('stop() ends PostgREST and PostgreSQL and removes the data directory', async function () {
    const s = await startStack();
    const [{ dir }] = await s.query<{ dir: string }>(`select current_setting('data_directory') as dir`);
    const pm = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const pgrst = s.postgrest.pid;
    assert.ok(alive(pgrst) && alive(pm));
    await s.stop();
    assert.equal(alive(pgrst), false, 'PostgREST gone');
    assert.equal(alive(pm), false, 'postmaster gone');
    assert.equal(fs.existsSync(dir), false, 'data dir removed');
  });

  it('SIGKILL of the process that started the stack: its watchdogs end PostgREST and PostgreSQL and remove the data directory', async function () {
    const script = `
      const { startStack } = require(${JSON.stringify(path.join(repoRoot(), 'out', 'devkit', 'stack', 'index.js'))});
      startStack().then(async (s) => {
        const [{ dir }] = await s.query("select current_setting('data_directory') as dir");
        const pm = Number(require('fs').readFileSync(dir + '/postmaster.pid', 'utf8').split('\\n')[0]);
        process.stdout.write(JSON.stringify({ dir, pm, pgrst: s.postgrest.pid }) + '\\n');
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ dir: string; pm: number; pgrst: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as { dir: string; pm: number; pgrst: number });
      });
      child.on('exit', (c) => reject(new Error(`stack process exited early (${c})`)));
    });
    assert.ok(alive(info.pm) && alive(info.pgrst) && fs.existsSync(info.dir));
    child.kill('SIGKILL');
    await until('PostgREST to end', () => !alive(info.pgrst), 15_000);
    await until('the postmaster to end', () => !alive(info.pm), 15_000);
    await until('the data directory to go', () => !fs.existsSync(info.dir), 15_000);
  });

  it('a missing or unrunnable PostgREST binary fails the start with the fix in the message', async function () {
    await assert.rejects(
      startPostgrest({
        authenticatorUrl: 'postgres://x@127.0.0.1:1/x',
        jwtSecret: 'x'.repeat(32),
        binary: path.join(os.tmpdir(), 'no-such-postgrest'),
      }),
      /PostgREST binary is missing at .*Fix: run `npm ci`/,
    );
    const notExecutable = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgrst-')), 'postgrest');
    fs.writeFileSync(notExecutable, 'not a program', { mode: 0o644 });
    try {
      await assert.rejects(
        startPostgrest({
          authenticatorUrl: 'postgres://x@127.0.0.1:1/x',
          jwtSecret: 'x'.repeat(32),
          binary: notExecutable,
        }),
        /PostgREST could not be started from .*Fix: check the file is executable/,
      );
    } finally {
      fs.rmSync(path.dirname(notExecutable), { recursive: true, force: true });
    }
  });
});

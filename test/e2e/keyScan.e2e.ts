// The key scan, after every editor of the run has closed: every key the tests used, in everything
// every editor and browser context kept. Keys may be only in SecretStorage (code-server keeps it
// AES-sealed in one localStorage item, so it is listed, not searched) and in the workspace .env files
// that hold them. Anything the harness could not keep for the scan fails here as a test of its own.
import * as assert from 'assert';
import * as fs from 'fs';
import Mocha from 'mocha';
import * as path from 'path';
import { evidence, filesNamed, harnessProblems, log, ONLY, securityKeys, TOTAL_TIMEOUT_MS } from './harness/env';
import { allLanesDone, plannedPhases, setup } from './harness/lanes';
import { KeyScanner, Secret, storageItems } from './security/keyScan';

describe('key scan', function () {
  const scanner = { current: undefined as KeyScanner | undefined };
  const allowed: Array<{ secret: string; where: string }> = [];
  const secretStorageItems: string[] = [];
  const texts: Record<string, string[]> = { settings: [], extensionLogs: [], storage: [], notifications: [] };
  let stackUrl = '';

  before(async function () {
    this.timeout(TOTAL_TIMEOUT_MS);
    // Nothing to scan when this run opens no editor at all (E2E_ONLY without an editor group).
    if (!plannedPhases().length && !ONLY.has('ui') && !ONLY.has('security')) this.skip();
    const s = await setup();
    await allLanesDone();
    for (const p of harnessProblems)
      this.test!.parent!.addTest(
        new Mocha.Test(p.title, () => {
          throw new Error(p.error);
        }),
      );
    if (!evidence.length) return;
    stackUrl = s.web.url;
    const secrets: Secret[] = [];
    for (const b of s.backends)
      secrets.push(
        { name: `service-role key (${b.name} stack; .env of its workspaces)`, value: b.keys.serviceRole },
        { name: `anon key (${b.name} stack)`, value: b.keys.anon },
        { name: `authenticated key (${b.name} stack)`, value: b.keys.authenticated },
      );
    if (s.restrictedToken) secrets.push({ name: 'restricted workspace .env key', value: s.restrictedToken });
    if (securityKeys.envKey) secrets.push({ name: 'security .env key', value: securityKeys.envKey });
    if (securityKeys.userKey)
      secrets.push({ name: 'key typed into Configure Connection…', value: securityKeys.userKey });
    const sc = new KeyScanner(secrets);
    scanner.current = sc;
    for (const e of evidence) {
      allowed.push(...sc.dir(e.userDataDir, `${e.group} user-data-dir`));
      for (const f of filesNamed(e.userDataDir, 'settings.json'))
        texts.settings.push(`${e.group}\n${fs.readFileSync(f, 'utf8')}`);
      for (const f of filesNamed(path.join(e.userDataDir, 'logs'), 'EHG Telemetry.log'))
        texts.extensionLogs.push(`${e.group}\n${fs.readFileSync(f, 'utf8')}`);
      for (const f of filesNamed(e.userDataDir, 'state.vscdb'))
        texts.storage.push(`${e.group} ${f}\n${fs.readFileSync(f).toString('latin1')}`);
      for (const item of storageItems(e.storage)) {
        if (item.secretStorage) {
          secretStorageItems.push(`${e.group}: ${item.where} (${item.text.length} characters)`);
          allowed.push(
            ...sc.inText(item.text).map((secret) => ({ secret, where: `${e.group}: SecretStorage (${item.where})` })),
          );
          continue;
        }
        texts.storage.push(`${e.group} ${item.where}\n${item.text}`);
        sc.text(item.text, `${e.group} browser storage: ${item.where}`);
      }
      e.shown.notifications.forEach((n, i) => sc.text(n, `${e.group} notification #${i + 1}`));
      texts.notifications.push(...e.shown.notifications.map((n) => `${e.group}: ${n}`));
      if (fs.existsSync(e.consoleLog)) sc.bytes(fs.readFileSync(e.consoleLog), `${e.group} browser console`);
    }
    // Workspaces: a key may sit in the .env at a workspace's root, nowhere else.
    for (const ws of fs.readdirSync(s.root).filter((d) => d !== 'editors')) {
      allowed.push(
        ...sc.dir(
          path.join(s.root, ws),
          `workspace ${ws}`,
          (f) => path.basename(f) === '.env' && path.dirname(f) === path.join(s.root, ws),
        ),
      );
    }
    const { files, bytes, texts: nTexts } = sc.stats;
    log(
      `key scan: ${evidence.length} editors, ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${nTexts} texts; allowed places: ${JSON.stringify(allowed)}; SecretStorage items: ${JSON.stringify(secretStorageItems)}`,
    );
  });

  it('no key in editor logs, settings, state.vscdb, browser storage, notifications or console outside SecretStorage and .env', () => {
    assert.ok(evidence.length > 0, 'at least one editor left evidence to scan');
    const sc = scanner.current!;
    assert.deepStrictEqual(
      sc.findings,
      [],
      `keys found where they must not be:\n${sc.findings.map((f) => `${f.secret} in ${f.where}`).join('\n')}`,
    );
  });

  it('finds what it must: each .env key in its .env, the configured URL in settings, the connection in the log, globalState and the sealed SecretStorage item in storage', () => {
    const envHits = allowed.filter((a) => a.where.startsWith('workspace '));
    assert.ok(envHits.length > 0, 'the scan found no key in any workspace .env (so it cannot find keys at all)');
    if (ONLY.has('security'))
      assert.ok(
        envHits.some((a) => a.where.includes('security-env-workspace')),
        `the security .env key in security-env-workspace: ${JSON.stringify(envHits)}`,
      );
    if (evidence.some((e) => e.group === 'security')) {
      const origin = new URL(stackUrl).origin;
      assert.ok(
        texts.settings.some((t) => t.startsWith('security') && t.includes(`"ehgTelemetry.supabaseUrl": "${stackUrl}"`)),
        "the security editor's user settings.json holds the configured URL (settings were scanned)",
      );
      assert.ok(
        texts.extensionLogs.some(
          (t) => t.startsWith('security') && t.includes(`Connection: ${origin} (from user settings)`),
        ),
        'the extension log of the security editor was scanned',
      );
      assert.ok(
        texts.storage.some(
          (t) => t.startsWith('security') && t.includes('ehgTelemetry.storedOrigins') && t.includes(origin),
        ),
        'globalState (ehgTelemetry.storedOrigins) was among the storage scanned',
      );
      assert.ok(
        secretStorageItems.some((t) => t.startsWith('security')),
        'SecretStorage (the sealed "secrets.provider" localStorage item) exists in the security browser context',
      );
      assert.ok(
        texts.notifications.some((t) => t.startsWith('security') && t.includes(`connected to ${origin}`)),
        'the notifications the user saw were scanned',
      );
    }
  });
});

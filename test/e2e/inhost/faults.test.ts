// The fault and bad-input suite (in-host phase "faults", trusted workspace, requestTimeoutSeconds 2).
// For every case: a clear message, no unhandled rejection or uncaught exception in the extension host,
// at most one notification per failure episode, the runs table unchanged except for what was meant,
// and recovery by itself once the fault ends (no Refresh after the fault is lifted).
import * as assert from 'assert';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { signJwt } from '../../../devkit/stack/jwt';
import {
  HostileRuns,
  insertHostileRuns,
  removeHostileRuns,
  writeHostileHeartbeat,
  writeNullHeartbeat,
} from '../hostile';
import { FaultSpec } from '../shared';
import { config, control, refresh, observeQuietFor, runsForScope, sql, testing, Testing, waitFor } from './helpers';
import {
  activeMarkup,
  assertDbUnchanged,
  assertNoCrashSince,
  crashCount,
  dbFingerprint,
  extensionLog,
  outsideCode,
  unescapeMarkdown,
} from './guards';

interface LogEntry {
  at: string;
  method: string;
  path: string;
  query: string;
  status: number;
}

const RECOVERY_MS = 60_000;
const HEALTHY = 'healthy';

function setFault(f: FaultSpec | null): Promise<unknown> {
  return control('gateway.setFault', f);
}

async function showRunsView(): Promise<void> {
  // The runs list is refreshed only while its view is visible (as a user has it open).
  await vscode.commands.executeCommand('ehgTelemetry.runs.focus');
}

function envFile(): string {
  return path.join(config.workspace, '.env');
}

function writeEnv(url: string, key: string): void {
  fs.writeFileSync(envFile(), `SUPABASE_URL=${url}\nSUPABASE_SERVICE_ROLE_KEY=${key}\n`);
}

const userConfig = () => vscode.workspace.getConfiguration('ehgTelemetry');

/** Waits, without asking for a refresh, until the status bar and the runs view are healthy again. */
async function recoversByItself(t: Testing, what: string): Promise<void> {
  await waitFor(() => t.statusBar(), {
    message: `${what}: the status bar to show a healthy scheduler again by itself`,
    until: (s) => s.state === HEALTHY,
    timeoutMs: RECOVERY_MS,
    intervalMs: 500,
  });
  await waitFor(() => t.state(), {
    message: `${what}: the runs view to load again by itself`,
    until: (s) => s.viewState === 'ok' || s.viewState === 'empty',
    timeoutMs: RECOVERY_MS,
    intervalMs: 500,
  });
}

/** Status-bar tooltip text (Markdown escapes removed) until it matches. */
async function statusSays(t: Testing, what: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const s = await waitFor(() => t.statusBar(), {
    message: `${what}: the status bar tooltip to say ${pattern}`,
    until: (x) => pattern.test(unescapeMarkdown(x.tooltip)),
    timeoutMs: timeoutMs,
    intervalMs: 250,
  });
  return unescapeMarkdown(s.tooltip);
}

/**
 * One failure episode: runs `body` (which starts and ends the fault), then checks what every case
 * must: at most `maxNotifications` pop-ups, no crash, the runs table unchanged.
 */
async function episode(t: Testing, what: string, body: () => Promise<void>, maxNotifications = 1): Promise<void> {
  const n0 = t.notifications();
  const c0 = crashCount();
  const db0 = await dbFingerprint();
  await body();
  const shown = t.notifications() - n0;
  assert.ok(
    shown <= maxNotifications,
    `${what}: ${shown} notifications for one failure episode (at most ${maxNotifications})`,
  );
  assertNoCrashSince(c0, what);
  await assertDbUnchanged(db0, what);
}

describe('faults and bad input', function () {
  this.timeout(120_000);
  let t: Testing;
  let hostile: HostileRuns | undefined;
  const originalEnv = fs.readFileSync(envFile(), 'utf8');
  const c0 = crashCount();

  before(async () => {
    t = await testing();
    await showRunsView();
  });

  after(async () => {
    // Leave the database and the files as they were for whatever runs next (the gateway fault that
    // the last test leaves behind is lifted by the runner after it has measured the shutdown).
    fs.writeFileSync(envFile(), originalEnv);
    await removeHostileRuns(sql, hostile).catch(() => undefined);
    await control('scheduler.start').catch(() => undefined);
  });

  describe('the backend is unreachable', () => {
    it('down at start: says unreachable, at most one notification, writes nothing, recovers and enqueues once when it is back', async () => {
      assert.strictEqual(config.gatewayDownAtStart, true, 'the runner closes the gateway before opening the window');
      assert.strictEqual(
        await control('gateway.isListening'),
        false,
        'the gateway is still down when the suite starts',
      );
      const origin = new URL(config.supabaseUrl).origin;
      const tip = await statusSays(t, 'down at start', /unreachable/i);
      assert.ok(tip.includes(origin), `the message names the backend (${origin}): ${tip}`);
      await waitFor(() => t.state(), {
        message: 'the runs view to say unreachable (not "no runs")',
        until: (s) => s.viewState === 'unreachable',
        timeoutMs: 30_000,
      });
      // Let it retry by itself at least once more while still down: still one pop-up at most.
      const reads = t.heartbeatReads();
      await waitFor(() => t.heartbeatReads(), {
        message: 'an automatic retry while the backend is down',
        until: (n) => n > reads,
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      assert.ok(t.notifications() <= 1, `${t.notifications()} notifications while down at start (at most 1)`);
      assert.ok(config.dbFingerprintBefore, 'the runner took a database fingerprint before opening the window');
      await assertDbUnchanged(config.dbFingerprintBefore, 'while the backend was down at start');
      assert.deepStrictEqual(
        (await runsForScope(config.workspace)).map((r) => r.triggered_by),
        [],
        'nothing enqueued while down',
      );

      await control('gateway.listen');
      await recoversByItself(t, 'down at start');
      // The one intended write: the SESSION_START run the workspace open asked for, retried until it got through.
      const rows = await waitFor(() => runsForScope(config.workspace), {
        message: 'the SESSION_START run once the backend is back',
        until: (r) => r.length > 0,
        timeoutMs: RECOVERY_MS,
        intervalMs: 500,
      });
      await t.settle();
      // An absence: a duplicate insert from the retries would show up within this.
      await observeQuietFor(1_500, 'no second SESSION_START from the retries');
      const after = await runsForScope(config.workspace);
      assert.deepStrictEqual(
        after.map((r) => [r.triggered_by, r.status]),
        [['SESSION_START', 'QUEUED']],
        `exactly one SESSION_START run: ${JSON.stringify(after)}`,
      );
      await assertDbUnchanged(
        config.dbFingerprintBefore,
        'down at start (besides the SESSION_START run)',
        after.map((r) => r.run_id),
      );
      assert.ok(rows.length >= 1);
      assert.ok(t.notifications() <= 1, `${t.notifications()} notifications for the start-up episode (at most 1)`);
      assertNoCrashSince(c0, 'down at start');
    });

    it('down mid-session: keeps the loaded runs, says unreachable once, recovers by itself', async () => {
      await recoversByItself(t, 'before the outage');
      const listed = (await t.runsTree()).map((i) => i.runId);
      await episode(t, 'down mid-session', async () => {
        await control('gateway.close');
        await refresh(); // a user pressing Refresh while it is down
        await statusSays(t, 'down mid-session', /unreachable/i);
        await refresh();
        assert.deepStrictEqual(
          (await t.runsTree()).map((i) => i.runId),
          listed,
          'the runs loaded before stay listed (an outage is not "no runs")',
        );
        await control('gateway.listen');
        await recoversByItself(t, 'down mid-session');
      });
    });

    it('flapping (down and up four times): at most one notification per outage, recovers by itself', async () => {
      const n0 = t.notifications();
      await episode(
        t,
        'flapping',
        async () => {
          for (let i = 0; i < 4; i++) {
            await control('gateway.close');
            await refresh(); // fails: the outage is noticed
            await statusSays(t, `flapping, outage ${i + 1}`, /unreachable/i);
            await control('gateway.listen');
            // The last outage ends by itself (recoversByItself below); the earlier ones with a Refresh that succeeds.
            if (i < 3) {
              await refresh();
              await waitFor(() => t.statusBar(), {
                message: `flapping, outage ${i + 1}: the status bar healthy again after a Refresh`,
                until: (s) => s.state === HEALTHY,
                timeoutMs: RECOVERY_MS,
              });
            }
          }
          await recoversByItself(t, 'flapping');
        },
        4,
      );
      assert.ok(t.notifications() > n0, 'the outages were noticed (at least one notification)');
    });

    it('answers slower than ehgTelemetry.requestTimeoutSeconds (2 s): abandoned at the limit, says so, recovers by itself', async () => {
      await episode(t, 'slow backend', async () => {
        await setFault({ delayMs: 6_000 });
        const started = Date.now();
        await refresh();
        const took = Date.now() - started;
        assert.ok(
          took < 4_500,
          `Refresh took ${took} ms against a backend answering in 6 s: requests were not abandoned at the 2 s limit`,
        );
        const tip = await statusSays(t, 'slow backend', /did not answer in time/i);
        assert.match(tip, /requestTimeoutSeconds/, 'the message says which setting sets the limit');
        await setFault(null);
        await recoversByItself(t, 'slow backend');
      });
    });
  });

  describe('error answers from the backend', () => {
    const cases: Array<{ status: number; says: RegExp }> = [
      { status: 401, says: /rejected the key \(401/ },
      { status: 403, says: /rejected the key \(403/ },
      { status: 404, says: /telemetry tables were not found .*\(404\)/ },
      { status: 500, says: /failed \(500/ },
    ];
    for (const c of cases) {
      it(`HTTP ${c.status}: "${c.says.source}", at most one notification, recovers by itself`, async () => {
        await recoversByItself(t, `before ${c.status}`);
        await episode(t, `HTTP ${c.status}`, async () => {
          await setFault({ status: c.status });
          await refresh();
          const tip = await statusSays(t, `HTTP ${c.status}`, c.says);
          assert.ok(!tip.includes(config.keys.serviceRole), 'the message does not contain the key');
          await refresh();
          await setFault(null);
          await recoversByItself(t, `HTTP ${c.status}`);
        });
      });
    }

    it('HTTP 503 with Retry-After: 8: says so and waits at least that long before asking again', async () => {
      await recoversByItself(t, 'before 503');
      await episode(t, 'HTTP 503', async () => {
        await control('gateway.clearLog');
        await setFault({ status: 503, retryAfter: 8, table: 'eva_scheduler_heartbeat' });
        await t.refreshHeartbeat();
        const tip = await statusSays(t, 'HTTP 503', /busy or unavailable \(503\)/);
        assert.match(tip, /wait 8 s/, 'the message says how long the backend asked to wait');
        await setFault(null);
        const log = await waitFor(() => control<LogEntry[]>('gateway.requestLog'), {
          message: 'the next heartbeat read after the 503',
          until: (l) => l.filter((e) => e.path.endsWith('/eva_scheduler_heartbeat')).some((e) => e.status === 200),
          timeoutMs: 30_000,
          intervalMs: 250,
        });
        const hb = log.filter((e) => e.path.endsWith('/eva_scheduler_heartbeat'));
        const refused = hb.find((e) => e.status === 503);
        const next = hb.find((e) => e.status === 200);
        assert.ok(refused && next, `heartbeat requests: ${JSON.stringify(hb)}`);
        const waited = Date.parse(next.at) - Date.parse(refused.at);
        assert.ok(waited >= 7_500, `asked again after ${waited} ms; Retry-After asked for 8 s`);
        await recoversByItself(t, 'HTTP 503');
      });
    });
  });

  describe('malformed and hostile rows', () => {
    let db0: string;

    before(async () => {
      await recoversByItself(t, 'before the hostile rows');
      hostile = await insertHostileRuns(sql, config.workspace);
      db0 = await dbFingerprint();
      const [size] = await sql<{ n: number }>(
        'select octet_length(output_ref::text) as n from telemetry_analysis_runs where run_id = $1',
        [hostile.hugeOutput],
      );
      assert.ok(size.n >= 1_000_000, `the large output_ref is ${size.n} bytes (want ≥ 1 MB)`);
      await refresh();
    });

    it('lists every hostile run in the tree with bounded, single-line labels', async () => {
      const c = crashCount();
      const items = await waitFor(() => t.runsTree(), {
        message: 'the hostile runs in the tree',
        until: (list) =>
          [hostile!.markup, hostile!.unknownStatus, hostile!.nulls, hostile!.long, hostile!.hugeOutput].every((id) =>
            list.some((i) => i.runId === id),
          ),
        timeoutMs: 20_000,
      });
      for (const i of items.filter((x) => x.runId && hostile!.all.includes(x.runId))) {
        for (const [field, v] of [
          ['label', i.label],
          ['description', i.description],
        ] as const) {
          assert.ok(v.length <= 300, `${field} of ${i.runId} is ${v.length} characters`);
          assert.ok(!/[\r\n]/.test(v), `${field} of ${i.runId} spans lines`);
        }
      }
      const unknown = items.find((i) => i.runId === hostile!.unknownStatus)!;
      assert.match(unknown.contextValue, /\bstatus-unknown\b/, 'an unknown status is shown as unknown');
      assert.doesNotMatch(unknown.contextValue, /\bcancellable\b/, 'an unknown status is not offered for cancelling');
      assertNoCrashSince(c, 'listing hostile rows');
    });

    it('tooltips (Markdown) hold the hostile text only escaped: no link, image or HTML syntax', async () => {
      const items = (await t.runsTree()).filter((i) => i.runId && hostile!.all.includes(i.runId));
      assert.ok(items.length >= 5, `hostile items in the tree: ${items.length}`);
      for (const i of items) {
        assert.deepStrictEqual(
          activeMarkup(i.tooltip),
          [],
          `tooltip of ${i.runId} has active Markdown:\n${i.tooltip.slice(0, 2000)}`,
        );
        assert.ok(i.tooltip.length <= 6_000, `tooltip of ${i.runId} is ${i.tooltip.length} characters`);
      }
      const markup = items.find((i) => i.runId === hostile!.markup)!;
      // The data is shown (as text), not dropped: the test would pass vacuously otherwise.
      assert.ok(
        unescapeMarkdown(markup.tooltip).includes('<img src=x onerror=alert(1)>'),
        `the hostile text is shown literally: ${markup.tooltip}`,
      );
      const nulls = items.find((i) => i.runId === hostile!.nulls)!;
      assert.match(nulls.tooltip, /—/, 'missing values are shown as —');
    });

    it('expanding hostile, null, long and 1 MB runs gives a bounded list of plain-text rows', async () => {
      const c = crashCount();
      const started = Date.now();
      const items = await t.runsTree({ expand: true });
      const took = Date.now() - started;
      for (const id of [hostile!.markup, hostile!.nulls, hostile!.long, hostile!.hugeOutput, hostile!.unknownStatus]) {
        const item = items.find((i) => i.runId === id);
        assert.ok(item && item.children, `run ${id} expands`);
        assert.ok(
          item.children.length >= 1 && item.children.length <= 12,
          `run ${id} expands into ${item.children.length} rows`,
        );
        for (const k of item.children)
          assert.ok(
            k.label.length <= 600 && !/[\r\n]/.test(k.label),
            `child of ${id}: ${k.label.slice(0, 100)}… (${k.label.length} chars)`,
          );
      }
      const huge = items.find((i) => i.runId === hostile!.hugeOutput)!;
      // The shown findings end with "… and N more"; marks against the previous run (resolved ones) may follow.
      assert.ok(
        huge.children!.some((k) => /^… and \d+ more \(Show Run Details\)$/.test(k.label)),
        `the 1,500 bottlenecks end with "… and N more": ${JSON.stringify(huge.children)}`,
      );
      assert.ok(took < 20_000, `expanding took ${took} ms`);
      assertNoCrashSince(c, 'expanding hostile rows');
    });

    it('Show Run Details renders every hostile run with the data inside code spans only', async () => {
      const c = crashCount();
      for (const id of [hostile!.markup, hostile!.unknownStatus, hostile!.nulls, hostile!.long, hostile!.hugeOutput]) {
        const started = Date.now();
        await vscode.commands.executeCommand('ehgTelemetry.showRunDetails', { runId: id });
        const doc = await waitFor(() => t.lastDocument(), {
          message: `the details document of ${id}`,
          until: (d) => !!d && d.includes(id),
          timeoutMs: 20_000,
        });
        const took = Date.now() - started;
        assert.ok(took < 15_000, `details of ${id} took ${took} ms`);
        const prose = outsideCode(doc!);
        for (const bad of ['<img', '<a ', '](command:', '![i]'])
          assert.ok(
            !prose.includes(bad),
            `"${bad}" outside code in the details of ${id}: …${prose.slice(Math.max(0, prose.indexOf(bad) - 80), prose.indexOf(bad) + 80)}…`,
          );
        assert.ok(doc!.length <= 5_200_000, `details of ${id}: ${doc!.length} characters`);
        if (id === hostile!.markup)
          assert.ok(doc!.includes('onerror=alert(1)'), 'the hostile text is in the document (as code)');
      }
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      assertNoCrashSince(c, 'Show Run Details of hostile rows');
    });

    it('All Scopes lists the global all-null run and the 10,000-character scope without breaking', async () => {
      const c = crashCount();
      await vscode.commands.executeCommand('ehgTelemetry.showAllScopes');
      try {
        const items = await waitFor(() => t.runsTree(), {
          message: 'the global hostile runs under All Scopes',
          until: (l) =>
            l.some((i) => i.runId === hostile!.globalNulls) && l.some((i) => i.runId === hostile!.longScope),
          timeoutMs: 20_000,
        });
        for (const i of items.filter((x) => x.runId === hostile!.globalNulls || x.runId === hostile!.longScope)) {
          assert.deepStrictEqual(activeMarkup(i.tooltip), [], `tooltip of ${i.runId}`);
          assert.ok(
            i.tooltip.length <= 6_000 && i.label.length <= 300 && i.description.length <= 300,
            `bounded texts for ${i.runId}`,
          );
        }
      } finally {
        await vscode.commands.executeCommand('ehgTelemetry.showWorkspaceRuns');
      }
      assertNoCrashSince(c, 'All Scopes with hostile rows');
    });

    it('an unknown breaker state and hostile heartbeat text: shown as unknown, tooltip inert; nulls in every column do not break it', async () => {
      const c = crashCount();
      await control('scheduler.silence');
      try {
        await writeHostileHeartbeat(sql);
        await t.refreshHeartbeat();
        const s = await waitFor(() => t.statusBar(), {
          message: 'the status bar to show an unknown breaker state',
          until: (x) => x.state === 'breaker-unknown',
          timeoutMs: 15_000,
        });
        assert.deepStrictEqual(activeMarkup(s.tooltip), [], `status bar tooltip has active Markdown:\n${s.tooltip}`);
        assert.ok(unescapeMarkdown(s.tooltip).includes('MELTED'), `the unknown state is named: ${s.tooltip}`);
        assert.ok(
          s.text.length <= 80 && s.tooltip.length <= 6_000,
          `status bar text ${s.text.length} / tooltip ${s.tooltip.length} characters`,
        );
        await writeNullHeartbeat(sql);
        await t.refreshHeartbeat();
        const n = await waitFor(() => t.statusBar(), {
          message: 'the status bar to re-render the all-null heartbeat',
          until: (x) => x.state !== 'breaker-unknown',
          timeoutMs: 15_000,
        });
        assert.deepStrictEqual(activeMarkup(n.tooltip), [], 'status bar tooltip (nulls)');
      } finally {
        await control('scheduler.start');
      }
      await recoversByItself(t, 'hostile heartbeat');
      assertNoCrashSince(c, 'hostile heartbeat');
    });

    it('reading hostile rows wrote nothing', async () => {
      await assertDbUnchanged(db0, 'after listing, expanding and opening hostile rows');
    });
  });

  describe('bad settings', () => {
    it('a non-URL in ehgTelemetry.supabaseUrl: says it is not a URL, sends nothing, recovers when corrected', async () => {
      await episode(t, 'non-URL setting', async () => {
        await userConfig().update('supabaseUrl', 'not a url', vscode.ConfigurationTarget.Global);
        try {
          await waitFor(() => t.state(), {
            message: 'the connection to be invalid',
            until: (s) => s.connection === 'invalid' && s.viewState === 'error',
            timeoutMs: 15_000,
          });
          await statusSays(t, 'non-URL setting', /not a URL/);
          const n = t.requests();
          // An absence: a request sent with the invalid URL would be counted within this.
          await observeQuietFor(3_000, 'no request with an invalid URL');
          assert.strictEqual(t.requests(), n, 'no request is sent with an invalid URL');
        } finally {
          await userConfig().update('supabaseUrl', undefined, vscode.ConfigurationTarget.Global);
        }
        await recoversByItself(t, 'non-URL setting');
      });
    });

    it('a non-loopback http:// URL (from .env): works, and warns that the key travels unencrypted', async () => {
      const port = new URL(config.supabaseUrl).port;
      await episode(t, 'plain-http URL', async () => {
        // 0.0.0.0 reaches the local gateway but is not a loopback name, so it counts as a network host.
        writeEnv(`http://0.0.0.0:${port}`, config.keys.serviceRole);
        try {
          await waitFor(() => extensionLog(), {
            message: 'the extension log to warn about plain http',
            until: (l) => /http:\/\/0\.0\.0\.0:\d+ uses plain http: the key would travel unencrypted/.test(l),
            timeoutMs: 20_000,
            intervalMs: 500,
          });
        } finally {
          fs.writeFileSync(envFile(), originalEnv);
        }
        await waitFor(() => extensionLog(), {
          message: 'the .env URL back on 127.0.0.1',
          until: (l) => l.lastIndexOf('Connection: http://127.0.0.1') > l.lastIndexOf('Connection: http://0.0.0.0'),
          timeoutMs: 20_000,
          intervalMs: 500,
        });
        await recoversByItself(t, 'plain-http URL');
      });
    });

    it('zero and negative intervals and a huge page size are clamped: no request storm, bounded pages', async () => {
      const cfg = userConfig();
      const bad: Record<string, number> = {
        requestTimeoutSeconds: 0,
        heartbeatGraceSeconds: -5,
        stalenessDays: 0,
        dedupMinutes: -1,
        runTimeoutSeconds: 0,
        'runs.queuedWarningMinutes': -1,
        'runs.pageSize': 1_000_000_000,
      };
      const saved = Object.fromEntries(Object.keys(bad).map((k) => [k, cfg.inspect(k)?.globalValue]));
      await episode(t, 'bad intervals', async () => {
        try {
          for (const [k, v] of Object.entries(bad)) await cfg.update(k, v, vscode.ConfigurationTarget.Global);
          await waitFor(() => extensionLog(), {
            message: 'a warning for each clamped setting in the log',
            until: (l) => Object.keys(bad).every((k) => l.includes(`ehgTelemetry.${k} = `)),
            timeoutMs: 20_000,
            intervalMs: 500,
          });
          await refresh();
          await control('gateway.clearLog');
          const r0 = t.requests();
          // A measured window, not a wait for something: the request rate over 6 s with zero/negative intervals.
          await observeQuietFor(6_000, 'no tight request loop');
          const sent = t.requests() - r0;
          assert.ok(sent <= 12, `${sent} requests in 6 s with zero/negative intervals (a tight loop?)`);
          await refresh();
          const log = await control<LogEntry[]>('gateway.requestLog');
          const limits = log
            .filter((e) => e.path.endsWith('/telemetry_analysis_runs') && e.method === 'GET')
            .map((e) => Number(new URLSearchParams(e.query).get('limit')));
          assert.ok(limits.length > 0, 'Refresh loaded the runs');
          assert.ok(
            limits.every((n) => Number.isFinite(n) && n <= 201),
            `page sizes requested: ${JSON.stringify(limits)}`,
          );
          assert.ok((await t.runsTree()).length > 0, 'the runs are still listed');
        } finally {
          for (const [k, v] of Object.entries(saved)) await cfg.update(k, v, vscode.ConfigurationTarget.Global);
        }
        await recoversByItself(t, 'bad intervals');
      });
    });
  });

  describe('wrong keys', () => {
    const cases = [
      { what: 'a key that is not a JWT', key: () => `not-a-key-${randomBytes(8).toString('hex')}` },
      {
        what: 'a JWT for a different project (signed with another secret)',
        key: () =>
          signJwt(
            { iss: 'supabase', ref: 'another-project', role: 'service_role', iat: 1_700_000_000, exp: 4_000_000_000 },
            randomBytes(32).toString('hex'),
          ),
      },
    ];
    for (const c of cases) {
      it(`${c.what}: "rejected the key", no key in the message, nothing written, recovers when .env is fixed`, async () => {
        await recoversByItself(t, `before ${c.what}`);
        const key = c.key();
        await episode(t, c.what, async () => {
          writeEnv(config.supabaseUrl, key);
          try {
            const tip = await statusSays(t, c.what, /rejected the key \(401/);
            assert.ok(
              !tip.includes(key) && !tip.includes(key.split('.')[1] ?? key),
              'the message does not contain the key',
            );
            await waitFor(() => t.state(), {
              message: 'the runs view to say it could not load (not "no runs")',
              until: (s) => s.viewState === 'error',
              timeoutMs: 15_000,
            });
          } finally {
            fs.writeFileSync(envFile(), originalEnv);
          }
          await recoversByItself(t, c.what);
        });
        assert.ok(!extensionLog().includes(key), 'the wrong key is not in the log');
      });
    }
  });

  describe('shutdown', () => {
    it('no unhandled rejection or uncaught exception in the extension host during the whole suite', () => {
      assertNoCrashSince(0, 'the fault suite');
    });

    // Last: the runner checks that the extension host shuts down within 1 s while these requests are
    // still waiting on the gateway (test/e2e/harness/lanes.ts, "deactivation with requests in flight").
    it('leaves requests in flight for the shutdown check (timeout 60 s, gateway answering in 120 s)', async () => {
      await userConfig().update('requestTimeoutSeconds', 60, vscode.ConfigurationTarget.Global);
      await waitFor(() => t.state(), {
        message: 'the new request timeout to be in effect',
        until: (s) => s.connection === 'configured',
        timeoutMs: 10_000,
      });
      // Requests from before the change must not be the ones held below: wait until none is in flight.
      await waitFor(() => control<unknown[]>('gateway.inFlight'), {
        message: 'no request in flight before the gateway is slowed',
        until: (l) => l.length === 0,
        timeoutMs: 10_000,
      });
      await setFault({ delayMs: 120_000 });
      void t.refreshRuns();
      void t.refreshHeartbeat();
      const pending = await waitFor(() => control<unknown[]>('gateway.inFlight'), {
        message: 'requests waiting on the gateway',
        until: (l) => l.length >= 2,
        timeoutMs: 15_000,
      });
      assert.ok(pending.length >= 2);
    });
  });
});

#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone of this machine's kind: installs npm
// dependencies, the Debian packages the real editor and browser need, and the cached code-server,
// each only when missing (`npm start -- --backend-only` needs none of the editor's), builds what is
// older than its inputs, then runs start.js or the tests. Plain JS: it runs before anything is built.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const what = process.argv[2];
const rest = process.argv.slice(3);
// `npm start -- --backend-only` needs neither code-server nor the VSIX (nor their Debian packages).
const backendOnly = what === 'start' && rest.includes('--backend-only');
const wantsHelp = what === 'start' && (rest.includes('--help') || rest.includes('-h'));
const needs = {
  start: backendOnly
    ? { apt: [], bins: {}, codeServer: false }
    : { apt: ['ripgrep', 'libkrb5-dev'], bins: { rg: 'ripgrep' }, codeServer: true },
  test: {
    apt: ['chromium', 'ripgrep', 'libkrb5-dev'],
    bins: { chromium: 'chromium', rg: 'ripgrep' },
    codeServer: true,
  },
}[what];
if (!needs) {
  console.error('usage: node scripts/bootstrap.js start|test [args…]');
  process.exit(2);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
function have(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}
function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

// 1. npm dependencies
if (!fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
  console.log('[setup] installing npm dependencies (npm ci)…');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) {
    console.error('[setup] npm ci failed. Fix: check the npm registry is reachable, then run `npm ci`.');
    process.exit(1);
  }
}

// Builds only when an input changed after the output (a warm start rebuilds nothing): see staleness.js.
const { staleness } = require('./staleness');
// What `npm run package` reads (esbuild.js bundles src/; vsce packs the manifest, media, l10n, docs).
const VSIX_INPUTS = [
  'src',
  'media',
  'l10n',
  'package.json',
  'package.nls.json',
  'esbuild.js',
  'tsconfig.json',
  '.vscodeignore',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'node_modules/.package-lock.json',
];
// What `npm run compile` (tsc -p .) reads.
const COMPILE_INPUTS = [
  'src',
  'devkit',
  'test',
  'scripts',
  'tsconfig.json',
  'package.json',
  'node_modules/.package-lock.json',
];
const COMPILE_STAMP = path.join('out', '.start-compile-stamp');
function buildIfStale(label, output, inputs, script, stamp) {
  const s = staleness(root, output, inputs);
  if (!s.stale) {
    console.log(`[setup] ${label}: up to date (${s.why})`);
    return;
  }
  console.log(`[setup] ${label}: building (${s.why})…`);
  const t = Date.now();
  if (run('npm', ['run', '-s', script]) !== 0) process.exit(1);
  if (stamp) fs.writeFileSync(path.join(root, stamp), `${new Date().toISOString()}\n`);
  console.log(`[setup] ${label}: built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

// 2. start.js itself (compiled), then its checks of the arguments and the --workspace folder, which
// write nothing: a folder the demo may not use is refused before anything is installed or written.
if (what === 'start') {
  buildIfStale('compile', COMPILE_STAMP, COMPILE_INPUTS, 'compile', COMPILE_STAMP);
  const check = spawnSync('node', [path.join(root, 'out', 'scripts', 'start.js'), '--preflight', ...rest], {
    stdio: 'inherit',
    cwd: root,
  });
  if (check.status !== 0 || wantsHelp) process.exit(check.status ?? 1);
}

// 3. Debian packages
const missing = needs.apt.filter((p) => !dpkgInstalled(p));
if (missing.length) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `[setup] missing Debian packages: ${missing.join(', ')}. Fix: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`[setup] installing Debian packages: ${missing.join(', ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    run('apt-get', ['update', '-qq'], { env }) !== 0 ||
    run('apt-get', ['install', '-y', '-qq', ...missing], { env }) !== 0
  ) {
    console.error(`[setup] apt-get install ${missing.join(' ')} failed. Fix: run it by hand and read its error.`);
    process.exit(1);
  }
}
for (const [bin, pkg] of Object.entries(needs.bins)) {
  if (!have(bin)) {
    console.error(
      `[setup] \`${bin}\` is not on PATH although ${pkg} should provide it. Fix: apt-get install --reinstall ${pkg}`,
    );
    process.exit(1);
  }
}

// 4. code-server (a real VS Code 1.100.3) in the git-ignored cache
if (needs.codeServer && run('bash', [path.join(root, 'scripts', 'install-code-server.sh')]) !== 0) process.exit(1);

// 5. the VSIX (full mode only), then the actual work
if (what === 'start' && !backendOnly) buildIfStale('VSIX', 'ehg-telemetry.vsix', VSIX_INPUTS, 'package', null);
const final =
  what === 'start'
    ? ['node', [path.join(root, 'out', 'scripts', 'start.js'), ...rest]]
    : ['node', [path.join(root, 'scripts', 'test-all.js'), ...rest]];
const child = require('node:child_process').spawn(final[0], final[1], { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

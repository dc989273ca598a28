#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone of this machine's kind: installs npm
// dependencies, the Debian packages the real editor and browser need, and the cached code-server,
// each only when missing. Then runs the given npm script(s). Plain JS: it runs before anything is built.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const what = process.argv[2];
const rest = process.argv.slice(3);
const needs = {
  start: { apt: ['ripgrep', 'libkrb5-dev'], bins: { rg: 'ripgrep' }, codeServer: true },
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

// 2. Debian packages
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

// 3. code-server (a real VS Code 1.100.3) in the git-ignored cache
if (needs.codeServer && run('bash', [path.join(root, 'scripts', 'install-code-server.sh')]) !== 0) process.exit(1);

// 4. the actual work
const scripts =
  what === 'start'
    ? [
        ['run', 'package'],
        ['run', 'compile'],
      ]
    : [];
for (const s of scripts) if (run('npm', s) !== 0) process.exit(1);
const final =
  what === 'start'
    ? ['node', [path.join(root, 'out', 'scripts', 'start.js'), ...rest]]
    : ['node', [path.join(root, 'scripts', 'test-all.js'), ...rest]];
const child = require('node:child_process').spawn(final[0], final[1], { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

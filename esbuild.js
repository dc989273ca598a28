// Bundles the extension into dist/extension.js. `--production` minifies and drops source maps;
// `--watch` rebuilds on change and reports errors in the format the `$esbuild-watch` problem matcher reads.
// `--test` is the test build: the same bundles with the test hooks (src/testingApi.ts) switched on,
// into dist-test/, an extension folder of its own (package.json, media, dist/) that the in-host e2e
// phases and the bench's in-host probe load with --extensionDevelopmentPath. The production bundles
// (dist/, the VSIX) define __EHG_TEST_HOOKS__ as false, so the hooks are dead code and removed.
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const testBuild = process.argv.includes('--test');
const TEST_ROOT = 'dist-test';
const outdir = testBuild ? path.join(TEST_ROOT, 'dist') : 'dist';

/** @type {import('esbuild').Plugin} */
const problemMatcher = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

/**
 * Bundles of their own, required lazily: the wiring of all parts (app.ts) by extension.ts one tick
 * after activate() has returned; then, from app.ts, the data layer (supabase-js and all) with the
 * first connection, the command bodies and the trends panel on the first command, the session start
 * just after the wiring; enqueueing and executing runs (runs/analysisRunner.ts) with the first run.
 * `require('./ui/commands')` (ui/commands/index.ts) in app.ts becomes `require('./commands.js')`, and so on.
 */
const LAZY = [
  { importer: 'extension.ts', path: './app', bundle: 'app' },
  { importer: 'app.ts', path: './data/supabaseBackend', bundle: 'supabaseBackend' },
  { importer: 'app.ts', path: './ui/commands', bundle: 'commands' },
  { importer: 'app.ts', path: './runs/sessionStart', bundle: 'sessionStart' },
  { importer: `runs${path.sep}analysisRunner.ts`, path: '../analysis/executeRun', bundle: 'executeRun' },
];
/** @type {import('esbuild').Plugin} */
const lazyBundles = {
  name: 'lazy-bundles',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/(?:(data|ui|runs|analysis)\/)?\w+$/ }, (args) => {
      const lazy = LAZY.find((l) => l.path === args.path && args.importer.endsWith(`src${path.sep}${l.importer}`));
      return lazy ? { path: `./${lazy.bundle}.js`, external: true } : undefined;
    });
  },
};

async function main() {
  const ctx = await esbuild.context({
    // analysisChild: the child process that runs the workspace's analyzer (src/analysis/analysisChild.ts).
    entryPoints: {
      extension: 'src/extension.ts',
      app: 'src/app.ts',
      supabaseBackend: 'src/data/supabaseBackend.ts',
      commands: 'src/ui/commands/index.ts',
      sessionStart: 'src/runs/sessionStart.ts',
      executeRun: 'src/analysis/executeRun.ts',
      analysisChild: 'src/analysis/analysisChild.ts',
    },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    // Prefer the ESM builds of @supabase/*: better tree-shaking and no tslib copy (313 KB → 276 KB).
    mainFields: ['module', 'main'],
    target: 'node20',
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    outdir,
    external: ['vscode'],
    define: { __EHG_TEST_HOOKS__: testBuild ? 'true' : 'false' },
    logLevel: 'silent',
    metafile: true,
    plugins: watch ? [lazyBundles, problemMatcher] : [lazyBundles],
  });
  if (watch) {
    const web = await esbuild.context({
      entryPoints: { trends: 'src/webview/trends.ts' },
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      outdir,
      logLevel: 'silent',
      plugins: [problemMatcher],
    });
    await Promise.all([ctx.watch(), web.watch()]);
    return;
  }
  const result = await ctx.rebuild();
  await ctx.dispose();
  // The Bottleneck Trends page script: its own browser bundle, loaded only when the panel opens.
  const webview = await esbuild.build({
    entryPoints: { trends: 'src/webview/trends.ts' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: production,
    sourcemap: false,
    outdir,
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length || webview.errors.length) process.exit(1);
  if (testBuild) writeTestExtension();
  for (const [file, o] of Object.entries({ ...result.metafile.outputs, ...webview.metafile.outputs })) {
    if (file.endsWith('.js'))
      console.log(`${file} ${(o.bytes / 1024).toFixed(1)} KB${production ? ' (minified)' : ''}`);
  }
}

/** dist-test/ as an extension folder: the manifest, its strings and media next to the test bundles. */
function writeTestExtension() {
  for (const f of ['package.json', 'package.nls.json']) fs.copyFileSync(f, path.join(TEST_ROOT, f));
  fs.rmSync(path.join(TEST_ROOT, 'media'), { recursive: true, force: true });
  fs.cpSync('media', path.join(TEST_ROOT, 'media'), { recursive: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Bundles the extension into dist/extension.js. `--production` minifies and drops source maps;
// `--watch` rebuilds on change and reports errors in the format the `$esbuild-watch` problem matcher reads.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

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
 * The data layer (supabase-js and all) is its own bundle, loaded lazily by extension.ts after
 * activation: `require('./data/supabaseBackend')` becomes `require('./supabaseBackend.js')`.
 * @type {import('esbuild').Plugin}
 */
const lazyBackend = {
  name: 'lazy-supabase-backend',
  setup(build) {
    build.onResolve({ filter: /^\.\/data\/supabaseBackend$/ }, (args) =>
      args.importer.endsWith(`src${require('path').sep}extension.ts`)
        ? { path: './supabaseBackend.js', external: true }
        : undefined,
    );
  },
};

async function main() {
  const ctx = await esbuild.context({
    // analysisChild: the child process that runs the workspace's analyzer (src/analysis/analysisChild.ts).
    entryPoints: {
      extension: 'src/extension.ts',
      supabaseBackend: 'src/data/supabaseBackend.ts',
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
    outdir: 'dist',
    external: ['vscode'],
    logLevel: 'silent',
    metafile: true,
    plugins: watch ? [lazyBackend, problemMatcher] : [lazyBackend],
  });
  if (watch) {
    const web = await esbuild.context({
      entryPoints: { trends: 'src/webview/trends.ts' },
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      outdir: 'dist',
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
    outdir: 'dist',
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length || webview.errors.length) process.exit(1);
  for (const [file, o] of Object.entries({ ...result.metafile.outputs, ...webview.metafile.outputs })) {
    if (file.endsWith('.js'))
      console.log(`${file} ${(o.bytes / 1024).toFixed(1)} KB${production ? ' (minified)' : ''}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

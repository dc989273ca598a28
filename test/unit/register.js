// Mocha --require hook for the unit stage: transpiles each .ts file on first require with esbuild
// (already a devDependency), so the stage loads only the files its tests import instead of compiling
// the whole repository with tsc first. Type errors are not checked here: `npm run lint` runs tsc --noEmit.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

// Stack traces point at the .ts lines (the inline source maps below).
process.setSourceMapsEnabled(true);

// The repository's compiler options (target, class fields) as esbuild reads them from tsconfig.json.
const tsconfigRaw = fs.readFileSync(path.join(__dirname, '..', '..', 'tsconfig.json'), 'utf8');

require.extensions['.ts'] = function (module, filename) {
  if (filename.endsWith('.d.ts')) return;
  const { code } = esbuild.transformSync(fs.readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    platform: 'node',
    sourcemap: 'inline',
    sourcefile: filename,
    tsconfigRaw,
  });
  module._compile(code, filename);
};

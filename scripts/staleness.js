// Whether a build output is older than its inputs: scripts/bootstrap.js rebuilds only then, so a warm
// `npm start` rebuilds nothing. Folder mtimes count as well as files': deleting or renaming an input
// changes only its folder's mtime, and must rebuild too. (A top-level file input that is deleted is
// not seen: the repository root's mtime moves with every build output written there.)
// Plain JS: bootstrap.js requires it before anything is built.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SKIP = new Set(['node_modules', '.git']);

/** The newest mtime among `paths` (relative to `root`; folders walked, their own mtimes included). */
function newestInput(root, paths) {
  let newest = { mtimeMs: 0, path: null };
  const see = (p, st) => {
    if (st.mtimeMs > newest.mtimeMs) newest = { mtimeMs: st.mtimeMs, path: path.relative(root, p) };
  };
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    see(p, st);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) if (!SKIP.has(e)) visit(path.join(p, e));
  };
  for (const p of paths) visit(path.join(root, p));
  return newest;
}

/** { stale, why }: stale when `output` is missing or not newer than every input. */
function staleness(root, output, inputs) {
  let out = 0;
  try {
    out = fs.statSync(path.join(root, output)).mtimeMs;
  } catch {
    return { stale: true, why: `${output} is missing` };
  }
  const newest = newestInput(root, inputs);
  if (newest.mtimeMs >= out) return { stale: true, why: `${newest.path} changed after ${output} was built` };
  return { stale: false, why: `${output} is newer than its inputs` };
}

module.exports = { newestInput, staleness };

// Appends one JSON line per window-state change the extension host receives (and one at activation)
// to the file named by EHG_BENCH_PROBE_LOG, so the benchmark can check that its focus/blur in the
// browser really reached extensions (vscode.window.state.focused). Does nothing without the variable.
const fs = require('fs');
const vscode = require('vscode');

function activate(context) {
  const file = process.env.EHG_BENCH_PROBE_LOG;
  if (!file) return;
  const write = (event, focused) => fs.appendFileSync(file, JSON.stringify({ at: Date.now(), event, focused }) + '\n');
  write('activate', vscode.window.state.focused);
  context.subscriptions.push(vscode.window.onDidChangeWindowState((s) => write('change', s.focused)));
}

function deactivate() {}

module.exports = { activate, deactivate };

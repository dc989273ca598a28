// Appends one JSON line per window-state change the extension host receives (and one at activation)
// to the file named by EHG_BENCH_PROBE_LOG, so the benchmark can check that its focus/blur in the
// browser really reached extensions (vscode.window.state.focused). Does nothing without the variable.
//
// With EHG_BENCH_MARK_IDS (comma-separated extension ids) it also writes one `marks` line per
// extension host: for each id, the time VS Code's extension host spent in that extension's code
// alone, read from the performance marks it sets around it (vs/workbench/api/common/
// extHostExtensionService.ts and api/node/extHostExtensionService.ts): `load` from
// code/extHost/willLoadExtensionCode/<id> to didLoadExtensionCode (the require), `activate` from
// willActivateExtension to didActivateExtension (the activate() call and its promise). Unlike the
// "Activation" figure of Running Extensions, neither includes time the host spent on other
// extensions activated in the same batch.
const fs = require('fs');
const vscode = require('vscode');

function activate(context) {
  const file = process.env.EHG_BENCH_PROBE_LOG;
  if (!file) return;
  const write = (event, focused, extra) =>
    fs.appendFileSync(file, JSON.stringify({ at: Date.now(), event, focused, ...extra }) + '\n');
  write('activate', vscode.window.state.focused);
  context.subscriptions.push(vscode.window.onDidChangeWindowState((s) => write('change', s.focused)));
  const ids = (process.env.EHG_BENCH_MARK_IDS || '').split(',').filter(Boolean);
  if (ids.length) watchMarks(ids, (marks) => write('marks', vscode.window.state.focused, { marks }), context);
}

/** Polls the host's marks until every id has both spans (at most 30 s), then reports them once. */
function watchMarks(ids, report, context) {
  const started = Date.now();
  const timer = setInterval(() => {
    const perf = globalThis.MonacoPerformanceMarks;
    const all = perf && typeof perf.getMarks === 'function' ? perf.getMarks() : [];
    const at = (name) => {
      const m = all.find((x) => x.name === name);
      return m ? m.startTime : undefined;
    };
    const span = (from, to) => (from === undefined || to === undefined ? undefined : to - from);
    const marks = {};
    for (const id of ids) {
      marks[id] = {
        load: span(at(`code/extHost/willLoadExtensionCode/${id}`), at(`code/extHost/didLoadExtensionCode/${id}`)),
        activate: span(at(`code/extHost/willActivateExtension/${id}`), at(`code/extHost/didActivateExtension/${id}`)),
      };
    }
    const done = ids.every((id) => marks[id].load !== undefined && marks[id].activate !== undefined);
    if (done || Date.now() - started > 30000) {
      clearInterval(timer);
      report(
        marks,
        all.filter((m) => m.name.startsWith('code/extHost/')),
      );
    }
  }, 250);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
}

function deactivate() {}

module.exports = { activate, deactivate };

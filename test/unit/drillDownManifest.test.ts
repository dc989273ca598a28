// The drill-down's menus: Go to Definition only on gate/sub-agent bottleneck rows (inline and in the
// context menu), Show Improvement Item only on a row that names an item, neither in the palette
// (both need a row). The contextValues are the ones src/ui/drillDownTree.ts writes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface MenuItem {
  command: string;
  group?: string;
  when?: string;
}
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { menus: Record<string, MenuItem[]> };
};
const menus = manifest.contributes.menus;

/** Evaluates the `view == … && viewItem =~ /…/` clauses these entries use, for one row of the runs view. */
function shows(item: MenuItem, contextValue: string): boolean {
  const when = item.when ?? '';
  const m = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(when);
  assert.ok(m, `a viewItem clause in ${when}`);
  assert.match(when, /view == ehgTelemetry\.runs/);
  return new RegExp(m[1]).test(contextValue);
}

const ROWS = {
  run: 'run status-succeeded',
  gate: 'bottleneck dimension-gate hasDefinition',
  subagent: 'bottleneck dimension-subagent hasDefinition',
  phase: 'bottleneck dimension-phase',
  item: 'improvementItem',
  noItem: 'noImprovementItem',
  evidence: 'evidence',
  notice: 'drillNotice',
};

function rowsFor(command: string, group: (g: string) => boolean): string[] {
  const entries = menus['view/item/context'].filter((i) => i.command === command && group(i.group ?? ''));
  assert.ok(entries.length > 0, `${command} is in the context menu`);
  return Object.entries(ROWS)
    .filter(([, cv]) => entries.some((e) => shows(e, cv)))
    .map(([name]) => name);
}

describe('manifest: the drill-down menus', () => {
  it('Go to Definition: inline and in the context menu of gate and sub-agent bottleneck rows only', () => {
    assert.deepEqual(
      rowsFor('ehgTelemetry.goToDefinition', (g) => g.startsWith('inline')),
      ['gate', 'subagent'],
    );
    assert.deepEqual(
      rowsFor('ehgTelemetry.goToDefinition', (g) => !g.startsWith('inline')),
      ['gate', 'subagent'],
    );
  });

  it('Show Improvement Item: on a row that names an item only (not on "no item" rows)', () => {
    assert.deepEqual(
      rowsFor('ehgTelemetry.showImprovementItem', () => true),
      ['item'],
    );
  });

  it('neither is offered in the command palette (each needs a row)', () => {
    for (const id of ['ehgTelemetry.goToDefinition', 'ehgTelemetry.showImprovementItem'])
      assert.equal(menus.commandPalette.find((i) => i.command === id)?.when, 'false', id);
  });
});

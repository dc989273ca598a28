// contributes checked against VS Code's UX guidelines (code.visualstudio.com/api/ux-guidelines):
// few inline actions per row and in the view's title bar, icons on views, one primary action (a
// button: a command link alone on its line) per welcome view.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

interface MenuItem {
  command: string;
  group?: string;
  when?: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: {
    menus: Record<string, MenuItem[]>;
    views: Record<string, Array<{ id: string; icon?: string }>>;
    viewsContainers: Record<string, Array<{ id: string; icon?: string }>>;
    viewsWelcome: Array<{ view: string; contents: string }>;
  };
};
const nls = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
const localized = (s: string) => (/^%.+%$/.test(s) ? (nls[s.slice(1, -1)] ?? s) : s);

/** Slots in a menu group: items with the same `group@order` are alternatives (mutually exclusive `when`). */
function slots(items: MenuItem[], group: string): string[] {
  return [...new Set(items.filter((i) => (i.group ?? '').split('@')[0] === group).map((i) => i.group ?? ''))];
}

/** A welcome view's buttons: lines that are a single command link. */
export function welcomeButtons(contents: string): string[] {
  return contents.split('\n').filter((l) => /^\s*\[[^\]]+\]\(command:[^)]+\)\s*$/.test(l));
}

describe('manifest: contributes follows the UX guidelines', () => {
  const menus = manifest.contributes.menus;

  it('the runs view title bar shows at most 3 actions of its own (collapse-all is the fourth)', () => {
    const nav = slots(menus['view/title'], 'navigation');
    assert.ok(nav.length <= 3, `navigation slots: ${nav.join(', ')}`);
  });

  it('a run row shows at most 3 inline actions', () => {
    const inline = slots(menus['view/item/context'], 'inline');
    assert.ok(inline.length <= 3, `inline slots: ${inline.join(', ')}`);
  });

  it('every view and view container has an icon that exists', () => {
    const all = [
      ...Object.values(manifest.contributes.viewsContainers).flat(),
      ...Object.values(manifest.contributes.views).flat(),
    ];
    assert.ok(all.length >= 2);
    for (const v of all) {
      assert.ok(v.icon, `${v.id} has no icon`);
      assert.ok(fs.existsSync(path.join(ROOT, v.icon)), `${v.id}: ${v.icon} is missing`);
    }
  });

  it('each welcome view offers one primary action (one button), and the check can tell', () => {
    assert.deepStrictEqual(welcomeButtons('Text.\n[Retry](command:x.refresh)\nSee the [log](command:x.openLog).'), [
      '[Retry](command:x.refresh)',
    ]);
    assert.strictEqual(welcomeButtons('[A](command:a)\n[B](command:b)').length, 2);
    for (const w of manifest.contributes.viewsWelcome) {
      const text = localized(w.contents);
      assert.notStrictEqual(text, w.contents, `${w.contents} is not in package.nls.json`);
      assert.ok(welcomeButtons(text).length <= 1, `more than one button in: ${text}`);
    }
  });
});

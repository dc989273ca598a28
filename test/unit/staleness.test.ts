// The warm-start decision of scripts/bootstrap.js (scripts/staleness.js): a build output newer than
// every input is kept; a touched input, a deleted one (seen through its folder's mtime), a new one,
// or a missing output rebuild.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

type Staleness = (root: string, output: string, inputs: string[]) => { stale: boolean; why: string };
// Plain JS (bootstrap.js requires it before anything is built), loaded from the sources.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { staleness } = require(path.join(__dirname, '..', '..', 'scripts', 'staleness.js')) as {
  staleness: Staleness;
};

describe('bootstrap staleness (warm npm start rebuilds only what changed)', function () {
  let root: string;
  const T0 = new Date('2026-01-01T00:00:00Z');
  const at = (rel: string, d: Date) => fs.utimesSync(path.join(root, rel), d, d);
  const later = (s: number) => new Date(T0.getTime() + s * 1000);
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ehg-staleness-'));
    for (const d of ['src/domain', 'src/ui', 'out', 'src/node_modules/x'])
      fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const f of ['src/domain/a.ts', 'src/domain/b.ts', 'src/ui/c.ts', 'tsconfig.json', 'src/node_modules/x/i.js'])
      fs.writeFileSync(path.join(root, f), 'x');
    for (const p of [
      'src/domain/a.ts',
      'src/domain/b.ts',
      'src/ui/c.ts',
      'tsconfig.json',
      'src/domain',
      'src/ui',
      'src',
    ])
      at(p, T0);
    fs.writeFileSync(path.join(root, 'out/stamp'), 'built');
    at('out/stamp', later(10));
    at('src/node_modules/x/i.js', later(60)); // node_modules under an input is not an input
    at('src/node_modules/x', later(60));
    at('src/node_modules', later(60));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const INPUTS = ['src', 'tsconfig.json', 'missing.json'];

  it('fresh output: skipped', function () {
    assert.deepEqual(staleness(root, 'out/stamp', INPUTS), { stale: false, why: 'out/stamp is newer than its inputs' });
  });

  it('a touched input: rebuilt, naming it', function () {
    at('src/ui/c.ts', later(20));
    assert.deepEqual(staleness(root, 'out/stamp', INPUTS), {
      stale: true,
      why: `${path.join('src', 'ui', 'c.ts')} changed after out/stamp was built`,
    });
    at('src/ui/c.ts', T0);
    at('tsconfig.json', later(10)); // the same mtime as the output is not older than it
    assert.equal(staleness(root, 'out/stamp', INPUTS).stale, true);
  });

  it('a deleted input: rebuilt (its folder changed), though every remaining file is older', function () {
    fs.unlinkSync(path.join(root, 'src/domain/b.ts'));
    const s = staleness(root, 'out/stamp', INPUTS);
    assert.equal(s.stale, true);
    assert.equal(s.why, `${path.join('src', 'domain')} changed after out/stamp was built`);
  });

  it('a new or renamed input with an old mtime (e.g. restored by git or tar): rebuilt', function () {
    fs.renameSync(path.join(root, 'src/ui/c.ts'), path.join(root, 'src/ui/d.ts'));
    assert.equal(staleness(root, 'out/stamp', INPUTS).stale, true);
  });

  it('a missing output: rebuilt', function () {
    fs.unlinkSync(path.join(root, 'out/stamp'));
    assert.deepEqual(staleness(root, 'out/stamp', INPUTS), { stale: true, why: 'out/stamp is missing' });
  });
});

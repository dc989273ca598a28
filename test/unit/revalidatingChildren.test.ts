// A tree row's children answered at once (src/ui/revalidatingChildren.ts): "Loading…" the first time,
// then the last children shown, each request starting one load in the background that redraws the
// row only when what it shows changed. VS Code 1.100 registers a row's children twice (and shows
// none) when two async getChildren calls for the row overlap; answering at once leaves no overlap.
import * as assert from 'node:assert/strict';
import { RevalidatingChildren } from '../../src/ui/revalidatingChildren';

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Row {
  parent: string;
  text: string;
}

/** Loads that stay in flight until answered, noting each parent they were asked for. */
function harness() {
  const asked: string[] = [];
  const answers: Array<(rows: Row[] | Error) => void> = [];
  const redrawn: string[] = [];
  const children = new RevalidatingChildren<string, Row>({
    load: (parent) => {
      asked.push(parent);
      return new Promise<Row[]>((resolve, reject) =>
        answers.push((rows) => (rows instanceof Error ? reject(rows) : resolve(rows))),
      );
    },
    loading: (parent) => [{ parent, text: 'Loading…' }],
    failed: (parent, error) => [{ parent, text: `Couldn't load: ${(error as Error).message}` }],
    signature: (rows) => rows.map((r) => r.text).join('|'),
    changed: (parent) => redrawn.push(parent),
    redrawRetryMs: [30, 60],
  });
  const answer = async (...texts: string[]) => {
    const next = answers.shift();
    assert.ok(next, 'a load is in flight');
    next(texts.map((text) => ({ parent: '?', text })));
    await tick();
  };
  const fail = async (message: string) => {
    answers.shift()!(new Error(message));
    await tick();
  };
  const texts = (key: string, parent = key) => children.get(key, parent).map((r) => r.text);
  return { children, asked, answers, redrawn, answer, fail, texts };
}

describe('RevalidatingChildren: a row expanded while the tree refreshes', () => {
  it('first request: "Loading…" at once, one load, then one redraw with the rows', async () => {
    const h = harness();
    assert.deepEqual(h.texts('a'), ['Loading…']);
    assert.deepEqual(h.asked, ['a']);
    await h.answer('span 1', 'item');
    assert.deepEqual(h.redrawn, ['a']);
    assert.deepEqual(h.texts('a'), ['span 1', 'item']);
  });

  it('requests during a load (a refresh while expanding) start no second load, and answer at once', async () => {
    const h = harness();
    h.texts('a');
    assert.deepEqual(h.texts('a'), ['Loading…']);
    assert.deepEqual(h.texts('a'), ['Loading…']);
    assert.equal(h.asked.length, 1, 'one load in flight at a time');
    await h.answer('span 1');
    // The requests made during the load may have come from a change the load did not see: one more.
    assert.equal(h.asked.length, 2, 'one load after it, not one per request');
    await h.answer('span 1');
    assert.deepEqual(h.redrawn, ['a'], 'the same rows again: no second redraw');
    assert.equal(h.answers.length, 0);
  });

  it('a later request shows the last rows at once and redraws only when the load brings a change', async () => {
    const h = harness();
    h.texts('a');
    await h.answer('span 1');
    assert.deepEqual(h.texts('a'), ['span 1'], 'the last rows, not "Loading…"');
    await h.answer('span 1');
    assert.deepEqual(h.redrawn, ['a']);
    h.texts('a');
    await h.answer('span 1', 'span 2');
    assert.deepEqual(h.redrawn, ['a', 'a']);
    assert.deepEqual(h.texts('a'), ['span 1', 'span 2']);
  });

  it('a redraw the view does not answer (it took the "Loading…" answer instead) is repeated, then given up', async () => {
    const h = harness();
    h.texts('a');
    await h.answer('span 1');
    assert.deepEqual(h.redrawn, ['a']);
    await sleep(45);
    assert.deepEqual(h.redrawn, ['a', 'a'], 'repeated after the first delay');
    await sleep(120);
    assert.deepEqual(h.redrawn, ['a', 'a', 'a'], 'once per delay, then no more');
  });

  it('a redraw the view answers (it asks for the children) is not repeated', async () => {
    const h = harness();
    h.texts('a');
    await h.answer('span 1');
    assert.deepEqual(h.texts('a'), ['span 1']);
    await sleep(120);
    assert.deepEqual(h.redrawn, ['a']);
    h.children.dispose();
  });

  it('prune and dispose stop the repeats', async () => {
    const h = harness();
    h.texts('a');
    h.texts('b');
    await h.answer('a rows');
    await h.answer('b rows');
    h.children.prune((key) => key === 'b');
    h.children.dispose();
    await sleep(120);
    assert.deepEqual(h.redrawn, ['a', 'b']);
  });

  it('a redraw names the parent the view asked with last (a refresh hands a new row object)', async () => {
    const h = harness();
    h.children.get('a', 'old row');
    h.children.get('a', 'new row');
    await h.answer('x');
    assert.deepEqual(h.redrawn, ['new row']);
  });

  it('a load that rejects shows why, and the next request loads again', async () => {
    const h = harness();
    h.texts('a');
    await h.fail('network down');
    assert.deepEqual(h.texts('a'), ["Couldn't load: network down"]);
    await h.answer('span 1');
    assert.deepEqual(h.texts('a'), ['span 1']);
    assert.deepEqual(h.redrawn, ['a', 'a']);
  });

  it('rows are kept per key; prune forgets the refused keys (a new request is "Loading…" again)', async () => {
    const h = harness();
    h.texts('a');
    await h.answer('a rows');
    h.texts('b');
    await h.answer('b rows');
    assert.deepEqual([h.texts('a'), h.texts('b')], [['a rows'], ['b rows']], 'each key keeps its own rows');
    h.children.prune((key) => key === 'b');
    assert.deepEqual(h.texts('a'), ['Loading…']);
    assert.deepEqual(h.texts('b'), ['b rows']);
  });

  it('a load answering after prune or dispose redraws nothing', async () => {
    const h = harness();
    h.texts('a');
    h.children.prune(() => false);
    await h.answer('late');
    h.texts('b');
    h.children.dispose();
    await h.answer('late');
    assert.deepEqual(h.redrawn, []);
    assert.deepEqual(h.children.get('c', 'c'), [{ parent: 'c', text: 'Loading…' }]);
    assert.equal(h.asked.length, 2, 'no load after dispose');
  });

  it('a view that throws while redrawn leaves no unhandled rejection and the row loads again', async () => {
    const asked: string[] = [];
    const children = new RevalidatingChildren<string, string>({
      load: async (p) => (asked.push(p), ['x']),
      loading: () => ['Loading…'],
      failed: () => ['failed'],
      signature: (rows) => rows.join(),
      changed: () => {
        throw new Error('view gone');
      },
    });
    children.get('a', 'a');
    await tick();
    assert.deepEqual(children.get('a', 'a'), ['x']);
    await tick();
    assert.equal(asked.length, 2);
  });
});

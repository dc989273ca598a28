// "Don't Show Again" per kind and "Show All Notifications Again", over a fake Memento.
import * as assert from 'node:assert/strict';
import {
  MUTED_STATE_KEY,
  MutedNotifications,
  NOTIFICATION_KINDS,
  StateStore,
} from '../../src/domain/mutedNotifications';

/** Like vscode.Memento: values are stored as JSON (global state is), updates are async. */
class FakeMemento implements StateStore {
  readonly data = new Map<string, string>();
  updates = 0;
  get<T>(key: string, defaultValue: T): T {
    const v = this.data.get(key);
    return v === undefined ? defaultValue : (JSON.parse(v) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    await Promise.resolve();
    this.updates++;
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, JSON.stringify(value));
  }
}

describe('MutedNotifications: "Don\'t Show Again" is kept per kind', () => {
  it('nothing is muted at first', () => {
    const m = new MutedNotifications(new FakeMemento());
    assert.deepEqual(m.muted(), []);
    for (const k of NOTIFICATION_KINDS) assert.equal(m.isMuted(k), false);
  });

  for (const kind of NOTIFICATION_KINDS) {
    it(`muting ${kind} mutes that kind only`, async () => {
      const m = new MutedNotifications(new FakeMemento());
      await m.mute(kind);
      for (const k of NOTIFICATION_KINDS) assert.equal(m.isMuted(k), k === kind, k);
    });
  }

  it('is remembered in the store (a new window reads it back)', async () => {
    const state = new FakeMemento();
    await new MutedNotifications(state).mute('runFailed');
    const again = new MutedNotifications(state);
    assert.deepEqual(again.muted(), ['runFailed']);
    assert.deepEqual(JSON.parse(state.data.get(MUTED_STATE_KEY)!), ['runFailed']);
  });

  it('muting twice stores it once and writes once', async () => {
    const state = new FakeMemento();
    const m = new MutedNotifications(state);
    await m.mute('runFinished');
    await m.mute('runFinished');
    assert.deepEqual(m.muted(), ['runFinished']);
    assert.equal(state.updates, 1);
  });

  it('several kinds add up', async () => {
    const m = new MutedNotifications(new FakeMemento());
    await m.mute('backendProblem');
    await m.mute('runFinished');
    assert.deepEqual(m.muted(), ['runFinished', 'backendProblem']);
    assert.equal(m.isMuted('runFailed'), false);
  });

  it('"Show All Notifications Again" brings every kind back', async () => {
    const state = new FakeMemento();
    const m = new MutedNotifications(state);
    for (const k of NOTIFICATION_KINDS) await m.mute(k);
    await m.reset();
    assert.deepEqual(m.muted(), []);
    assert.deepEqual(new MutedNotifications(state).muted(), []);
  });

  const junk: Array<[string, unknown]> = [
    ['a string', 'runFinished'],
    ['an object', { runFinished: true }],
    ['null', null],
    ['unknown kinds and non-strings', ['somethingElse', 7, null, 'runFailed']],
  ];
  for (const [name, value] of junk) {
    it(`a stored value that is ${name} mutes nothing it does not name`, async () => {
      const state = new FakeMemento();
      await state.update(MUTED_STATE_KEY, value);
      const m = new MutedNotifications(state);
      assert.deepEqual(m.muted(), Array.isArray(value) ? ['runFailed'] : []);
      await m.mute('backendProblem');
      assert.equal(m.isMuted('backendProblem'), true);
    });
  }
});

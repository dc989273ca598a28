import * as assert from 'node:assert/strict';
import { CredentialStore, MementoLike, SecretsLike, STORED_ORIGINS_KEY } from '../../src/platform/credentialStore';

function fakes() {
  const secrets = new Map<string, string>();
  const state = new Map<string, unknown>();
  const secretListeners = new Set<(e: { key: string }) => void>();
  const s: SecretsLike = {
    get: (k) => Promise.resolve(secrets.get(k)),
    store: (k, v) => {
      secrets.set(k, v);
      for (const l of secretListeners) l({ key: k });
      return Promise.resolve();
    },
    delete: (k) => {
      secrets.delete(k);
      for (const l of secretListeners) l({ key: k });
      return Promise.resolve();
    },
    onDidChange: (l: (e: { key: string }) => void) => {
      secretListeners.add(l);
      return { dispose: () => secretListeners.delete(l) };
    },
  };
  const m: MementoLike = {
    get: (k: string, d?: unknown) => (state.has(k) ? state.get(k) : d),
    update: (k, v) => {
      state.set(k, v);
      return Promise.resolve();
    },
  };
  return { secrets, state, s, m, secretListeners };
}

describe('CredentialStore', () => {
  it('stores the trimmed key under its origin and lists the origin once', async () => {
    const f = fakes();
    const store = new CredentialStore(f.s, f.m);
    await store.store('https://a.supabase.co', '  k1  ');
    await store.store('https://a.supabase.co', 'k2');
    assert.equal(await store.get('https://a.supabase.co'), 'k2');
    assert.deepEqual(store.origins, ['https://a.supabase.co']);
    assert.equal(store.hasAny, true);
    assert.deepEqual([...f.secrets.keys()], ['ehgTelemetry.key:https://a.supabase.co']);
    // The list holds origins only, never a key.
    assert.ok(!JSON.stringify([...f.state.values()]).includes('k2'));
    store.dispose();
  });

  it('returns null for an origin without a key', async () => {
    const store = new CredentialStore(fakes().s, fakes().m);
    assert.equal(await store.get('https://b.supabase.co'), null);
    assert.equal(store.hasAny, false);
  });

  for (const bad of ['https://a.supabase.co/path', 'a.supabase.co', 'ftp://a.example', '', 'https://u:p@a.example']) {
    it(`refuses to store for ${JSON.stringify(bad)}, storing nothing`, async () => {
      const f = fakes();
      const store = new CredentialStore(f.s, f.m);
      await assert.rejects(store.store(bad, 'key'), /http\(s\) origin/);
      assert.equal(f.secrets.size, 0);
      assert.equal(store.hasAny, false);
    });
  }

  it('refuses an empty key', async () => {
    const f = fakes();
    const store = new CredentialStore(f.s, f.m);
    await assert.rejects(store.store('https://a.supabase.co', '   '), /empty/);
    assert.equal(f.secrets.size, 0);
  });

  it('clear() deletes every listed key and empties the list', async () => {
    const f = fakes();
    const store = new CredentialStore(f.s, f.m);
    await store.store('https://a.supabase.co', 'k1');
    await store.store('http://127.0.0.1:54321', 'k2');
    assert.deepEqual(await store.clear(), ['https://a.supabase.co', 'http://127.0.0.1:54321']);
    assert.equal(f.secrets.size, 0);
    assert.deepEqual(store.origins, []);
  });

  it('fires onDidChange on store, clear and a change from another window; not after dispose', async () => {
    const f = fakes();
    const store = new CredentialStore(f.s, f.m);
    let n = 0;
    const sub = store.onDidChange(() => n++);
    await store.store('https://a.supabase.co', 'k1');
    assert.ok(n >= 1);
    const afterStore = n;
    await store.clear();
    assert.ok(n > afterStore);
    const beforeOther = n;
    for (const l of f.secretListeners) l({ key: 'ehgTelemetry.key:https://c.supabase.co' });
    assert.equal(n, beforeOther + 1);
    for (const l of f.secretListeners) l({ key: 'someOtherExtension.secret' });
    assert.equal(n, beforeOther + 1, 'unrelated secrets do not fire');
    sub.dispose();
    await store.store('https://a.supabase.co', 'k1');
    assert.equal(n, beforeOther + 1, 'a disposed listener is not called');
    store.dispose();
    assert.equal(f.secretListeners.size, 0, 'dispose unsubscribes from SecretStorage');
  });

  it('a listener that throws does not stop the others', async () => {
    const store = new CredentialStore(fakes().s, fakes().m);
    let called = false;
    store.onDidChange(() => {
      throw new Error('boom');
    });
    store.onDidChange(() => (called = true));
    await store.store('https://a.supabase.co', 'k1');
    assert.equal(called, true);
  });

  it('ignores a corrupt stored-origins value', () => {
    const f = fakes();
    f.state.set(STORED_ORIGINS_KEY, 'not a list');
    assert.deepEqual(new CredentialStore(f.s, f.m).origins, []);
    f.state.set(STORED_ORIGINS_KEY, ['https://a.supabase.co', 7, null]);
    assert.deepEqual(new CredentialStore(f.s, f.m).origins, ['https://a.supabase.co']);
  });
});

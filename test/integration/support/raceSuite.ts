// The fixture both race files share: a stack with traces for the fixture analyzer, a folder for the
// trials' workspaces, and backends (service role) disposed when the suite ends. Call it inside a describe.
import * as fs from 'fs';
import { startStack, Stack } from '../../../devkit/stack';
import { generateTraces } from '../../../devkit/stack/datagen';
import { SupabaseBackend } from '../../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../../src/domain/credentials';
import { tmpRoot } from './analysis';

export interface RaceSuite {
  readonly stack: Stack;
  readonly root: string;
  /** Options for a service-role backend on the suite's stack. */
  opts(): { url: string; origin: string; key: string; timeoutMs: number; clientInfo: string };
  /** Keeps a backend to dispose after the suite. */
  track<T extends SupabaseBackend>(b: T): T;
}

export function raceSuite(): RaceSuite {
  let stack: Stack | undefined;
  let root = '';
  const backends: SupabaseBackend[] = [];
  before(async () => {
    stack = await startStack({});
    await generateTraces(stack.databaseUrl, { spans: 600 });
    root = tmpRoot();
  });
  after(async () => {
    for (const b of backends) b.dispose();
    await stack?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  return {
    get stack() {
      if (!stack) throw new Error('the race suite has not started its stack');
      return stack;
    },
    get root() {
      return root;
    },
    opts() {
      const c = checkProjectUrl(this.stack.url);
      if (!c.ok) throw new Error(c.message);
      return { url: c.url, origin: c.origin, key: this.stack.keys.serviceRole, timeoutMs: 10_000, clientInfo: 'race' };
    },
    track(b) {
      backends.push(b);
      return b;
    },
  };
}

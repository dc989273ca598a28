// The backends an integration test makes against its stack: real supabase-js through the stack's
// PostgREST, with the service-role key, each disposed after the suite.
import { SupabaseBackend, SupabaseBackendOptions } from '../../../src/data/supabaseBackend';
import { checkProjectUrl } from '../../../src/domain/credentials';
import type { Stack } from '../../../devkit/stack';

export class TestBackends {
  private readonly made: SupabaseBackend[] = [];

  /** `stack` is read on each create (suites start their stack in before()). */
  constructor(
    private readonly stack: () => Stack,
    private readonly clientInfo: string,
  ) {}

  /** A backend for the stack's URL (service role, 10 s request timeout unless `over` says otherwise). */
  create(over: Partial<SupabaseBackendOptions> = {}): SupabaseBackend {
    const s = this.stack();
    const c = checkProjectUrl(s.url);
    if (!c.ok) throw new Error(c.message);
    const b = new SupabaseBackend({
      url: c.url,
      origin: c.origin,
      key: s.keys.serviceRole,
      timeoutMs: 10_000,
      clientInfo: this.clientInfo,
      ...over,
    });
    this.made.push(b);
    return b;
  }

  disposeAll(): void {
    for (const b of this.made.splice(0)) b.dispose();
  }
}

// One registry of things to stop (servers, editors, browsers, temp folders), shared by the e2e
// runner and the benchmarks: every exit path calls releaseAll(), newest first, each bounded in time.

const cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];

/** Registers a stopper; the returned function runs it now (once) and unregisters it. */
export function onCleanup(name: string, fn: () => Promise<void> | void): () => Promise<void> {
  const entry = { name, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await fn();
  };
}

/** Runs every registered stopper, newest first; one that hangs or throws is reported and skipped. */
export async function releaseAll(log: (line: string) => void, perStopperMs = 30_000): Promise<void> {
  while (cleanups.length) {
    const { name, fn } = cleanups.pop()!;
    try {
      await withTimeout(Promise.resolve().then(fn), perStopperMs, `stopping ${name}`);
    } catch (err) {
      log(`could not stop ${name} cleanly: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

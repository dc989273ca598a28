// The per-test list and the one summary line (`N passed, N failed`) both e2e runners print.
import { TestResult } from './shared';

export interface Tally {
  passed: number;
  failed: number;
  pending: number;
}

export function tally(results: readonly TestResult[]): Tally {
  return {
    passed: results.filter((r) => r.state === 'passed').length,
    failed: results.filter((r) => r.state === 'failed').length,
    pending: results.filter((r) => r.state === 'pending').length,
  };
}

/** Prints every test, the failures with their errors, a footer line, and `N passed, N failed` last. */
export function printReport(results: readonly TestResult[], footer: string): Tally {
  const t = tally(results);
  console.log('\nE2E results');
  for (const r of results) {
    const mark = r.state === 'passed' ? '✓' : r.state === 'failed' ? '✗' : '-';
    console.log(`  ${mark} [${r.group}] ${r.title}${r.state === 'pending' ? ' (pending)' : ` (${r.durationMs} ms)`}`);
  }
  const failures = results.filter((r) => r.state === 'failed');
  if (failures.length) {
    console.log('\nFailures');
    failures.forEach((r, i) => {
      console.log(`  ${i + 1}) [${r.group}] ${r.title}`);
      for (const line of (r.error ?? '').split('\n').slice(0, 25)) console.log(`     ${line}`);
    });
  }
  console.log(`\n${footer}${t.pending ? ` (${t.pending} pending)` : ''}`);
  console.log(`${t.passed} passed, ${t.failed} failed`);
  return t;
}

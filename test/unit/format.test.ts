import * as assert from 'node:assert/strict';
import { formatAge, formatDuration, formatRatio, formatRelative, plural } from '../../src/domain/format';

const NOW = new Date(Date.UTC(2026, 1, 15, 12, 0, 0));
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('format: formatDuration', () => {
  const cases: { name: string; input: number | null | undefined; expected: string }[] = [
    { name: '0', input: 0, expected: '0 ms' },
    { name: '999', input: 999, expected: '999 ms' },
    { name: '999.4 rounds down', input: 999.4, expected: '999 ms' },
    { name: '999.6 rounds into seconds, not "1000 ms"', input: 999.6, expected: '1.0 s' },
    { name: '1000', input: 1000, expected: '1.0 s' },
    { name: '1049', input: 1049, expected: '1.0 s' },
    { name: '12_000', input: 12_000, expected: '12.0 s' },
    { name: '45_000', input: 45_000, expected: '45.0 s' },
    { name: '59_900', input: 59_900, expected: '59.9 s' },
    { name: '59_999 rounds into minutes, not "60.0 s"', input: 59_999, expected: '1m 00s' },
    { name: '60_000', input: 60_000, expected: '1m 00s' },
    { name: '72_000', input: 72_000, expected: '1m 12s' },
    { name: '3_599_000', input: 3_599_000, expected: '59m 59s' },
    { name: '3_599_999 rounds into hours', input: 3_599_999, expected: '1h 00m' },
    { name: '3_600_000', input: 3_600_000, expected: '1h 00m' },
    { name: '5_430_000', input: 5_430_000, expected: '1h 31m' },
    { name: '100 hours', input: 360_000_000, expected: '100h 00m' },
    { name: 'null', input: null, expected: '—' },
    { name: 'undefined', input: undefined, expected: '—' },
    { name: 'negative', input: -1, expected: '—' },
    { name: 'NaN', input: NaN, expected: '—' },
    { name: 'Infinity', input: Infinity, expected: '—' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(formatDuration(c.input), c.expected));
  }

  it('is monotonic in the displayed unit across 0..2h (no "60.0 s", no "60m", no "1000 ms")', () => {
    for (let ms = 0; ms < 7_200_000; ms += 37) {
      const s = formatDuration(ms);
      assert.ok(!/^1000 ms$|^60\.0 s$|^60m|h 60m$/.test(s), `${ms} → ${s}`);
    }
  });
});

describe('format: formatAge', () => {
  const cases: { name: string; at: Date | null; expected: string }[] = [
    { name: 'null', at: null, expected: 'unknown time' },
    { name: 'same instant', at: ago(0), expected: 'just now' },
    { name: '9.9 s ago', at: ago(9_900), expected: 'just now' },
    { name: '10 s ago', at: ago(10_000), expected: '10s ago' },
    { name: '59 s ago', at: ago(59_999), expected: '59s ago' },
    { name: '5 minutes ago', at: ago(5 * 60_000), expected: '5m ago' },
    { name: '3 hours ago', at: ago(3 * 3600_000), expected: '3h ago' },
    { name: '47 hours ago', at: ago(47 * 3600_000), expected: '47h ago' },
    { name: '3 days ago', at: ago(72 * 3600_000), expected: '3d ago' },
    { name: 'skew: 30 s in the future reads as just now', at: ago(-30_000), expected: 'just now' },
    { name: 'skew: exactly 60 s in the future reads as just now', at: ago(-60_000), expected: 'just now' },
    { name: '2 minutes in the future', at: ago(-120_000), expected: 'in 2m' },
    { name: '2 days in the future', at: ago(-50 * 3600_000), expected: 'in 2d' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(formatAge(c.at, NOW), c.expected));
  }
});

describe('format: formatRelative', () => {
  const cases: { name: string; at: Date | null; expected: string }[] = [
    { name: 'null', at: null, expected: 'unknown' },
    { name: 'now', at: ago(0), expected: 'now' },
    { name: '999 ms ahead is now', at: ago(-999), expected: 'now' },
    { name: '999 ms behind is now', at: ago(999), expected: 'now' },
    { name: '40 s ahead', at: ago(-40_000), expected: 'in 40s' },
    { name: '12 s behind', at: ago(12_000), expected: '12s ago' },
    { name: '90 minutes behind', at: ago(90 * 60_000), expected: '1h ago' },
    { name: '3 days ahead', at: ago(-3 * 86_400_000), expected: 'in 3d' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(formatRelative(c.at, NOW), c.expected));
  }
});

describe('format: formatRatio and plural', () => {
  const cases: { name: string; input: number | null; expected: string }[] = [
    { name: '3.2', input: 3.2, expected: '3.2×' },
    { name: '1', input: 1, expected: '1.0×' },
    { name: '9.94', input: 9.94, expected: '9.9×' },
    { name: '9.96 does not read "10.0×"', input: 9.96, expected: '10×' },
    { name: '10', input: 10, expected: '10×' },
    { name: '12.6', input: 12.6, expected: '13×' },
    { name: 'null', input: null, expected: '?×' },
    { name: 'NaN', input: NaN, expected: '?×' },
    { name: 'Infinity', input: Infinity, expected: '?×' },
  ];
  for (const c of cases) {
    it(`formatRatio ${c.name}`, () => assert.equal(formatRatio(c.input), c.expected));
  }

  const pl: { n: number; expected: string }[] = [
    { n: 0, expected: '0 findings' },
    { n: 1, expected: '1 finding' },
    { n: 2, expected: '2 findings' },
  ];
  for (const c of pl) {
    it(`plural ${c.n}`, () => assert.equal(plural(c.n, 'finding'), c.expected));
  }
});

import * as assert from 'assert';
import { CLOCK_SAMPLES, ClockOffsetEstimator } from '../../src/domain/clockOffset';

describe('clock offset from Date headers', () => {
  it('is 0 before any response', () => {
    assert.equal(new ClockOffsetEstimator().offsetMs, 0);
  });

  it('takes the largest recent sample: truncated seconds and slow responses only ever pull a sample below the truth', () => {
    const c = new ClockOffsetEstimator();
    // True offset +250 ms. Headers written at various sub-second moments (truncated to the second),
    // one response that took 9 s to arrive.
    const trueOffset = 250;
    const local = [10_100, 10_900, 11_400, 12_050, 21_000];
    const travel = [5, 5, 5, 5, 9_000];
    local.forEach((l, i) => {
      const serverAtWrite = l - travel[i] + trueOffset;
      c.add(Math.floor(serverAtWrite / 1000) * 1000, l);
    });
    assert.ok(c.offsetMs <= trueOffset, `never ahead of the server (${c.offsetMs})`);
    assert.ok(c.offsetMs >= trueOffset - 300, `close to the truth despite the slow response (${c.offsetMs})`);
  });

  it('one slow response does not move it (the naive last-sample offset jumps by 9 s)', () => {
    const c = new ClockOffsetEstimator();
    c.add(100_000, 100_010);
    c.add(101_000, 110_000); // headers written at 101 s, arrived 9 s later
    assert.equal(c.offsetMs, -10);
  });

  it(`forgets samples older than the last ${CLOCK_SAMPLES}: a real clock change gets through`, () => {
    const c = new ClockOffsetEstimator();
    c.add(200_000, 100_000); // server 100 s ahead
    for (let i = 0; i < CLOCK_SAMPLES; i++) c.add(300_000 + i * 1000, 300_000 + i * 1000);
    assert.equal(c.offsetMs, 0);
  });

  it('ignores non-finite input', () => {
    const c = new ClockOffsetEstimator();
    c.add(NaN, 1);
    c.add(1, Infinity);
    assert.equal(c.offsetMs, 0);
  });
});

// The experiment's statistics against table values and hand-checked cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstReach, mean, pairedDifference, sampleSd, studentTCdf, studentTQuantile, tInterval, verdict } from '../../src/experiments/stats.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('Student t quantiles match the table', () => {
  // Two-sided 95% critical values (t(0.975, df)) and a few others, from standard tables.
  const table: [number, number, number][] = [
    [0.975, 1, 12.706], [0.975, 2, 4.303], [0.975, 3, 3.182], [0.975, 4, 2.776], [0.975, 9, 2.262], [0.975, 30, 2.042],
    [0.95, 1, 6.314], [0.95, 5, 2.015], [0.995, 2, 9.925], [0.9, 10, 1.372],
  ];
  for (const [p, df, t] of table) close(studentTQuantile(p, df), t, 5e-4, `t(${p}, ${df})`);
  close(studentTQuantile(0.025, 4), -2.776, 5e-4, 't(0.025, 4)');
  close(studentTQuantile(0.975, 1e6), 1.95996, 1e-4, 'large df -> normal');
  // df = 1 is the Cauchy distribution: CDF 1/2 + atan(t)/pi.
  for (const t of [-3, -0.5, 0, 0.7, 10]) close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `Cauchy CDF at ${t}`);
});

test('mean, sample sd and the paired 95% interval, checked by hand', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  close(sampleSd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, 'sd');
  assert.ok(Number.isNaN(sampleSd([3])));
  // Differences 0.10, 0.20, 0.30: mean 0.2, sd 0.1, n 3; half-width t(0.975, 2) * 0.1 / sqrt(3) = 4.3027 * 0.057735 = 0.24841.
  const d = pairedDifference([0.6, 0.7, 0.9], [0.5, 0.5, 0.6]);
  close(d.mean, 0.2, 1e-12, 'mean difference');
  close(d.sd, 0.1, 1e-12, 'sd of differences');
  close(d.low, 0.2 - 0.24841, 1e-4, 'low');
  close(d.high, 0.2 + 0.24841, 1e-4, 'high');
  assert.equal(verdict(d), 'inconclusive', 'the interval includes zero');
  // Differences 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5); half-width 2.7764 * 1.5811 / 2.2361 = 1.9632.
  const e = tInterval([1, 2, 3, 4, 5]);
  close(e.low, 3 - 1.9632, 1e-3, 'low');
  assert.equal(verdict(e), 'holds');
  assert.equal(verdict(tInterval([-1, -2, -3, -4, -5])), 'does not hold');
});

test('one seed gives no interval and an inconclusive verdict', () => {
  const d = pairedDifference([0.9], [0.1]);
  assert.equal(d.n, 1);
  assert.ok(Number.isNaN(d.low) && Number.isNaN(d.high));
  assert.equal(verdict(d), 'inconclusive');
  assert.throws(() => pairedDifference([1, 2], [1]), /paired difference/);
});

test('firstReach: the first evaluation at or above the target', () => {
  const curve = [{ step: 10, score: 0.2 }, { step: 20, score: 0.5 }, { step: 30, score: 0.4 }, { step: 40, score: 0.6 }];
  assert.equal(firstReach(curve, 0.5), 20);
  assert.equal(firstReach(curve, 0.55), 40);
  assert.equal(firstReach(curve, 0.7), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, lrFactor, validateSchedule } from '../../src/train/schedule.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

// Expected values are computed by hand from HF's lr_lambda formulas:
// warmup: step / max(1, W); progress = (step - W) / max(1, T - W);
// cosine: 0.5 * (1 + cos(pi * progress)); linear: (T - step) / max(1, T - W);
// with min_lr_rate r: r + (1 - r) * factor.
test('cosine with warmup matches get_cosine_schedule_with_warmup', () => {
  const o = { lr: 1e-3, warmupSteps: 10, maxSteps: 110, decay: 'cosine' as const };
  const cases: [number, number][] = [
    [0, 0],
    [1, 1e-4],
    [5, 5e-4],
    [10, 1e-3],
    [35, 1e-3 * 0.5 * (1 + Math.SQRT1_2)], // progress 0.25 -> 8.5355339e-4
    [60, 5e-4], // progress 0.5
    [85, 1e-3 * 0.5 * (1 - Math.SQRT1_2)], // progress 0.75 -> 1.4644661e-4
    [110, 0],
  ];
  for (const [s, v] of cases) close(learningRate(s, o), v, `step ${s}`);
  close(learningRate(35, o), 8.535533905932737e-4, 'hand value');
  // Past maxSteps we stay at the floor instead of following the cosine back up.
  close(learningRate(200, o), 0, 'after the end');
});

test('cosine with a floor matches get_cosine_with_min_lr_schedule_with_warmup', () => {
  const o = { lr: 6e-4, warmupSteps: 100, maxSteps: 1100, decay: 'cosine' as const, minLrRatio: 0.1 };
  close(learningRate(50, o), 3e-4, 'warmup ignores the floor');
  close(learningRate(600, o), 6e-4 * (0.1 + 0.9 * 0.5), 'midpoint: 3.3e-4');
  close(learningRate(1100, o), 6e-5, 'end: lr * ratio');
  close(learningRate(5000, o), 6e-5, 'after the end');
});

test('linear with warmup matches get_linear_schedule_with_warmup', () => {
  const o = { lr: 2e-5, warmupSteps: 10, maxSteps: 110, decay: 'linear' as const };
  close(learningRate(3, o), 6e-6, 'warmup');
  close(learningRate(10, o), 2e-5, 'peak');
  close(learningRate(35, o), 1.5e-5, '(110 - 35) / 100');
  close(learningRate(100, o), 2e-6, '(110 - 100) / 100');
  close(learningRate(110, o), 0, 'end');
  close(learningRate(111, o), 0, 'clamped at 0');
  close(lrFactor(60, { warmupSteps: 10, maxSteps: 110, decay: 'linear', minLrRatio: 0.2 }), 0.2 + 0.8 * 0.5, 'floor');
});

test('constant with warmup, and no warmup', () => {
  const o = { lr: 1, warmupSteps: 4, maxSteps: 10, decay: 'constant' as const };
  assert.deepEqual([0, 1, 2, 3, 4, 9, 20].map((s) => learningRate(s, o)), [0, 0.25, 0.5, 0.75, 1, 1, 1]);
  close(learningRate(0, { lr: 1, warmupSteps: 0, maxSteps: 10, decay: 'cosine' }), 1, 'no warmup starts at the peak');
  close(learningRate(5, { lr: 1, warmupSteps: 0, maxSteps: 10, decay: 'cosine' }), 0.5, 'half way');
  close(learningRate(5, { lr: 1, warmupSteps: 10, maxSteps: 10, decay: 'cosine' }), 0.5, 'warmup == maxSteps');
  close(learningRate(10, { lr: 1, warmupSteps: 10, maxSteps: 10, decay: 'cosine' }), 1, 'HF: progress 0 when warmup == total');
});

test('validateSchedule rejects bad options', () => {
  assert.throws(() => validateSchedule({ lr: 0, warmupSteps: 0, maxSteps: 1, decay: 'cosine' }), /lr must be > 0/);
  assert.throws(() => validateSchedule({ lr: 1, warmupSteps: -1, maxSteps: 1, decay: 'cosine' }), /warmupSteps/);
  assert.throws(() => validateSchedule({ lr: 1, warmupSteps: 0, maxSteps: 0, decay: 'cosine' }), /maxSteps/);
  assert.throws(() => validateSchedule({ lr: 1, warmupSteps: 0, maxSteps: 1, decay: 'cosine', minLrRatio: 2 }), /minLrRatio/);
});

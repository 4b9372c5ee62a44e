import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRepetitionPenalty,
  argmax,
  processLogits,
  sampleIndex,
  sampleNextToken,
  seededRandom,
  softmax,
  topKFilter,
  topPFilter,
} from '../../src/generate/sampling.js';

function randomLogits(rng: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() - 0.5) * 10);
}

/** Draws `n` samples and checks each frequency against `expected` within 5 standard deviations. */
function checkFrequencies(draw: () => number, expected: number[], n: number): void {
  const counts = new Array<number>(expected.length).fill(0);
  for (let i = 0; i < n; i++) counts[draw()]!++;
  expected.forEach((p, i) => {
    const f = counts[i]! / n;
    const sd = Math.sqrt((p * (1 - p)) / n);
    if (p === 0) assert.equal(counts[i], 0, `token ${i} must never be drawn`);
    else assert.ok(Math.abs(f - p) <= 5 * sd, `token ${i}: frequency ${f}, expected ${p}`);
  });
}

test('greedy is argmax (first index on ties)', () => {
  const rng = seededRandom(1);
  for (let k = 0; k < 200; k++) {
    const l = randomLogits(rng, 50);
    assert.equal(sampleNextToken(l, { doSample: false }, rng), argmax(l));
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
    assert.equal(argmax(l), best);
  }
  assert.equal(argmax(new Float32Array([1, 3, 3, 2])), 1);
  assert.equal(argmax(new Float32Array([-Infinity, -Infinity])), 0);
  assert.equal(argmax(new Float32Array([NaN, -1])), 1);
});

test('top-k = 1 equals greedy, whatever the temperature and the draw', () => {
  const rng = seededRandom(2);
  for (let k = 0; k < 200; k++) {
    const l = randomLogits(rng, 64);
    assert.equal(sampleNextToken(l, { topK: 1, temperature: 0.3 + 3 * rng() }, rng), argmax(l));
  }
});

test('top-k keeps the k largest (and ties with the k-th, as HF)', () => {
  assert.deepEqual([...topKFilter(new Float32Array([1, 5, 3, 4]), 2)], [-Infinity, 5, -Infinity, 4]);
  assert.deepEqual([...topKFilter(new Float32Array([1, 4, 3, 4]), 1)], [-Infinity, 4, -Infinity, 4]);
  assert.deepEqual([...topKFilter(new Float32Array([1, 2]), 5)], [1, 2]);
  const rng = seededRandom(3);
  const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  checkFrequencies(() => sampleNextToken(logits, { topK: 2 }, rng), [0.5 / 0.8, 0.3 / 0.8, 0], 20000);
});

test('top-p keeps the smallest set reaching p; sampling frequencies match the renormalised distribution', () => {
  const probs = [0.1, 0.5, 0.15, 0.25];
  const logits = Float32Array.from(probs, Math.log);
  // Sorted: 0.5, 0.25, 0.15, 0.1. Mass above 0.15 is 0.75 < 0.8 -> kept; above 0.1 is 0.9 -> dropped.
  const kept = topPFilter(logits, 0.8);
  assert.deepEqual([...kept].map((v) => v !== -Infinity), [false, true, true, true]);
  assert.deepEqual([...topPFilter(logits, 0.74)].map((v) => v !== -Infinity), [false, true, false, true]);
  assert.deepEqual([...topPFilter(logits, 0.01)].map((v) => v !== -Infinity), [false, true, false, false], 'at least one');
  assert.deepEqual([...topPFilter(logits, 1)], [...logits]);
  const rng = seededRandom(4);
  checkFrequencies(() => sampleNextToken(logits, { topP: 0.8 }, rng), [0, 0.5 / 0.9, 0.15 / 0.9, 0.25 / 0.9], 30000);
  // Plain sampling reproduces the softmax.
  checkFrequencies(() => sampleNextToken(logits, {}, rng), probs, 30000);
});

test('temperature scales the logits before the filters', () => {
  const logits = new Float32Array([2, 1, 0]);
  const p = softmax(processLogits(logits, { temperature: 2 }));
  const q = softmax([1, 0.5, 0]);
  p.forEach((v, i) => assert.ok(Math.abs(v - q[i]!) < 1e-7));
  // At high temperature top-p keeps more tokens than at low temperature.
  const hot = [...processLogits(logits, { temperature: 10, topP: 0.6 })].filter((v) => v > -Infinity).length;
  const cold = [...processLogits(logits, { temperature: 0.1, topP: 0.6 })].filter((v) => v > -Infinity).length;
  assert.ok(hot > cold, `${hot} vs ${cold}`);
  assert.throws(() => sampleNextToken(logits, { temperature: 0 }, Math.random), /temperature must be > 0/);
  assert.throws(() => sampleNextToken(logits, { topP: 0 }, Math.random), /topP must be in/);
});

test('repetition penalty: divides positive logits, multiplies negative ones, once per distinct token', () => {
  const logits = new Float32Array([2, -2, 0, 1, 3]);
  const out = applyRepetitionPenalty(logits, [0, 1, 1, 2, 2, 2], 2);
  assert.deepEqual([...out], [1, -4, 0, 1, 3]);
  assert.deepEqual([...logits], [2, -2, 0, 1, 3], 'input untouched');
  assert.deepEqual([...applyRepetitionPenalty(logits, [4], 0.5)], [2, -2, 0, 1, 6], 'penalty < 1 encourages');
  assert.deepEqual([...applyRepetitionPenalty(logits, [99, -1], 2)], [...logits], 'out-of-range ids ignored');
  // It changes the greedy choice: 3 -> 1.5 loses to 2.
  assert.equal(sampleNextToken(logits, { doSample: false, repetitionPenalty: 2 }, Math.random, [4]), 0);
  assert.throws(() => applyRepetitionPenalty(logits, [], 0), /repetitionPenalty must be > 0/);
});

test('sampleIndex and seededRandom', () => {
  assert.equal(sampleIndex([0, 1, 0], () => 0.999), 1);
  assert.equal(sampleIndex([0.5, 0.5 - 1e-12, 0], () => 0.9999999999999), 1, 'rounding falls back to the last possible token');
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, seededRandom(43)));
});

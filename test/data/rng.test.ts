import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, roundHalfEven } from '../../src/data/rng.js';

test('roundHalfEven rounds halves to even like Python/NumPy', () => {
  const cases: Array<[number, number]> = [
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2],
    [2.4999, 2], [2.5001, 3], [19.2, 19], [0.15 * 128, 19], [0.15 * 10, 2], [7, 7],
  ];
  for (const [x, y] of cases) assert.equal(roundHalfEven(x) + 0, y, String(x));
});

test('same seed, same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.nextUint32());
  const xb = Array.from({ length: 100 }, () => b.nextUint32());
  const xc = Array.from({ length: 100 }, () => c.nextUint32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.deepEqual(new Rng('seed').getState(), new Rng('seed').getState());
});

test('getState/setState resumes the exact stream', () => {
  const r = new Rng(7);
  for (let i = 0; i < 37; i++) r.random();
  const state = r.getState();
  const expected = Array.from({ length: 50 }, () => r.random());
  const s = new Rng(0);
  s.setState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual(Array.from({ length: 50 }, () => s.random()), expected);
  assert.throws(() => s.setState([0, 0, 0, 0]));
  assert.throws(() => s.setState([1, 2, 3]));
});

test('random() in [0,1) with mean 1/2; int(n) uniform; shuffle is a permutation', () => {
  const r = new Rng(1);
  let sum = 0;
  const N = 100000;
  for (let i = 0; i < N; i++) {
    const x = r.random();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / N - 0.5) < 0.01);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[r.int(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, String(counts));
  const a = Array.from({ length: 50 }, (_, i) => i);
  r.shuffle(a);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  const k = r.sampleIndices(20, 5);
  assert.equal(new Set(k).size, 5);
  assert.ok(k.every((i) => i >= 0 && i < 20));
});

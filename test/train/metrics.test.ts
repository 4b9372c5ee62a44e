import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, confusionMatrix, macroF1, perClassScores, perplexity, tokenClassificationScores, weightedMean } from '../../src/train/metrics.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('accuracy', () => {
  assert.equal(accuracy([0, 1, 2, 2], [0, 2, 2, 2]), 0.75);
  assert.equal(accuracy(new Int32Array([1]), new Int32Array([1])), 1);
  assert.ok(Number.isNaN(accuracy([], [])));
  assert.throws(() => accuracy([1, 2], [1]), /yTrue has 2 labels but yPred has 1/);
});

test('confusion matrix (sklearn layout: rows true, columns predicted)', () => {
  // sklearn docs example: y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2]
  assert.deepEqual(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]), {
    labels: [0, 1, 2],
    matrix: [
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ],
  });
  assert.deepEqual(confusionMatrix([5, 5], [5, 7], [7, 5, 9]).matrix, [[0, 0, 0], [1, 1, 0], [0, 0, 0]]);
});

test('macro-F1 with sklearn semantics (hand-checked)', () => {
  // Same example. Class 0: tp 2, fp 1, fn 0 -> F1 = 4/5. Class 1: tp 0 -> 0.
  // Class 2: tp 2, fp 1, fn 1 -> F1 = 4/6. Macro = (0.8 + 0 + 2/3) / 3 = 0.48888...
  close(macroF1([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]), (0.8 + 0 + 2 / 3) / 3);
  // sklearn docs: f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average='macro') = 0.26666...
  close(macroF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]), 0.8 / 3);
  // A label only predicted (3) counts, with F1 0; a label in neither does not.
  close(macroF1([0, 0, 1], [0, 3, 1]), (2 / 3 + 1 + 0) / 3);
  close(macroF1([1, 1], [1, 1]), 1);
  // Explicit labels include absent ones (F1 0 by zero_division=0).
  close(macroF1([1, 1], [1, 1], [0, 1]), 0.5);
  const scores = perClassScores([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]);
  assert.deepEqual(scores.map((s) => [s.label, s.support]), [[0, 2], [1, 1], [2, 3]]);
  close(scores[0]!.precision, 2 / 3);
  close(scores[2]!.recall, 2 / 3);
});

test('perplexity and weighted mean', () => {
  close(perplexity(0), 1);
  close(perplexity(Math.log(50)), 50);
  close(weightedMean([2, 4], [1, 3]), 3.5);
  close(weightedMean([2, 4]), 3);
  close(perplexity(weightedMean([Math.log(10), Math.log(1000)])), 100);
  assert.throws(() => weightedMean([1], [1, 2]), /1 values but 2 weights/);
});

test('token classification scores skip the -100 positions', () => {
  const r = tokenClassificationScores([-100, 0, 1, -100, 1, 2, -100], [5, 0, 1, 0, 2, 2, 9]);
  assert.equal(r.count, 4);
  assert.equal(r.accuracy, 0.75);
  // per class F1: 0 -> 1, 1 -> 2/3, 2 -> 2/3.
  assert.ok(Math.abs(r.macroF1 - (1 + 2 / 3 + 2 / 3) / 3) < 1e-12);
});

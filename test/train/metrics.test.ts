import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy, confusionMatrix, macroF1, perClassScores, perplexity, squadExactMatch, squadF1, squadNormalize, squadScores, tokenClassificationScores, weightedMean, wordAccuracy,
} from '../../src/train/metrics.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('accuracy', () => {
  assert.equal(accuracy([0, 1, 2, 2], [0, 2, 2, 2]), 0.75);
  assert.equal(accuracy(new Int32Array([1]), new Int32Array([1])), 1);
  assert.ok(Number.isNaN(accuracy([], [])));
  assert.throws(() => accuracy([1, 2], [1]), /yTrue has 2 labels but yPred has 1/);
});

test('word accuracy of generated tag sequences: position by position over all target words', () => {
  // 3 of 4 right in the first, 1 of 2 in the second (one tag missing), 0 of 1 in the third; extra tags ignored.
  assert.equal(wordAccuracy(['DET NOUN VERB .', 'PRON VERB', 'NOUN'], ['DET NOUN NOUN .', 'PRON', 'VERB NOUN']), 4 / 7);
  assert.equal(wordAccuracy(['DET  NOUN'], [' DET NOUN . .']), 1);
  assert.ok(Number.isNaN(wordAccuracy([], [])));
  assert.throws(() => wordAccuracy(['A'], []), /1 targets but 0 outputs/);
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

// Cases worked by hand from the official SQuAD v1.1 evaluate script (normalize_answer, f1_score, exact_match_score,
// metric_max_over_ground_truths).
test('squadNormalize: lower case, ASCII punctuation, articles a/an/the as whole words, whitespace', () => {
  assert.equal(squadNormalize('The Quick, Brown fox!'), 'quick brown fox');
  assert.equal(squadNormalize('  An apple a day\tkeeps  '), 'apple day keeps');
  assert.equal(squadNormalize('theatre anthem'), 'theatre anthem');
  assert.equal(squadNormalize("café's"), 'cafés');
  // Python's \b is Unicode-aware: "éa" is one word (a stays), "a—b" has a word boundary at the em dash (a goes;
  // the dash is not in string.punctuation).
  assert.equal(squadNormalize('éa'), 'éa');
  assert.equal(squadNormalize('a—b'), '—b');
  assert.equal(squadNormalize('U.S.-based'), 'usbased');
});

test('squadF1 and squadExactMatch: bag-of-tokens F1 on normalised answers', () => {
  close(squadF1('the cat sat on the mat', 'a cat on a mat'), (2 * 0.75 * 1) / 1.75);
  close(squadF1('New York New York', 'New York'), 2 / 3);
  assert.equal(squadF1('Paris', 'London'), 0);
  assert.equal(squadF1('', 'London'), 0);
  assert.equal(squadExactMatch('The Beatles', 'beatles!'), 1);
  assert.equal(squadExactMatch('Beatles band', 'beatles'), 0);
  // Both normalise to nothing: exact match, but f1_score finds no common token.
  assert.equal(squadExactMatch('the', 'a'), 1);
  assert.equal(squadF1('the', 'a'), 0);
});

test('squadScores: the best gold answer per question, averaged, as fractions', () => {
  const s = squadScores(['Denver Broncos', 'Broncos'], [['Denver Broncos', 'The Denver Broncos', 'Broncos'], ['Denver Broncos', 'Carolina Panthers']]);
  close(s.exactMatch, 0.5);
  close(s.f1, (1 + 2 / 3) / 2);
  assert.equal(s.count, 2);
  assert.ok(Number.isNaN(squadScores([], []).f1));
  assert.throws(() => squadScores(['a'], []), /1 predictions but 0 questions/);
});

// SpanBERT span masking and the span boundary objective.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import { IGNORE_INDEX, MaskKind, cumulative, encoderSpecials, maskVocab, spanLengthDistribution, spanMask } from '../../src/objectives/masking.js';
import { getObjective } from '../../src/objectives/index.js';
import { MAX_PAIR_TARGETS, sboSlots, sboTargets, spanEvalBatches, spanStream } from '../../src/objectives/span.js';
import { CLS, CONT, MASK, SEP, batchKey, docSource, fakeTokenizer, isSpecial, nums, options, originals, rows, synthDocs } from './helpers.js';

const tok = fakeTokenizer();
const vocab = maskVocab(tok, encoderSpecials(tok, 'test'));
const so = { maskProb: 0.15, spanP: 0.2, spanMaxWords: 10 };

test('the renormalised clipped geometric table of objectives.md, mean 3.80', () => {
  const p = spanLengthDistribution(0.2, 10);
  assert.deepEqual(p.map((x) => x.toFixed(4)), ['0.2241', '0.1792', '0.1434', '0.1147', '0.0918', '0.0734', '0.0587', '0.0470', '0.0376', '0.0301']);
  assert.equal(p.reduce((a, x, i) => a + x * (i + 1), 0).toFixed(2), '3.80');
  assert.throws(() => spanLengthDistribution(0, 10), /geometric p/);
});

test('one-token words: mean span 3.80 words, exactly ceil(0.15 n) masked, 15% overall, per-span 80/10/10', () => {
  const rng = new Rng(21);
  const cdf = cumulative(spanLengthDistribution(0.2, 10));
  let words = 0, raw = 0, masked = 0, cand = 0;
  const kinds = [0, 0, 0, 0];
  while (kinds.reduce((a, b) => a + b, 0) < 25_000) {
    const ids = [CLS, ...Array.from({ length: 1022 }, () => 5 + rng.int(CONT - 5)), SEP];
    const m = spanMask(ids, vocab, rng, so, ids.length, undefined, cdf);
    const n = m.labels.filter((x) => x !== IGNORE_INDEX).length;
    assert.equal(m.budget, Math.ceil(0.15 * 1022));
    assert.equal(n, m.budget, 'exactly the budget');
    assert.equal(m.labels[0], IGNORE_INDEX);
    assert.equal(m.labels[1023], IGNORE_INDEX);
    masked += n;
    cand += 1022;
    for (const r of m.rawSpans) {
      words += r.words;
      raw++;
    }
    for (const s of m.spans) {
      kinds[s.kind]++;
      for (let i = s.start; i <= s.end; i++) {
        assert.equal(m.kinds[i], s.kind, 'one decision per span');
        if (s.kind === MaskKind.Mask) assert.equal(m.inputIds[i], MASK);
        else if (s.kind === MaskKind.Keep) assert.equal(m.inputIds[i], ids[i]);
        else assert.ok(!isSpecial(m.inputIds[i]!));
      }
    }
    // Merged spans are disjoint and separated by at least one unmasked token.
    for (let k = 1; k < m.spans.length; k++) assert.ok(m.spans[k]!.start > m.spans[k - 1]!.end + 1);
  }
  assert.ok(Math.abs(words / raw - 3.8) < 0.2, `mean span ${words / raw} words`);
  assert.ok(Math.abs((100 * masked) / cand - 15) < 0.5, `masked ${(100 * masked) / cand}%`);
  const total = kinds[1]! + kinds[2]! + kinds[3]!;
  const pct = (k: number) => (100 * kinds[k]!) / total;
  assert.ok(Math.abs(pct(MaskKind.Mask) - 80) < 1.5, `[MASK] spans ${pct(MaskKind.Mask)}%`);
  assert.ok(Math.abs(pct(MaskKind.Random) - 10) < 1.5, `random spans ${pct(MaskKind.Random)}%`);
  assert.ok(Math.abs(pct(MaskKind.Keep) - 10) < 1.5, `kept spans ${pct(MaskKind.Keep)}%`);
});

test('multi-piece words: spans cover whole words only; the budget is passed by less than one word', () => {
  const rng = new Rng(22);
  for (let k = 0; k < 300; k++) {
    const body: number[] = [];
    const wordOf: number[] = [];
    let w = 0;
    while (body.length < 200) {
      body.push(5 + rng.int(CONT - 5));
      wordOf.push(w);
      if (rng.random() < 0.4) for (let e = rng.intBetween(1, 3); e > 0; e--) (body.push(CONT + rng.int(300)), wordOf.push(w));
      w++;
    }
    const ids = [CLS, ...body, SEP];
    const m = spanMask(ids, vocab, rng, so);
    const state = new Map<number, Set<boolean>>();
    body.forEach((_, i) => {
      const s = state.get(wordOf[i]!) ?? new Set<boolean>();
      s.add(m.labels[i + 1] !== IGNORE_INDEX);
      state.set(wordOf[i]!, s);
    });
    for (const [, s] of state) assert.equal(s.size, 1, 'never a partially masked word');
    const n = m.labels.filter((x) => x !== IGNORE_INDEX).length;
    assert.ok(n >= m.budget && n < m.budget + 4, `${n} vs budget ${m.budget}`);
  }
});

test('SBO targets point at the span boundaries; at most 15 targets a span; P slots', () => {
  // A hand-made span longer than 15 tokens.
  const ids = Array.from({ length: 40 }, (_, i) => 100 + i);
  const t = sboTargets(ids, [{ start: 3, end: 22, kind: MaskKind.Mask }, { start: 30, end: 31, kind: MaskKind.Keep }], 40, 100);
  assert.equal(t.length, MAX_PAIR_TARGETS + 2);
  assert.deepEqual(t[0], { left: 2, right: 23, position: 0, label: 103 });
  assert.deepEqual(t[14], { left: 2, right: 23, position: 14, label: 117 });
  assert.deepEqual(t[15], { left: 29, right: 32, position: 0, label: 130 });
  assert.equal(sboTargets(ids, [{ start: 0, end: 2, kind: MaskKind.Mask }, { start: 38, end: 39, kind: MaskKind.Mask }], 40, 100).length, 0, 'no neighbour, no target');
  assert.equal(sboTargets(ids, [{ start: 3, end: 22, kind: MaskKind.Mask }], 40, 4).length, 4, 'capped at P slots');
  assert.equal(sboSlots({ maskProb: 0.15, seqLen: 128 }), 20);

  const docs = docSource(synthDocs({ docs: 30, sentences: [2, 12], words: [3, 20], multiPiece: 0.2, seed: 23 }));
  const o = options({ seqLen: 128, batchSize: 8, packing: 'doc-sentences' });
  assert.deepEqual(getObjective('span').heads, ['mlm', 'sbo']);
  assert.deepEqual(getObjective('span').inputs(o).map((i) => [i.name, i.shape]), [
    ['input_ids', [8, 128]], ['attention_mask', [8, 128]], ['labels', [8, 128]],
    ['sbo_left', [8, 20]], ['sbo_right', [8, 20]], ['sbo_position', [8, 20]], ['sbo_labels', [8, 20]],
  ]);
  const s = spanStream(docs, tok, o);
  let targets = 0;
  for (let k = 0; k < 20; k++) {
    const b = s.next();
    const orig = originals(b), lab = rows(b, 'labels'), att = rows(b, 'attention_mask');
    const L = rows(b, 'sbo_left'), R = rows(b, 'sbo_right'), P = rows(b, 'sbo_position'), Y = rows(b, 'sbo_labels');
    assert.deepEqual(b['sbo_left']!.shape, [8, 20]);
    for (let r = 0; r < 8; r++) {
      for (let j = 0; j < 20; j++) {
        if (Y[r]![j] === IGNORE_INDEX) {
          assert.equal(L[r]![j], 0);
          continue;
        }
        targets++;
        const l = L[r]![j]!, rr = R[r]![j]!, p = P[r]![j]!;
        const at = l + 1 + p;
        assert.ok(p < MAX_PAIR_TARGETS && at < rr);
        assert.equal(Y[r]![j], orig[r]![at], 'the label is the original token at left + 1 + position');
        assert.notEqual(lab[r]![at], IGNORE_INDEX, 'the target is masked');
        assert.equal(lab[r]![l], IGNORE_INDEX, 'the left neighbour is not masked');
        assert.equal(lab[r]![rr], IGNORE_INDEX, 'the right neighbour is not masked');
        assert.equal(att[r]![rr], 1, 'the right neighbour is not padding');
        for (let i = l + 1; i < rr; i++) assert.notEqual(lab[r]![i], IGNORE_INDEX, 'the whole span between is masked');
      }
    }
  }
  assert.ok(targets > 500);
});

test('resume: a restored span stream serves exactly the batches of the original, across epochs', () => {
  const docs = docSource(synthDocs({ docs: 10, sentences: [1, 5], words: [2, 9], multiPiece: 0.2, seed: 24 }));
  for (const o of [options({ seqLen: 32, batchSize: 4 }), options({ seqLen: 40, batchSize: 3, masking: 'static', dupeFactor: 2, packing: 'doc-sentences' })]) {
    const a = spanStream(docs, tok, o);
    for (let i = 0; i < 6; i++) a.next();
    const st = JSON.parse(JSON.stringify(a.state()));
    const ka = Array.from({ length: 40 }, () => batchKey(a.next()));
    const b = spanStream(docs, tok, o);
    b.restore(st);
    assert.deepEqual(Array.from({ length: 40 }, () => batchKey(b.next())), ka);
    assert.ok(((a.state() as { packing: { epoch: number } }).packing.epoch) >= 2, 'the continuation crosses epochs');
  }
});

test('evalBatches are the same on every call', () => {
  const docs = docSource(synthDocs({ docs: 30, sentences: [1, 5], words: [2, 9], seed: 25 }));
  const o = options({ seqLen: 32, batchSize: 4 });
  const a = spanEvalBatches(docs, tok, o, 3).map(batchKey);
  assert.equal(a.length, 3);
  assert.deepEqual(getObjective('span').evalBatches(docs, tok, o, 3).map(batchKey), a);
  assert.ok(nums(spanEvalBatches(docs, tok, o, 1)[0]!, 'labels').some((x) => x !== IGNORE_INDEX));
});

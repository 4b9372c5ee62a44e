// BERT's next sentence prediction instances (create_pretraining_data) + MLM on top.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getObjective } from '../../src/objectives/index.js';
import { layoutPair, nspEpochInstances, nspEvalBatches, nspStream } from '../../src/objectives/nsp.js';
import { IGNORE_INDEX } from '../../src/objectives/masking.js';
import { CLS, PAD, SEP, batchKey, docOfToken, docSource, fakeTokenizer, nums, options, originals, rows, synthDocs } from './helpers.js';

const tok = fakeTokenizer();

test('the registry knows mlm+nsp with its heads and inputs', () => {
  const o = getObjective('mlm+nsp');
  assert.deepEqual(o.heads, ['mlm', 'nsp']);
  assert.deepEqual(
    o.inputs(options({ batchSize: 2, seqLen: 16 })).map((i) => [i.name, i.shape]),
    [['input_ids', [2, 16]], ['attention_mask', [2, 16]], ['labels', [2, 16]], ['token_type_ids', [2, 16]], ['next_sentence_label', [2]]],
  );
});

test('instances: IsNext about half, random B never from A\'s document, lengths within max_tokens, both segments non-empty', () => {
  // Long documents and short_seq_prob 0 for the 50% check: a one-sentence chunk (at a document's end, or every chunk
  // of a document whose short target is below one sentence) always gets a random B, as in create_pretraining_data,
  // which tilts the share towards NotNext by a few points with short_seq_prob 0.1.
  const docs = docSource(synthDocs({ docs: 200, sentences: [80, 120], words: [3, 14], seed: 11 }));
  const maxTokens = 61;
  for (const shortSeqProb of [0, 0.1]) {
    let isNext = 0, total = 0, short = 0;
    for (const key of ['0', '1']) {
      for (const x of nspEpochInstances(docs, maxTokens, shortSeqProb, 3, key)) {
        total++;
        if (!x.isRandom) {
          isNext++;
          assert.equal(x.docB, x.docA);
          assert.ok(x.bStart >= x.aEnd, 'the continuation comes after A');
        } else assert.notEqual(x.docB, x.docA, 'a random B comes from another document');
        const la = x.aEnd - x.aStart, lb = x.bEnd - x.bStart;
        assert.ok(la >= 1 && lb >= 1 && la + lb <= maxTokens);
        if (la + lb < 30) short++;
      }
    }
    assert.ok(total > 5000, `${total} instances`);
    if (shortSeqProb === 0) {
      assert.ok(Math.abs((100 * isNext) / total - 50) < 2, `IsNext ${(100 * isNext) / total}%`);
      assert.ok(short / total < 0.03, `few short pairs without short_seq_prob (${short / total})`);
    } else {
      assert.ok(Math.abs((100 * isNext) / total - 50) < 6, `IsNext ${(100 * isNext) / total}%`);
      assert.ok(short / total > 0.05, `short_seq_prob gives short pairs (${short / total})`);
    }
  }
  // Deterministic from (seed, key); another key gives other instances.
  assert.deepEqual(nspEpochInstances(docs, maxTokens, 0.1, 3, '0'), nspEpochInstances(docs, maxTokens, 0.1, 3, '0'));
  assert.notDeepEqual(nspEpochInstances(docs, maxTokens, 0.1, 3, '0'), nspEpochInstances(docs, maxTokens, 0.1, 3, '1'));
});

test('truncation trims the longer segment (tie: B) from either end', () => {
  // One long sentence per document: every chunk has one sentence, so B is random and both are long.
  const docs = docSource(Array.from({ length: 6 }, (_, d) => [Array.from({ length: 40 }, (_, i) => 5 + d * 50 + i)]));
  const inst = nspEpochInstances(docs, 21, 0, 1, '0');
  let frontA = 0, backA = 0;
  for (const x of inst) {
    assert.ok(x.isRandom);
    const la = x.aEnd - x.aStart, lb = x.bEnd - x.bStart;
    assert.equal(la + lb, 21);
    // 40 + 40 -> ... -> 11 + 11, a tie: B loses the last token.
    assert.ok(la === 11 && lb === 10, `A ${la}, B ${lb}`);
    if (x.aStart > 0) frontA++;
    if (x.aEnd < 40) backA++;
  }
  assert.ok(frontA > 0 && backA > 0, 'both ends are trimmed');
});

test('batches: [CLS] A [SEP] B [SEP] with token types 0/1 exact, lengths within seqLen, B of NotNext from another document', () => {
  const docs = docSource(synthDocs({ docs: 29, sentences: [40, 80], words: [3, 14], docCoded: true, seed: 12 }));
  const o = options({ seqLen: 64, batchSize: 16 });
  const s = nspStream(docs, tok, o);
  let ones = 0, n = 0;
  for (let k = 0; k < 60; k++) {
    const b = s.next();
    const types = rows(b, 'token_type_ids'), att = rows(b, 'attention_mask'), orig = originals(b);
    const nsp = nums(b, 'next_sentence_label');
    assert.deepEqual(b['next_sentence_label']!.shape, [16]);
    orig.forEach((r, i) => {
      const len = att[i]!.reduce((a, x) => a + x, 0);
      assert.ok(len <= 64);
      assert.equal(r[0], CLS);
      const seps = r.map((x, j) => (x === SEP && j < len ? j : -1)).filter((j) => j >= 0);
      assert.equal(seps.length, 2, 'two [SEP]');
      assert.equal(seps[1], len - 1);
      const expected = r.map((_, j) => (j < len && j > seps[0]! ? 1 : 0));
      assert.deepEqual(types[i], expected);
      for (let j = len; j < 64; j++) assert.equal(r[j], PAD);
      const docsA = new Set(r.slice(1, seps[0]).map(docOfToken));
      const docsB = new Set(r.slice(seps[0]! + 1, len - 1).map(docOfToken));
      assert.equal(docsA.size, 1);
      assert.equal(docsB.size, 1);
      const same = [...docsA][0] === [...docsB][0];
      if (nsp[i] === 0) assert.ok(same, 'IsNext: B from A\'s document');
      else assert.ok(!same, 'NotNext: B never from A\'s document');
      ones += nsp[i]!;
      n++;
    });
    // MLM on top: never on specials.
    const labs = rows(b, 'labels');
    orig.forEach((r, i) => r.forEach((x, j) => (x === CLS || x === SEP || x === PAD) && assert.equal(labs[i]![j], IGNORE_INDEX)));
  }
  assert.ok(Math.abs(ones / n - 0.5) < 0.12, `NotNext ${ones / n}`); // small corpus: see the statistical test above
});

test('layoutPair marks sentence starts for whole-word masking', () => {
  const docs = docSource([[[10, 11], [12, 13, 14]], [[20, 21, 22]]]);
  const p = layoutPair(docs, { docA: 0, aStart: 0, aEnd: 5, docB: 1, bStart: 1, bEnd: 3, isRandom: true }, { start: CLS, sep: SEP });
  assert.deepEqual(Array.from(p.tokens), [CLS, 10, 11, 12, 13, 14, SEP, 21, 22, SEP]);
  assert.deepEqual(Array.from(p.tokenTypes), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(p.sentenceStarts), [0, 1, 0, 1, 0, 0, 0, 1, 0, 0]);
  assert.equal(p.label, 1);
});

test('resume: a restored stream serves exactly the batches of the original, across an epoch boundary', () => {
  const docs = docSource(synthDocs({ docs: 8, sentences: [2, 8], words: [2, 10], seed: 13 }));
  for (const o of [options({ seqLen: 32, batchSize: 4 }), options({ seqLen: 32, batchSize: 5, masking: 'static', dupeFactor: 2, wholeWord: true })]) {
    const a = nspStream(docs, tok, o);
    for (let i = 0; i < 5; i++) a.next();
    const st = JSON.parse(JSON.stringify(a.state()));
    const ka = Array.from({ length: 30 }, () => batchKey(a.next()));
    const b = nspStream(docs, tok, o);
    b.restore(st);
    assert.deepEqual(Array.from({ length: 30 }, () => batchKey(b.next())), ka);
    assert.ok((a.state() as { epoch: number }).epoch >= 2, 'the continuation crosses epochs');
  }
});

test('static masking repeats with period dupeFactor epochs', () => {
  const docs = docSource(synthDocs({ docs: 8, sentences: [2, 8], words: [2, 10], seed: 13 }));
  const o = options({ seqLen: 32, batchSize: 1, masking: 'static', dupeFactor: 2 });
  const s = nspStream(docs, tok, o);
  const byEpoch = new Map<number, string[]>();
  for (let i = 0; i < 400; i++) {
    const k = batchKey(s.next());
    const e2 = (s.state() as { epoch: number }).epoch; // the served row's epoch (the stream rolls over before serving)
    if (!byEpoch.has(e2)) byEpoch.set(e2, []);
    byEpoch.get(e2)!.push(k);
  }
  assert.deepEqual(byEpoch.get(2), byEpoch.get(0));
  assert.deepEqual(byEpoch.get(3), byEpoch.get(1));
  assert.notDeepEqual(byEpoch.get(1), byEpoch.get(0));
});

test('evalBatches are the same on every call; one document is an error', () => {
  const docs = docSource(synthDocs({ docs: 20, sentences: [2, 8], words: [2, 10], seed: 14 }));
  const o = options({ seqLen: 32, batchSize: 4 });
  const a = nspEvalBatches(docs, tok, o, 5).map(batchKey);
  assert.equal(a.length, 5);
  assert.deepEqual(getObjective('mlm+nsp').evalBatches(docs, tok, o, 5).map(batchKey), a);
  assert.throws(() => nspStream(docSource([[[10, 11], [12]]]), tok, o).next(), /at least two non-empty documents/);
});

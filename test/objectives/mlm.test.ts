// Masked LM (BERT/RoBERTa): selection rules, 80/10/10, whole-word masking, packing, static vs dynamic, resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, roundHalfEven } from '../../src/data/rng.js';
import {
  IGNORE_INDEX,
  MaskKind,
  encoderSpecials,
  fixedBudget,
  maskSequence,
  maskVocab,
  type MaskingOptions,
} from '../../src/objectives/masking.js';
import { RowPacker, dataEpoch, documentOrder, mlmEvalBatches, mlmStream } from '../../src/objectives/mlm.js';
import { getObjective, type ObjectiveTokenizer } from '../../src/objectives/index.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { tokenizerFromJson } from '../../src/tokenizers/tokenizer.js';
import { brownSlice } from '../tokenizers/helpers.js';
import {
  CLS, CONT, MASK, PAD, SEP, UNK, batchKey, docOfToken, docSource, fakeTokenizer, isSpecial, nums, options, originals, rows, synthDocs,
} from './helpers.js';

const tok = fakeTokenizer();
const sp = encoderSpecials(tok, 'test');
const vocab = maskVocab(tok, sp);

test('the registry knows mlm with its heads and inputs', () => {
  const o = getObjective('mlm');
  assert.deepEqual(o.heads, ['mlm']);
  assert.deepEqual(o.inputs(options({ batchSize: 2, seqLen: 16 })), [
    { name: 'input_ids', dtype: 'int64', shape: [2, 16] },
    { name: 'attention_mask', dtype: 'int64', shape: [2, 16] },
    { name: 'labels', dtype: 'int64', shape: [2, 16] },
  ]);
});

test('bernoulli over >= 300k candidates: 15% chosen; of them 80% [MASK], 10% random, 10% kept; specials and padding never', () => {
  const docs = docSource(synthDocs({ docs: 60, sentences: [3, 30], words: [3, 25], unk: 0.01, seed: 3 }));
  const o = options({ seqLen: 128, batchSize: 16, packing: 'doc-sentences' });
  const s = mlmStream(docs, tok, o);
  let cand = 0, chosen = 0, masked = 0, random = 0, kept = 0, pads = 0;
  while (cand < 300_000) {
    const b = s.next();
    const ids = nums(b, 'input_ids'), lab = nums(b, 'labels'), att = nums(b, 'attention_mask');
    const orig = ids.map((x, i) => (lab[i] !== IGNORE_INDEX ? lab[i]! : x));
    for (let i = 0; i < ids.length; i++) {
      if (!att[i]) {
        pads++;
        assert.equal(ids[i], PAD);
        assert.equal(lab[i], IGNORE_INDEX, 'padding is never chosen');
        continue;
      }
      if (isSpecial(orig[i]!)) {
        assert.equal(lab[i], IGNORE_INDEX, 'special tokens are never chosen');
        continue;
      }
      cand++;
      if (lab[i] === IGNORE_INDEX) continue;
      chosen++;
      if (ids[i] === MASK) masked++;
      else if (ids[i] === lab[i]) kept++;
      else {
        random++;
        assert.ok(!isSpecial(ids[i]!), 'a random replacement is never a special id');
      }
    }
  }
  assert.ok(pads > 0, 'doc-sentences leaves padding');
  const pct = (a: number, b: number) => (100 * a) / b;
  assert.ok(Math.abs(pct(chosen, cand) - 15) < 0.5, `chosen ${pct(chosen, cand)}%`);
  assert.ok(Math.abs(pct(masked, chosen) - 80) < 1, `[MASK] ${pct(masked, chosen)}%`);
  assert.ok(Math.abs(pct(random, chosen) - 10) < 1, `random ${pct(random, chosen)}%`);
  assert.ok(Math.abs(pct(kept, chosen) - 10) < 1, `kept ${pct(kept, chosen)}%`);
});

function seqOf(len: number, rng: Rng, multiPiece = 0): number[] {
  // [CLS] tokens [SEP], len counting both specials.
  const body: number[] = [];
  while (body.length < len - 2) {
    body.push(5 + rng.int(CONT - 5));
    if (multiPiece && rng.random() < multiPiece) for (let k = rng.intBetween(1, 3); k > 0 && body.length < len - 2; k--) body.push(CONT + rng.int(300));
  }
  return [CLS, ...body, SEP];
}

test('fixed: exactly min(maxPredictions, max(1, roundHalfEven(0.15 len))) tokens, len counting [CLS] and [SEP]', () => {
  assert.equal(fixedBudget(10, 0.15, 20), 2); // 1.5 -> 2
  assert.equal(fixedBudget(30, 0.15, 20), 4); // 4.5 -> 4
  assert.equal(fixedBudget(50, 0.15, 20), 8); // 7.5 -> 8
  assert.equal(fixedBudget(3, 0.15, 20), 1); // minimum 1
  assert.equal(fixedBudget(512, 0.15, 20), 20); // capped
  const rng = new Rng(1);
  const o: MaskingOptions = { maskProb: 0.15, selection: 'fixed', maxPredictions: 20, wholeWord: false };
  for (const len of [3, 4, 10, 17, 30, 50, 70, 128, 200, 512]) {
    for (let k = 0; k < 20; k++) {
      const ids = seqOf(len, rng);
      const m = maskSequence(ids, vocab, rng, o);
      const n = m.labels.filter((x) => x !== IGNORE_INDEX).length;
      assert.equal(n, Math.min(20, Math.max(1, roundHalfEven(0.15 * len))), `len ${len}`);
      assert.equal(m.labels[0], IGNORE_INDEX);
      assert.equal(m.labels[len - 1], IGNORE_INDEX);
    }
  }
  // Whole words: a word that would overflow the budget is skipped, not a stop: with one 3-piece word and
  // many one-piece words, a budget of 2 is always filled by single words and the long word is never chosen.
  const ww = { ...o, wholeWord: true };
  for (let k = 0; k < 200; k++) {
    const ids = [CLS, 10, CONT, CONT + 1, 11, 12, 13, 14, 15, 16, SEP]; // len 11 -> budget 2
    const m = maskSequence(ids, vocab, rng, ww);
    const chosen = [...m.labels.keys()].filter((i) => m.labels[i] !== IGNORE_INDEX);
    assert.equal(chosen.length, 2);
    assert.ok(!chosen.includes(1) && !chosen.includes(2) && !chosen.includes(3));
  }
});

test('fairseq: floor(0.15 n + U) positions, uniform without replacement', () => {
  const rng = new Rng(2);
  const o: MaskingOptions = { maskProb: 0.15, selection: 'fairseq', maxPredictions: 20, wholeWord: false };
  const counts = new Map<number, number>();
  const hits = new Array<number>(52).fill(0);
  for (let k = 0; k < 4000; k++) {
    const ids = seqOf(52, rng); // 50 candidates: 7.5 -> 7 or 8, half each
    const m = maskSequence(ids, vocab, rng, o);
    const n = m.labels.filter((x) => x !== IGNORE_INDEX).length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
    m.labels.forEach((x, i) => x !== IGNORE_INDEX && hits[i]++);
  }
  assert.deepEqual([...counts.keys()].sort(), [7, 8]);
  assert.ok(Math.abs(counts.get(7)! / 4000 - 0.5) < 0.03, `P(7) = ${counts.get(7)! / 4000}`);
  assert.equal(hits[0], 0);
  assert.equal(hits[51], 0);
  const inner = hits.slice(1, 51);
  // 4000 * 7.5 / 50 = 600 per position.
  assert.ok(Math.min(...inner) > 480 && Math.max(...inner) < 720, `${Math.min(...inner)}..${Math.max(...inner)}`);
});

test('bernoulli has no cap and no minimum', () => {
  const rng = new Rng(5);
  const o: MaskingOptions = { maskProb: 0.15, selection: 'bernoulli', maxPredictions: 20, wholeWord: false };
  const counts = new Set<number>();
  for (let k = 0; k < 500; k++) counts.add(maskSequence(seqOf(300, rng), vocab, rng, o).labels.filter((x) => x !== IGNORE_INDEX).length);
  assert.ok(counts.has(0) || [...counts].some((n) => n > 20), 'counts above the fixed cap occur');
  const few = new Set<number>();
  for (let k = 0; k < 500; k++) few.add(maskSequence(seqOf(5, rng), vocab, rng, o).labels.filter((x) => x !== IGNORE_INDEX).length);
  assert.ok(few.has(0), 'a short sequence can have no prediction');
});

/** Word ids per position (-1 for specials): a word starts at a wordStarts id, a sentence start, or after a special. */
function wordsOf(ids: number[], tk: ObjectiveTokenizer, sentenceStartAt: Set<number> = new Set()): number[] {
  const special = new Set(tk.allSpecialIds);
  let w = -1;
  let prevSpecial = true;
  return ids.map((id, i) => {
    if (special.has(id)) {
      prevSpecial = true;
      return -1;
    }
    if (prevSpecial || tk.wordStarts[id] === 1 || sentenceStartAt.has(i)) w++;
    prevSpecial = false;
    return w;
  });
}

function checkWholeWords(b: ReturnType<typeof mlmStream>['next'] extends () => infer R ? R : never, tk: ObjectiveTokenizer): { words: number; chosenWords: number; pieces: number } {
  const origs = originals(b);
  const labs = rows(b, 'labels');
  let words = 0, chosenWords = 0, pieces = 0;
  origs.forEach((o, r) => {
    const w = wordsOf(o, tk);
    const state = new Map<number, Set<boolean>>();
    w.forEach((wi, i) => {
      if (wi < 0) return;
      if (!state.has(wi)) state.set(wi, new Set());
      state.get(wi)!.add(labs[r]![i] !== IGNORE_INDEX);
    });
    for (const [, s] of state) {
      // Our wordsOf cannot see sentence starts inside a row; a sentence starting mid-word splits our word in two,
      // which would show up here as a mixed word. Synthetic sentences start with a word-start id, so it cannot.
      assert.equal(s.size, 1, 'never a partially masked word');
      words++;
      if (s.has(true)) chosenWords++;
    }
    pieces += w.filter((x) => x >= 0).length;
  });
  return { words, chosenWords, pieces };
}

test('whole-word masking (fake WordPiece ids): words are chosen whole, at 15% of words', () => {
  const docs = docSource(synthDocs({ docs: 40, sentences: [3, 20], words: [3, 20], multiPiece: 0.3, seed: 4 }));
  for (const selection of ['bernoulli', 'fixed', 'fairseq'] as const) {
    const s = mlmStream(docs, tok, options({ seqLen: 128, batchSize: 16, wholeWord: true, selection }));
    let words = 0, chosen = 0;
    for (let k = 0; k < (selection === 'bernoulli' ? 60 : 10); k++) {
      const r = checkWholeWords(s.next(), tok);
      words += r.words;
      chosen += r.chosenWords;
    }
    if (selection !== 'fixed') assert.ok(Math.abs((100 * chosen) / words - 15) < (selection === 'bernoulli' ? 0.8 : 1.5), `${selection}: ${(100 * chosen) / words}% of words`);
  }
});

test('whole-word masking with a real WordPiece tokenizer (## continuations) and byte-level BPE (Ġ word starts)', async () => {
  const text = brownSlice(6);
  for (const kind of ['wordpiece', 'bpe'] as const) {
    const trained = trainTokenizer(kind, text, { vocabSize: kind === 'bpe' ? 600 : 1200 });
    const real = tokenizerFromJson(trained.tokenizerJson, trained.tokenizerConfig);
    const idsPerSentence = await real.encodeIdsBatch(text.slice(0, 800));
    // Group sentences into documents of 20.
    const docs: number[][][] = [];
    for (let i = 0; i < idsPerSentence.length; i += 20) docs.push(idsPerSentence.slice(i, i + 20).filter((s) => s.length));
    let t: ObjectiveTokenizer = real;
    if (kind === 'bpe') {
      // The GPT-2 style trainer has only <|endoftext|>: add [PAD], [MASK], [CLS] past its vocabulary for the test.
      const V = real.vocabSize;
      const ws = new Uint8Array(V + 3);
      ws.set(real.wordStarts);
      ws.fill(1, V);
      t = { vocabSize: V + 3, specialIds: { ...real.specialIds, pad: V, mask: V + 1, cls: V + 2 }, allSpecialIds: [...real.allSpecialIds, V, V + 1, V + 2], wordStarts: ws, sentinelIds: [] };
      assert.ok(real.wordStarts.some((x) => x === 0), 'BPE has pieces without Ġ');
    } else {
      assert.equal(real.wordStarts[real.tokenToId('##s')!], 0);
    }
    const s = mlmStream(docSource(docs), t, options({ seqLen: 128, batchSize: 8, wholeWord: true, packing: 'doc-sentences' }));
    let multi = 0;
    for (let k = 0; k < 20; k++) {
      const b = s.next();
      for (const o of originals(b)) {
        const w = wordsOf(o, t);
        for (let i = 1; i < w.length; i++) if (w[i]! >= 0 && w[i] === w[i - 1]) multi++;
      }
      // A sentence may begin with a continuation piece (BPE's first word has no Ġ); the objective treats a sentence
      // start as a word start, wordsOf does not: rows where that matters are rare, so check per word both ways.
      const origs = originals(b);
      const labs = rows(b, 'labels');
      origs.forEach((o, r) => {
        const w = wordsOf(o, t);
        for (let i = 1; i < o.length; i++) {
          if (w[i]! < 0 || w[i] !== w[i - 1]) continue;
          if ((labs[r]![i] !== IGNORE_INDEX) !== (labs[r]![i - 1] !== IGNORE_INDEX)) {
            // Allowed only where position i begins a sentence whose first piece is not a word start.
            assert.ok(t.wordStarts[o[i]!] === 0, `${kind}: partially masked word`);
          }
        }
      });
    }
    assert.ok(multi > 100, `${kind}: the text has multi-piece words (${multi})`);
  }
});

test('packing, exact: full-sentences crosses documents with [SEP]; doc-sentences never; long sentences are cut', () => {
  const docs = docSource([
    [[10, 11, 12], [13, 14]],
    [[20, 21]],
    [[30, 31, 32, 33, 34, 35, 36, 37, 38]], // longer than the capacity 6
  ]);
  const identity = () => Uint32Array.from([0, 1, 2]);
  const take = (p: RowPacker, n: number) => Array.from({ length: n }, () => Array.from(p.next().tokens));
  const full = new RowPacker(docs, sp, 8, true, identity);
  assert.deepEqual(take(full, 4), [
    [CLS, 10, 11, 12, 13, 14, SEP],
    [CLS, 20, 21, SEP], // the next piece (with its document separator) does not fit: the row ends
    [CLS, 30, 31, 32, 33, 34, 35, SEP],
    [CLS, 36, 37, 38, SEP],
  ]);
  const full2 = new RowPacker(docSource([[[10, 11]], [[20, 21]], [[30]]]), sp, 10, true, () => Uint32Array.from([0, 1, 2]));
  assert.deepEqual(take(full2, 1), [[CLS, 10, 11, SEP, 20, 21, SEP, 30, SEP]]);
  const doc = new RowPacker(docSource([[[10, 11]], [[20, 21]], [[30]]]), sp, 10, false, () => Uint32Array.from([0, 1, 2]));
  assert.deepEqual(take(doc, 4), [[CLS, 10, 11, SEP], [CLS, 20, 21, SEP], [CLS, 30, SEP], [CLS, 10, 11, SEP]]);
});

test('packing, statistics: full-sentences rows cross documents only at a [SEP]; doc-sentences rows hold one document', () => {
  const docs = docSource(synthDocs({ docs: 29, sentences: [1, 6], words: [2, 12], docCoded: true, seed: 9 }));
  for (const packing of ['full-sentences', 'doc-sentences'] as const) {
    const s = mlmStream(docs, tok, options({ seqLen: 64, batchSize: 8, packing, maskProb: 0 }));
    let crossings = 0;
    let filled = 0, total = 0;
    for (let k = 0; k < 40; k++) {
      for (const r of rows(s.next(), 'input_ids')) {
        assert.equal(r[0], CLS);
        let prevDoc = -1;
        let sawSep = false;
        const n = r.lastIndexOf(SEP);
        for (let i = 1; i < n; i++) {
          if (r[i] === SEP) {
            sawSep = true;
            continue;
          }
          const d = docOfToken(r[i]!);
          if (prevDoc >= 0 && d !== prevDoc) {
            assert.equal(packing, 'full-sentences', 'doc-sentences never crosses a document');
            assert.ok(sawSep, 'a document change comes after a separator');
            crossings++;
          }
          prevDoc = d;
          sawSep = false;
        }
        filled += n + 1;
        total += r.length;
      }
    }
    if (packing === 'full-sentences') {
      assert.ok(crossings > 20, `crossings ${crossings}`);
      assert.ok(filled / total > 0.8, `full-sentences rows are mostly full (${filled / total})`);
    }
  }
});

/** The epoch of each of the first n rows a stream with these options serves. */
function rowEpochs(docs: ReturnType<typeof docSource>, o: ReturnType<typeof options>, n: number): number[] {
  const p = new RowPacker(docs, sp, o.seqLen, o.packing !== 'doc-sentences', (e) => documentOrder(docs.documentCount, o.seed, String(dataEpoch(o, e))));
  return Array.from({ length: n }, () => p.next().epoch);
}

test('static masking repeats with period dupeFactor epochs; dynamic does not', () => {
  const docs = docSource(synthDocs({ docs: 12, sentences: [2, 6], words: [3, 10], seed: 5 }));
  for (const packing of ['full-sentences', 'doc-sentences'] as const) {
    const D = 3;
    const o = options({ seqLen: 48, batchSize: 1, masking: 'static', dupeFactor: D, packing });
    const n = 400;
    const ep = rowEpochs(docs, o, n);
    const s = mlmStream(docs, tok, o);
    const byEpoch = new Map<number, string[]>();
    for (let i = 0; i < n; i++) {
      const key = batchKey(s.next());
      if (!byEpoch.has(ep[i]!)) byEpoch.set(ep[i]!, []);
      byEpoch.get(ep[i]!)!.push(key);
    }
    const last = Math.max(...byEpoch.keys());
    assert.ok(last >= D + 1);
    for (let e = 0; e + D < last; e++) {
      assert.deepEqual(byEpoch.get(e + D), byEpoch.get(e), `${packing}: epoch ${e + D} repeats epoch ${e}`);
      assert.notDeepEqual(byEpoch.get(e + 1), byEpoch.get(e), `${packing}: consecutive epochs differ`);
    }
    // Same row contents in two epochs of one period get different masks (doc-sentences: rows are per document).
    if (packing === 'doc-sentences') {
      const dyn = mlmStream(docs, tok, { ...o, masking: 'dynamic' });
      const de = rowEpochs(docs, { ...o, masking: 'dynamic' }, n);
      const seen = new Map<string, string[]>();
      for (let i = 0; i < n; i++) {
        const b = dyn.next();
        const content = JSON.stringify(originals(b));
        if (!seen.has(content)) seen.set(content, []);
        seen.get(content)!.push(`${de[i]}:${JSON.stringify(rows(b, 'labels'))}`);
      }
      let repeats = 0, same = 0;
      for (const [, v] of seen) for (let k = 1; k < v.length; k++) {
        repeats++;
        if (v[k]!.split(':')[1] === v[0]!.split(':')[1]) same++;
      }
      assert.ok(repeats > 50 && same / repeats < 0.2, `dynamic masks differ across epochs (${same}/${repeats} equal)`);
    }
  }
});

test('resume: a restored stream serves exactly the batches of the original, across epoch boundaries', () => {
  const docs = docSource(synthDocs({ docs: 10, sentences: [1, 5], words: [2, 9], multiPiece: 0.2, seed: 6 }));
  for (const o of [
    options({ seqLen: 32, batchSize: 4 }),
    options({ seqLen: 32, batchSize: 3, packing: 'doc-sentences', masking: 'static', dupeFactor: 2, wholeWord: true, selection: 'fixed' }),
  ]) {
    const a = mlmStream(docs, tok, o);
    for (let i = 0; i < 7; i++) a.next();
    const st = JSON.parse(JSON.stringify(a.state()));
    const ka = Array.from({ length: 40 }, () => batchKey(a.next()));
    const b = mlmStream(docs, tok, o);
    b.restore(st);
    const kb = Array.from({ length: 40 }, () => batchKey(b.next()));
    assert.deepEqual(kb, ka);
    assert.ok(rowEpochs(docs, o, (7 + 40) * o.batchSize).at(-1)! >= 2, 'the continuation crosses epochs');
  }
  assert.throws(() => mlmStream(docs, tok, options()).restore({ nonsense: 1 }), /packing/);
});

test('evalBatches: in document order, the same on every call, partial last batch dropped', () => {
  const docs = docSource(synthDocs({ docs: 40, sentences: [1, 5], words: [2, 9], seed: 6 }));
  const o = options({ seqLen: 32, batchSize: 4 });
  const a = mlmEvalBatches(docs, tok, o, 100).map(batchKey);
  const b = getObjective('mlm').evalBatches(docs, tok, o, 100).map(batchKey);
  assert.deepEqual(a, b);
  assert.ok(a.length >= 2 && a.length < 100);
  assert.equal(mlmEvalBatches(docs, tok, o, 2).length, 2);
  const first = originals(mlmEvalBatches(docs, tok, o, 1)[0]!)[0]!;
  assert.deepEqual(first.slice(1, 4), Array.from(docs.document(0).tokens.slice(0, 3)), 'the first row starts with document 0');
});

test('a tokenizer without a needed special token gives a clear error', () => {
  const docs = docSource([[[10, 11]]]);
  const noMask = fakeTokenizer({ specialIds: { pad: PAD, unk: UNK, cls: CLS, sep: SEP } });
  assert.throws(() => mlmStream(docs, noMask, options()), /no mask/);
  const noPad = fakeTokenizer({ specialIds: { unk: UNK, cls: CLS, sep: SEP, mask: MASK } });
  assert.throws(() => mlmStream(docs, noPad, options()), /no padding/);
  assert.equal(MaskKind.Mask, 1);
});

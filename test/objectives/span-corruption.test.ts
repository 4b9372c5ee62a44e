// T5 span corruption against docs/objectives.md section 5: the worked examples, the length table of
// compute_input_and_target_lengths, the mask's statistics, the sentinel layout (a round trip restores the text),
// packed examples that exactly fill seqLen, resumable streams and deterministic evaluation batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/data/rng.js';
import { getObjective } from '../../src/objectives/index.js';
import {
  computeInputAndTargetLengths,
  noiseCounts,
  randomComposition,
  randomSpansNoiseMask,
  spanCorrupt,
  uncorrupt,
} from '../../src/objectives/span-corruption.js';
import { shiftRight } from '../../src/objectives/chunks.js';
import { batchKey, docSource, fakeTokenizer, options, rows, synthDocs, VOCAB } from './helpers.js';

const WORDS = ['The', 'quick', 'brown', 'fox', 'jumps', 'over', 'the', 'lazy', 'dog'];
const EOS = 1;
/** Sentinels as T5 lays them out: <extra_id_k> = vocabulary - 1 - k. */
const SENTINELS = Array.from({ length: 100 }, (_, k) => VOCAB - 1 - k);
const tok = fakeTokenizer({ specialIds: { pad: 0, eos: EOS, unk: 2 }, allSpecialIds: [0, EOS, 2, ...SENTINELS], sentinelIds: SENTINELS });
const names = (ids: number[]) =>
  ids.map((id) => (id === EOS ? '</s>' : SENTINELS.includes(id) ? `<extra_id_${SENTINELS.indexOf(id)}>` : WORDS[id - 10]!)).join(' ');
const sentence = WORDS.map((_, i) => 10 + i);

test('worked example, d = 0.15: N = 1, S = 1, the last token is the noise', () => {
  assert.deepEqual(noiseCounts(9, 0.15, 3), { noiseTokens: 1, noiseSpans: 1 });
  const mask = randomSpansNoiseMask(9, 0.15, 3, new Rng(1));
  assert.deepEqual(Array.from(mask), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const { inputs, targets } = spanCorrupt(sentence, mask, SENTINELS, EOS);
  assert.equal(names(inputs), 'The quick brown fox jumps over the lazy <extra_id_0> </s>');
  assert.equal(names(targets), '<extra_id_0> dog </s>');
});

test('worked example, d = 0.5, mu = 2: N = 4 (4.5 rounds to even), S = 2; the documented layout', () => {
  assert.deepEqual(noiseCounts(9, 0.5, 2), { noiseTokens: 4, noiseSpans: 2 });
  const mask = [0, 0, 1, 1, 0, 0, 0, 1, 1];
  const { inputs, targets } = spanCorrupt(sentence, mask, SENTINELS, EOS);
  assert.equal(names(inputs), 'The quick <extra_id_0> jumps over the <extra_id_1> </s>');
  assert.equal(names(targets), '<extra_id_0> brown fox <extra_id_1> lazy dog </s>');
  // Every draw has 4 noise tokens in 2 spans, never the first token, always the last; the documented one occurs.
  const rng = new Rng(5);
  let seen = false;
  for (let k = 0; k < 500; k++) {
    const m = Array.from(randomSpansNoiseMask(9, 0.5, 2, rng));
    assert.equal(m.reduce((a, b) => a + b, 0), 4);
    assert.equal(m.filter((x, i) => x === 1 && (i === 0 || m[i - 1] === 0)).length, 2);
    assert.equal(m[0], 0);
    assert.equal(m[8], 1);
    seen ||= m.join('') === mask.join('');
  }
  assert.ok(seen, 'the documented draw is among the possible ones');
});

test('compute_input_and_target_lengths: the check table', () => {
  const table: Array<[number, number, number, number, number]> = [
    [128, 0.15, 3, 141, 29],
    [256, 0.15, 3, 284, 58],
    [512, 0.15, 3, 568, 114],
    [1024, 0.15, 3, 1137, 229],
    [512, 0.5, 3, 766, 512],
  ];
  for (const [inputs, d, mu, raw, targets] of table) {
    const r = computeInputAndTargetLengths(inputs, d, mu);
    assert.equal(r.tokensLength, raw, `I = ${inputs}, d = ${d}: raw length`);
    assert.equal(r.targetsLength, targets, `I = ${inputs}, d = ${d}: targets length`);
    assert.equal(r.inputsLength, inputs, `I = ${inputs}, d = ${d}: the corrupted inputs fill the wanted length`);
  }
  assert.throws(() => computeInputAndTargetLengths(2, 0.15, 3), /input length must be an integer >= 3/);
  // Small lengths still fit (the clamps N >= 1, S >= 1 are counted).
  for (let i = 3; i < 64; i++) assert.ok(computeInputAndTargetLengths(i, 0.15, 3).inputsLength <= i);
});

test('random compositions: positive parts summing to n, every composition about equally likely', () => {
  const rng = new Rng(2);
  const counts = new Map<string, number>();
  for (let k = 0; k < 6000; k++) {
    const c = randomComposition(6, 3, rng);
    assert.equal(c.reduce((a, b) => a + b, 0), 6);
    assert.ok(c.every((x) => x >= 1));
    counts.set(c.join(','), (counts.get(c.join(',')) ?? 0) + 1);
  }
  // C(5, 2) = 10 compositions, 600 expected each.
  assert.equal(counts.size, 10);
  for (const [c, n] of counts) assert.ok(n > 480 && n < 720, `${c}: ${n}`);
  assert.deepEqual(randomComposition(4, 1, rng), [4]);
  assert.throws(() => randomComposition(2, 3, rng), /cannot split/);
});

test('noise share and mean span length over many draws; first never, last always noise', () => {
  const rng = new Rng(11);
  const L = 568;
  let noise = 0;
  let spans = 0;
  let tokens = 0;
  for (let k = 0; k < 300; k++) {
    const m = randomSpansNoiseMask(L, 0.15, 3, rng);
    assert.equal(m[0], 0);
    assert.equal(m[L - 1], 1);
    for (let i = 0; i < L; i++) {
      noise += m[i]!;
      if (m[i] && (i === 0 || !m[i - 1])) spans++;
    }
    tokens += L;
  }
  assert.equal(noise / 300, 85, 'N = round(568 * 0.15) = 85 every time');
  assert.equal(spans / 300, 28, 'S = round(85 / 3) = 28 every time');
  assert.ok(Math.abs(noise / tokens - 0.15) < 0.001);
  assert.ok(Math.abs(noise / spans - 3) < 0.05);
  // Span lengths vary (a random composition, not fixed spans of 3).
  const m = randomSpansNoiseMask(L, 0.15, 3, rng);
  const lengths: number[] = [];
  for (let i = 0; i < L; i++) if (m[i] && (i === 0 || !m[i - 1])) {
    let j = i;
    while (j < L && m[j]) j++;
    lengths.push(j - i);
  }
  assert.ok(new Set(lengths).size > 2, `span lengths ${lengths.join(',')}`);
});

test('round trip: filling the sentinels back restores the original tokens', () => {
  const rng = new Rng(4);
  for (let k = 0; k < 200; k++) {
    const L = 2 + rng.int(200);
    const toks = Array.from({ length: L }, () => 10 + rng.int(500));
    const d = [0.15, 0.3, 0.5][k % 3]!;
    const mask = randomSpansNoiseMask(L, d, 1 + rng.int(5), rng);
    const { inputs, targets } = spanCorrupt(toks, mask, SENTINELS, EOS);
    assert.deepEqual(uncorrupt(inputs, targets, SENTINELS, EOS), toks);
    const s = noiseCounts(L, d, 3);
    assert.equal(inputs[inputs.length - 1], EOS);
    assert.equal(targets[targets.length - 1], EOS);
    assert.equal(inputs.length + targets.length, L + 2 * mask.filter((x, i) => x && (i === 0 || !mask[i - 1])).length + 2);
    assert.ok(s.noiseSpans >= 1);
  }
  assert.throws(() => spanCorrupt([10, 11, 12], [0, 1, 1], [], EOS), /needs <extra_id_0>/);
});

test('decoder inputs are the labels shifted right with decoder_start_token_id = pad, -100 read as pad', () => {
  assert.deepEqual(shiftRight([5, 6, 7, -100, -100], 0, 0), [0, 5, 6, 7, 0]);
});

function docs() {
  return docSource(synthDocs({ docs: 40, sentences: [2, 6], words: [4, 15], seed: 3 }));
}

test('packed examples exactly fill seqLen; targets length follows; batches are consistent', () => {
  const o = options({ seqLen: 64, batchSize: 4, noiseDensity: 0.15, meanNoiseSpanLength: 3 });
  const obj = getObjective('span-corruption');
  const { tokensLength, targetsLength } = computeInputAndTargetLengths(64, 0.15, 3);
  assert.deepEqual(obj.inputs(o).map((s) => [s.name, s.shape]), [
    ['input_ids', [4, 64]],
    ['attention_mask', [4, 64]],
    ['decoder_input_ids', [4, targetsLength]],
    ['labels', [4, targetsLength]],
  ]);
  const stream = obj.stream(docs(), tok, o);
  for (let k = 0; k < 10; k++) {
    const b = stream.next();
    for (const s of obj.inputs(o)) assert.deepEqual(b[s.name]!.shape, s.shape);
    assert.ok(rows(b, 'attention_mask').every((r) => r.every((x) => x === 1)), 'no padding in the inputs');
    const ids = rows(b, 'input_ids');
    const lab = rows(b, 'labels');
    const dec = rows(b, 'decoder_input_ids');
    ids.forEach((r, i) => {
      assert.equal(r[63], EOS);
      assert.ok(lab[i]!.every((x) => x !== -100), 'targets fill their length too');
      assert.equal(lab[i]![targetsLength - 1], EOS);
      assert.deepEqual(dec[i], shiftRight(lab[i]!, 0, 0));
      const original = uncorrupt(r, lab[i]!, SENTINELS, EOS);
      assert.equal(original.length, tokensLength);
      assert.equal(lab[i]![0], SENTINELS[0], 'targets begin with <extra_id_0>');
    });
  }
});

test('chunks are documents joined by EOS, cut into raw chunks (the eval order is the document order)', () => {
  const d = docs();
  const o = options({ seqLen: 32, batchSize: 2 });
  const { tokensLength } = computeInputAndTargetLengths(32, 0.15, 3);
  const flat: number[] = [];
  for (let i = 0; i < d.documentCount; i++) flat.push(...d.document(i).tokens, EOS);
  const batches = getObjective('span-corruption').evalBatches(d, tok, o, 3);
  assert.equal(batches.length, 3);
  let c = 0;
  for (const b of batches) {
    const ids = rows(b, 'input_ids');
    const lab = rows(b, 'labels');
    ids.forEach((r, i) => {
      assert.deepEqual(uncorrupt(r, lab[i]!, SENTINELS, EOS), flat.slice(c * tokensLength, (c + 1) * tokensLength));
      c++;
    });
  }
});

test('resume: a restored stream gives identical batches, across an epoch boundary', () => {
  const d = docSource(synthDocs({ docs: 6, sentences: [1, 3], words: [3, 8], seed: 9 }));
  const o = options({ seqLen: 24, batchSize: 3 });
  const obj = getObjective('span-corruption');
  const a = obj.stream(d, tok, o);
  const all = Array.from({ length: 12 }, () => batchKey(a.next()));
  const b = obj.stream(d, tok, o);
  for (let k = 0; k < 5; k++) b.next();
  const saved = JSON.parse(JSON.stringify(b.state()));
  const c = obj.stream(d, tok, o);
  c.restore(saved);
  // 6 short documents hold a few chunks: 12 batches of 3 cross several epochs.
  assert.ok(d.tokenCount + d.documentCount < 12 * 3 * computeInputAndTargetLengths(24, 0.15, 3).tokensLength / 2);
  for (let k = 5; k < 12; k++) assert.equal(batchKey(c.next()), all[k], `batch ${k}`);
  assert.equal(batchKey(obj.stream(d, tok, options({ seqLen: 24, batchSize: 3 })).next()), all[0], 'seeded');
  assert.notEqual(batchKey(obj.stream(d, tok, options({ seqLen: 24, batchSize: 3, seed: 8 })).next()), all[0]);
});

test('evalBatches are deterministic; too few sentinels or no EOS fail clearly', () => {
  const o = options({ seqLen: 32, batchSize: 2 });
  const obj = getObjective('span-corruption');
  const x = obj.evalBatches(docs(), tok, o, 4).map(batchKey);
  const y = obj.evalBatches(docs(), tok, o, 4).map(batchKey);
  assert.equal(x.length, 4);
  assert.deepEqual(x, y);
  assert.throws(() => obj.stream(docs(), { ...tok, sentinelIds: SENTINELS.slice(0, 2) }, options({ seqLen: 128 })), /need as many sentinels/);
  assert.throws(() => obj.stream(docs(), { ...tok, specialIds: { pad: 0 } }, o), /no EOS/);
  assert.deepEqual(obj.heads, ['seq2seq']);
});

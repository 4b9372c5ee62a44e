// run_qa.py's features on crafted contexts: the pair template, windows of a long context overlapping by the doc
// stride, answer tokens found through the offsets (an answer across a window boundary, one only in the second
// window, CLS where a window lacks the answer), offsets that cut the exact context substring back out (non-ASCII
// and astral characters included), and the post-processing that picks the best valid span across windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestAnswers, contextWindows, decoderTemplate, pairTemplate, prepareQaFeatures, QA_NO_ANSWER, type QaFeature } from '../../src/data/qa-features.js';
import { tokenizerFromJson, trainTokenizer } from '../../src/tokenizers/index.js';

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango'.split(' ');
const corpus = Array.from({ length: 30 }, (_, i) => [...WORDS.slice(i % 20), ...WORDS.slice(0, i % 20), 'where', '?', 'café', 'zürich', '😀'].join(' '));
const wordpiece = (() => {
  const t = trainTokenizer('wordpiece', corpus, { vocabSize: 200 });
  return tokenizerFromJson(t.tokenizerJson, t.tokenizerConfig);
})();
const roberta = (() => {
  const t = trainTokenizer('bpe', corpus, { vocabSize: 300, style: 'roberta' });
  return tokenizerFromJson(t.tokenizerJson, t.tokenizerConfig);
})();

const context = WORDS.join(' ');
/** Character span of words [i, j] of the context. */
const wordsAt = (i: number, j: number) => {
  const answerStart = WORDS.slice(0, i).join(' ').length + (i > 0 ? 1 : 0);
  return { answerStart, text: WORDS.slice(i, j + 1).join(' ') };
};
const cut = (f: QaFeature, t: number) => context.slice(f.offsets[t]![0], f.offsets[t]![1]);

test('the pair template as the tokenizer places it: BERT [CLS] q [SEP] c [SEP] with segments, RoBERTa <s> q </s></s> c </s>', async () => {
  const b = await pairTemplate(wordpiece);
  const id = (t: string, tok = wordpiece) => tok.tokenToId(t)!;
  assert.deepEqual(b, { prefix: [id('[CLS]')], middle: [id('[SEP]')], suffix: [id('[SEP]')], typeA: 0, typeB: 1 });
  const r = await pairTemplate(roberta);
  assert.deepEqual(r, { prefix: [id('<s>', roberta)], middle: [id('</s>', roberta), id('</s>', roberta)], suffix: [id('</s>', roberta)], typeA: 0, typeB: 0 });
});

test('windows overlap by the stride and the last reaches the end', () => {
  assert.deepEqual(contextWindows(20, 11, 4), [[0, 11], [7, 18], [14, 20]]);
  assert.deepEqual(contextWindows(11, 11, 4), [[0, 11]]);
  assert.deepEqual(contextWindows(5, 11, 40), [[0, 5]]);
  assert.throws(() => contextWindows(20, 11, 11), /--doc-stride 11 must be smaller than the 11 context tokens a window holds/);
});

test('long contexts: answer labels through the offsets, CLS where a window lacks the whole answer', async () => {
  assert.equal((await wordpiece.encode(context, { addSpecialTokens: false })).ids.length, 20, 'one token per word');
  // [CLS] where ? [SEP] = 4 tokens before the context, [SEP] after: 11 context tokens per window of 16, stride 4.
  const opts = { maxLen: 16, docStride: 4 };
  const [across, second, first] = await Promise.all([
    prepareQaFeatures(wordpiece, [{ question: 'where?', context, answer: wordsAt(9, 12) }], opts),
    prepareQaFeatures(wordpiece, [{ question: 'where?', context, answer: wordsAt(11, 12) }], opts),
    prepareQaFeatures(wordpiece, [{ question: '  where?', context, answer: wordsAt(2, 2) }], opts),
  ]);
  for (const fs of [across, second, first]) {
    assert.equal(fs.length, 3);
    assert.deepEqual(fs.map((f) => f.ids.length), [16, 16, 11]);
    assert.deepEqual(fs[0]!.ids.slice(0, 4).map((i) => wordpiece.idToToken(i)), ['[CLS]', 'where', '?', '[SEP]']);
    assert.deepEqual(fs[1]!.typeIds, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(fs[1]!.offsets.slice(0, 4), [null, null, null, null]);
    assert.equal(fs[1]!.offsets[15], null);
    // The windows start at context tokens 0, 7 and 14: the stride's 4 tokens are shared.
    assert.deepEqual(fs.map((f) => cut(f, 4)), ['alpha', 'hotel', 'oscar']);
  }
  // Words 9..12 cross the first window's end (token 10): only the second window (tokens 7..17) holds them all.
  assert.deepEqual(across.map((f) => [f.startPosition, f.endPosition]), [[QA_NO_ANSWER, QA_NO_ANSWER], [4 + 2, 4 + 5], [QA_NO_ANSWER, QA_NO_ANSWER]]);
  assert.equal(context.slice(across[1]!.offsets[6]![0], across[1]!.offsets[9]![1]), 'juliet kilo lima mike');
  // Words 11..12: only in the second window.
  assert.deepEqual(second.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [4 + 4, 4 + 5], [0, 0]]);
  // Word 2: the first window only (the question's leading spaces are stripped, as run_qa.py does).
  assert.deepEqual(first.map((f) => [f.startPosition, f.endPosition]), [[6, 6], [0, 0], [0, 0]]);
  assert.equal(cut(first[0]!, 6), 'charlie');
  // Every context token's offsets cut its own word out of the context.
  for (const f of across) f.offsets.forEach((o, t) => o && assert.equal(cut(f, t), wordpiece.idToToken(f.ids[t]!)));
});

test('offsets map back to the exact context substring with accents and characters outside the BMP', async () => {
  for (const tok of [wordpiece, roberta]) {
    const ctx = 'In café 😀 Zürich, echo 😀😀 sierra.';
    const start = ctx.indexOf('Zürich');
    const [f] = await prepareQaFeatures(tok, [{ question: 'where?', context: ctx, answer: { answerStart: start, text: 'Zürich' } }], { maxLen: 64, docStride: 8 });
    assert.notEqual(f!.startPosition, QA_NO_ANSWER);
    assert.equal(ctx.slice(f!.offsets[f!.startPosition]![0], f!.offsets[f!.endPosition]![1]), 'Zürich');
    const s = ctx.indexOf('sierra');
    const [g] = await prepareQaFeatures(tok, [{ question: 'where?', context: ctx, answer: { answerStart: s, text: 'sierra' } }], { maxLen: 64, docStride: 8 });
    assert.equal(ctx.slice(g!.offsets[g!.startPosition]![0], g!.offsets[g!.endPosition]![1]), 'sierra');
    // Every context token's span lies inside the context and starts on a non-space (a byte-level BPE's lone "Ġ"
    // is trimmed to an empty span, as the tokenizer's trim_offsets leaves it).
    for (const o of g!.offsets) if (o) assert.ok(o[0] >= 0 && o[1] <= ctx.length && o[0] <= o[1] && (o[0] === o[1] || !/\s/.test(ctx[o[0]]!)), JSON.stringify(o));
  }
});

test('decoder framing: question EOS context windows, the stride counted in context tokens alone', async () => {
  const eos = 999;
  // "where ?" is 2 tokens, then EOS: 16 - 3 = 13 context tokens a window, stride 4 -> windows at 0 and 9.
  const fs = await prepareQaFeatures(wordpiece, [{ question: 'where?', context, answer: wordsAt(12, 13) }], { maxLen: 16, docStride: 4, template: decoderTemplate(eos) });
  assert.deepEqual(fs.map((f) => f.ids.length), [16, 14]);
  assert.deepEqual(fs[0]!.ids.slice(0, 3).map((i) => (i === eos ? '<eos>' : wordpiece.idToToken(i))), ['where', '?', '<eos>']);
  assert.ok(fs.every((f) => f.typeIds.every((t) => t === 0) && f.ids.filter((i) => i === eos).length === 1));
  assert.deepEqual(fs.map((f) => cut(f, 3)), ['alpha', 'juliet']);
  // Words 12..13 lie past the first window's 13 tokens (0..12): only the second holds both, at 3 + 3 and 3 + 4.
  assert.deepEqual(fs.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [6, 7]]);
  assert.equal(context.slice(fs[1]!.offsets[6]![0], fs[1]!.offsets[7]![1]), 'mike november');
});

test('a question that leaves no room for the context is an error naming --max-len', async () => {
  await assert.rejects(prepareQaFeatures(wordpiece, [{ question: WORDS.join(' '), context }], { maxLen: 16, docStride: 4 }), /is 20 tokens: with 3 special tokens it leaves no room for the context in --max-len 16/);
});

test('bestAnswers: the best valid span over all windows, cut from the context through the offsets', async () => {
  const fs = await prepareQaFeatures(wordpiece, [{ question: 'where?', context }], { maxLen: 16, docStride: 4 });
  const flat = (f: QaFeature) => ({ feature: f, startLogits: new Float32Array(f.ids.length).fill(-100), endLogits: new Float32Array(f.ids.length).fill(-100) });
  const w = fs.map(flat);
  // The highest logits are invalid: on the question (no offsets) in window 0 ...
  w[0]!.startLogits[1] = 50;
  w[0]!.endLogits[1] = 50;
  // ... a span of 7 tokens (alpha..golf) against maxAnswerLength 3 ...
  w[0]!.startLogits[4] = 30;
  w[0]!.endLogits[10] = 30;
  // ... and an end before its start in window 2.
  w[2]!.startLogits[9] = 20;
  w[2]!.endLogits[5] = 20;
  // The best valid: window 1's tokens 6..7 ("juliet kilo", 8 + 7); then 6..8 (8 + 5) and 8..8 (5 + 5).
  w[1]!.startLogits[6] = 8;
  w[1]!.endLogits[7] = 7;
  w[1]!.startLogits[8] = 5;
  w[1]!.endLogits[8] = 5;
  const answers = bestAnswers(context, w, { nBestSize: 20, maxAnswerLength: 3 });
  assert.deepEqual(answers.slice(0, 3).map((a) => [a.text, a.score]), [['juliet kilo', 15], ['juliet kilo lima', 13], ['lima', 10]]);
  assert.ok(answers.length <= 20 && answers.every((a, i) => i === 0 || a.score <= answers[i - 1]!.score));
  assert.ok(Math.abs(answers.reduce((s, a) => s + a.probability, 0) - 1) < 1e-9);
  assert.ok(answers.every((a) => context.slice(a.start, a.end) === a.text));
  // No valid span at all (every window's best pair is on the question): the empty answer.
  const none = bestAnswers(context, [{ feature: fs[0]!, startLogits: fs[0]!.ids.map((_, t) => (t < 4 ? 9 : 0)), endLogits: fs[0]!.ids.map((_, t) => (t < 4 ? 9 : 0)) }], { nBestSize: 2, maxAnswerLength: 30 });
  assert.deepEqual(none, [{ text: '', start: 0, end: 0, score: 0, probability: 0 }]);
});

// Token-label alignment as run_ner.py (label_all_tokens=False) and the {"tokens", "tags"} JSONL reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { alignWordLabels, IGNORE_INDEX, readTaggedJsonl } from '../../src/data/tagging.js';
import { tokenizerFromJson, trainTokenizer, type Tokenizer } from '../../src/tokenizers/index.js';
import { brownSlice, tempDir } from '../tokenizers/helpers.js';

const texts = brownSlice(10);
const wordpiece = (() => {
  const t = trainTokenizer('wordpiece', texts, { vocabSize: 400 });
  return tokenizerFromJson(t.tokenizerJson, t.tokenizerConfig);
})();
const bpe = (() => {
  const t = trainTokenizer('bpe', texts, { vocabSize: 400 });
  return tokenizerFromJson(t.tokenizerJson, t.tokenizerConfig);
})();

/** The pieces of each word, read back from the alignment. */
function piecesOf(tok: Tokenizer, ids: number[], wordIndex: number[], words: number): string[][] {
  const out: string[][] = Array.from({ length: words }, () => []);
  ids.forEach((id, j) => {
    if (wordIndex[j]! >= 0) out[wordIndex[j]!]!.push(tok.idToToken(id)!);
  });
  return out;
}

test('WordPiece: the first piece of each word is labelled, the rest and [CLS]/[SEP] get -100', async () => {
  const words = ['The', 'antidisestablishmentarianism', 'of', "isn't", 'Zyzzogeton', '.'];
  const tags = [0, 1, 2, 3, 1, 4];
  const [a] = await alignWordLabels(wordpiece, [words], 64, [tags]);
  const { cls, sep } = wordpiece.specialIds;
  assert.equal(a!.ids[0], cls);
  assert.equal(a!.ids.at(-1), sep);
  assert.equal(a!.wordIndex[0], -1);
  assert.equal(a!.wordIndex.at(-1), -1);
  const pieces = piecesOf(wordpiece, a!.ids, a!.wordIndex, words.length);
  assert.ok(pieces[1]!.length > 2, `long word in pieces: ${pieces[1]}`);
  assert.ok(pieces[3]!.length >= 3, "isn't splits into isn ' t");
  assert.equal(pieces.map((p) => p.join('|')).join(' ').replace(/##/g, '').replace(/\|/g, ''), words.join(' ').toLowerCase());
  // Labels: exactly one per word, on its first piece.
  const labelled = a!.labels.map((l, j) => [l, j] as const).filter(([l]) => l !== IGNORE_INDEX);
  assert.deepEqual(labelled.map(([l]) => l), tags);
  assert.deepEqual(labelled.map(([, j]) => j), a!.firstToken);
  for (let w = 0; w < words.length; w++) assert.equal(a!.wordIndex[a!.firstToken[w]!], w);
  assert.equal(a!.labels.length, a!.ids.length);
});

test('byte-level BPE: words after the first carry their leading space; pieces map back to words', async () => {
  const words = ['Hello', 'wonderfulnesses', 'x', 'Quixotic'];
  const [a] = await alignWordLabels(bpe, [words], 64, [[5, 6, 7, 8]]);
  const pieces = piecesOf(bpe, a!.ids, a!.wordIndex, words.length);
  assert.ok(pieces[1]![0]!.startsWith('\u0120'), `leading space on ${pieces[1]}`);
  assert.ok(!pieces[0]![0]!.startsWith('\u0120'));
  assert.ok(pieces[1]!.length > 1 && pieces[3]!.length > 1);
  assert.deepEqual(a!.labels.filter((l) => l !== IGNORE_INDEX), [5, 6, 7, 8]);
  const joined = await bpe.encodeIdsBatch([words.join(' ')]);
  assert.deepEqual(a!.ids.filter((_, j) => a!.wordIndex[j]! >= 0), joined[0], 'same pieces as the running text');
});

test('truncation keeps [SEP] and marks cut words as unaligned', async () => {
  const words = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'extraordinarily' : 'the'));
  const [a, b] = await alignWordLabels(wordpiece, [words, ['a']], 8, [words.map(() => 1), [2]]);
  assert.equal(a!.ids.length, 8);
  assert.equal(a!.ids[0], wordpiece.specialIds.cls);
  assert.equal(a!.ids[7], wordpiece.specialIds.sep);
  assert.ok(a!.firstToken.at(-1) === -1 && a!.firstToken[0] === 1);
  assert.deepEqual(b!.labels, [IGNORE_INDEX, 2, IGNORE_INDEX]);
  await assert.rejects(alignWordLabels(wordpiece, [words], 2), /maxLen 2/);
  await assert.rejects(alignWordLabels(wordpiece, [['a', 'b']], 8, [[1]]), /2 words but 1 tags/);
});

test('the JSONL reader names the file and line of a bad example', async () => {
  const dir = tempDir();
  const good = path.join(dir, 'good.jsonl');
  writeFileSync(good, '{"tokens": ["The", "cat"], "tags": ["DET", "NOUN"]}\n\n{"tokens": ["Run"], "tags": ["VERB"]}\n');
  assert.deepEqual(await readTaggedJsonl(good), [{ tokens: ['The', 'cat'], tags: ['DET', 'NOUN'] }, { tokens: ['Run'], tags: ['VERB'] }]);
  const cases: Array<[string, RegExp]> = [
    ['{"tokens": ["a", "b"], "tags": ["X"]}', /bad\.jsonl:2: 2 tokens but 1 tags/],
    ['{"tokens": ["a"]}', /bad\.jsonl:2: no "tags" field/],
    ['{"tags": ["a"]}', /bad\.jsonl:2: no "tokens" field/],
    ['{"tokens": "a b", "tags": ["X"]}', /bad\.jsonl:2: "tokens" is not an array/],
    ['{"tokens": [1], "tags": ["X"]}', /bad\.jsonl:2: "tokens"\[0\] is 1/],
    ['not json', /bad\.jsonl:2: invalid JSON/],
  ];
  for (const [line, re] of cases) {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `{"tokens": ["ok"], "tags": ["X"]}\n${line}\n`);
    await assert.rejects(readTaggedJsonl(bad), re);
  }
});

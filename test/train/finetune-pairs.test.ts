// Sentence-pair classification (HF "text" / "text_pair"): BERT's pair template with token types 0/1, RoBERTa's
// <s> A </s></s> B </s>, a decoder's text EOS pair EOS, longest-first truncation, JSONL reading, T5's
// "sentence1: ... sentence2: ..." framing, and a tiny BERT that learns a task only the pair reveals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { gpt2Config, gpt2ConfigToHf } from '../../src/models/gpt2.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import { classificationAsText2Text, classificationBatch, finetuneClassifier, jsonlData, loadFinetuned, longestFirst } from '../../src/train/finetune.js';
import { tempDir } from '../tokenizers/helpers.js';

const dir = tempDir('pretrain-ft-pairs-');
const ANIMALS = ['cat', 'dog', 'cow', 'hen', 'fox', 'owl'];
const texts = ANIMALS.flatMap((a) => ANIMALS.map((b) => `the ${a} saw the ${b}`));
const ints = (b: { data: unknown }) => Array.from(b.data as BigInt64Array, Number);

test('BERT: [CLS] A [SEP] B [SEP] with token types 0 then 1; RoBERTa: <s> A </s></s> B </s>; a decoder: A EOS B EOS', async () => {
  const wpDir = path.join(dir, 'wp');
  const wp = saveTokenizer(wpDir, trainTokenizer('wordpiece', texts, { vocabSize: 200 }));
  const bhf = getModel('bert').newConfig({ layers: 1, hidden: 16, heads: 2, positions: 32, dropout: 0 }, wp);
  const b = await classificationBatch({ hf: bhf, tokenizer: wp }, 'classify', [{ text: 'the cat', textPair: 'a dog ran', label: 'y' }, { text: 'the cat', label: 'n' }], ['n', 'y'], 10);
  const [cls, sep] = [wp.specialIds.cls!, wp.specialIds.sep!];
  const ids = ints(b.input_ids!);
  const [the, cat, a, dog, ran] = await Promise.all(['the', 'cat', 'a', 'dog', 'ran'].map(async (w) => (await wp.encodeIdsBatch([w]))[0]![0]!));
  assert.deepEqual(ids.slice(0, 10), [cls, the, cat, sep, a, dog, ran, sep, wp.specialIds.pad!, wp.specialIds.pad!]);
  assert.deepEqual(ints(b.token_type_ids!).slice(0, 10), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0], 'segment B (and its [SEP]) has type 1, padding 0');
  assert.deepEqual(ints(b.token_type_ids!).slice(10), new Array(10).fill(0), 'a single text is all type 0');
  assert.deepEqual(ints(b.attention_mask!).slice(0, 10), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  assert.deepEqual(ints(b.labels!), [1, 0]);
  // Longest-first truncation to 7 tokens: 3 specials leave 4, the longer segment (3) loses one, then either.
  const cut = ints((await classificationBatch({ hf: bhf, tokenizer: wp }, 'classify', [{ text: 'the cat', textPair: 'a dog ran', label: 'y' }], ['n', 'y'], 7)).input_ids!);
  assert.deepEqual(cut, [cls, the, cat, sep, a, dog, sep]);
  assert.deepEqual(longestFirst(10, 3, 8), [5, 3]);
  assert.deepEqual(longestFirst(2, 9, 8), [2, 6]);
  assert.throws(() => longestFirst(1, 1, -1), /more special tokens than --max-len allows/);

  const bpeDir = path.join(dir, 'bpe');
  const bpe = saveTokenizer(bpeDir, trainTokenizer('bpe', texts, { vocabSize: 300, style: 'roberta' }));
  const rhf = getModel('roberta').newConfig({ layers: 1, hidden: 16, heads: 2, positions: 32, dropout: 0 }, bpe);
  const rb = await classificationBatch({ hf: rhf, tokenizer: bpe }, 'classify', [{ text: 'the cat', textPair: 'the dog', label: 'y' }], ['n', 'y'], 12);
  const A = (await bpe.encodeIdsBatch(['the cat']))[0]!;
  const B = (await bpe.encodeIdsBatch(['the dog']))[0]!;
  const [s, e] = [bpe.specialIds.bos ?? bpe.specialIds.cls!, bpe.specialIds.eos ?? bpe.specialIds.sep!];
  assert.deepEqual(ints(rb.input_ids!).slice(0, 4 + A.length + B.length), [s, ...A, e, e, ...B, e]);

  const ghf = gpt2ConfigToHf(gpt2Config({ vocabSize: bpe.vocabSize, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 32, eosTokenId: e, bosTokenId: e }));
  const gb = await classificationBatch({ hf: ghf, tokenizer: bpe }, 'classify', [{ text: 'the cat', textPair: 'the dog', label: 'y' }], ['n', 'y'], 12);
  assert.deepEqual(ints(gb.input_ids!).slice(0, 2 + A.length + B.length), [...A, e, ...B, e]);
  assert.equal(gb.token_type_ids, undefined, 'decoders read no token types');
});

test('pair JSONL is read with text_pair; T5 frames pairs as sentence1/sentence2; a tiny BERT learns a pair-only task', async () => {
  // The label says whether the two texts name the same animal: no single text reveals it.
  const lines: string[] = [];
  let n = 0;
  for (const a of ANIMALS) for (const b of ANIMALS) for (const v of ['saw', 'met', 'fed']) {
    const same = a === b || (n++ % 5 === 0);
    const other = same ? a : b;
    lines.push(JSON.stringify({ text: `the ${a} ${v} me`, text_pair: `it was the ${other} ${n}`, label: same ? 'same' : 'different' }));
  }
  const file = path.join(dir, 'pairs.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const data = await jsonlData(file);
  assert.equal(data.train[0]!.textPair, 'it was the cat 0');
  assert.equal(classificationAsText2Text(data, 'same').train[0]!.input, 'same sentence1: the cat saw me sentence2: it was the cat 0');
  const bad = path.join(dir, 'mixed.jsonl');
  writeFileSync(bad, `${lines[0]}\n{"text": "x", "label": "same"}\n`);
  await assert.rejects(jsonlData(bad), /mixed\.jsonl:2: no "text_pair", unlike line 1/);

  const wpDir = path.join(dir, 'wp2');
  const wp = saveTokenizer(wpDir, trainTokenizer('wordpiece', lines.map((l) => { const o = JSON.parse(l) as { text: string; text_pair: string }; return `${o.text} ${o.text_pair}`; }), { vocabSize: 300 }));
  const hf = getModel('bert').newConfig({ layers: 2, hidden: 32, heads: 2, positions: 32, dropout: 0 }, wp);
  const r = await finetuneClassifier({
    backend: nodeBackend, base: { hf, tokenizer: wp, tokenizerDir: wpDir }, scratch: true, data, out: path.join(dir, 'run'), maxLen: 16,
    batchSize: 16, epochs: 1, lr: 3e-3, weightDecay: 0, gradClip: 1, dropout: 0, seed: 1, progress: false, auxLm: 0,
  });
  assert.equal(r.evalExamples, data.eval.length);
  const m = await loadFinetuned(nodeBackend, r.dir);
  const p = await m.classify('the cat saw me', 'it was the cat 999');
  const q = await m.classify('the cat saw me');
  assert.notDeepEqual(p.probabilities, q.probabilities, 'the pair is read');
});

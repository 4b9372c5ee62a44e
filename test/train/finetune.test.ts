// Classification from the last token: the pooled position, the padding invariance, and a fine-tuning run that
// learns a separable task end to end (JSONL data, tokenizer, trainer, metrics, checkpoint with id2label).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as F from '../../src/graph/index.js';
import { Ctx, initParameters } from '../../src/nn/index.js';
import { DecoderClassifier, lastTokenIndex } from '../../src/models/classifier.js';
import { Gpt2LMHeadModel, gpt2Config, gpt2ConfigToHf } from '../../src/models/gpt2.js';
import { Forward } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { brownGenreData, finetuneClassifier, jsonlData, limitPerLabel } from '../../src/train/finetune.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';

const i64 = (rows: number[][]) => ({ dtype: 'int64' as const, shape: [rows.length, rows[0].length], data: BigInt64Array.from(rows.flat().map(BigInt)) });

test('the pooled position is the last real token, with right or left padding', async () => {
  const store = new ParameterStore();
  const fwd = await Forward.compile(nodeBackend, (g) => ({ idx: lastTokenIndex(g.input('m', 'int64', ['b', 't'])) }), store);
  const r = await fwd.run({ m: i64([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [1, 0, 0, 0, 0]]) });
  assert.deepEqual(Array.from(r.idx.data as BigInt64Array, Number), [2, 4, 4, 0]);
});

test('right padding does not change a row’s class logits', async () => {
  const c = gpt2Config({ vocabSize: 50, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 16, initializerRange: 0.2 });
  const clf = new DecoderClassifier(new Gpt2LMHeadModel(c), 16, 3);
  const store = new ParameterStore();
  const specs = clf.parameters();
  assert.ok(specs.some((s) => s.name === 'score.weight') && specs.some((s) => s.name === 'transformer.wte.weight'), 'Hugging Face names');
  for (const [n, v] of initParameters(specs, 3)) store.set(n, specs.find((s) => s.name === n)!.shape, v);
  const fwd = await Forward.compile(nodeBackend, (g) => ({
    logits: clf.forward(new Ctx(g), g.input('ids', 'int64', ['b', 't']), g.input('mask', 'int64', ['b', 't'])).logits,
  }), store);
  const alone = (await fwd.run({ ids: i64([[5, 9, 12]]), mask: i64([[1, 1, 1]]) })).logits.data as Float32Array;
  const padded = (await fwd.run({ ids: i64([[5, 9, 12, 0, 0], [7, 7, 7, 7, 7]]), mask: i64([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]) })).logits.data as Float32Array;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(alone[i] - padded[i]) < 1e-5);
});

test('fine-tuning learns a separable task from JSONL and saves a classifier checkpoint', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-ft-'));
  const good = ['great', 'lovely', 'superb', 'fine', 'happy'];
  const bad = ['awful', 'poor', 'grim', 'sad', 'dull'];
  const filler = ['the', 'film', 'was', 'and', 'plot', 'a', 'very', 'its'];
  let s = 7;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)];
  const lines = Array.from({ length: 200 }, (_, i) => {
    const label = i % 2 ? 'pos' : 'neg';
    const words = Array.from({ length: 6 }, () => pick(filler));
    words.splice(Math.floor(rand() * 6), 0, pick(label === 'pos' ? good : bad));
    return JSON.stringify({ text: words.join(' '), label });
  });
  const file = path.join(dir, 'reviews.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');

  const trained = trainTokenizer('bpe', lines.map((l) => (JSON.parse(l) as { text: string }).text), { vocabSize: 300 });
  const tokDir = path.join(dir, 'tok');
  const tokenizer = saveTokenizer(tokDir, trained);
  const hf = gpt2ConfigToHf(gpt2Config({ vocabSize: tokenizer.vocabSize, nEmbd: 32, nLayer: 1, nHead: 2, nPositions: 32, eosTokenId: tokenizer.specialIds.eos!, bosTokenId: tokenizer.specialIds.eos! }));
  const data = await jsonlData(file);
  assert.deepEqual(data.labels, ['neg', 'pos']);
  assert.equal(data.eval.length, 20);
  assert.equal(limitPerLabel(data.train, 5, 0).length, 10);
  const few = await finetuneClassifier({
    backend: nodeBackend, base: { hf, tokenizer, tokenizerDir: tokDir }, scratch: true, data: { ...data, train: limitPerLabel(data.train, 2, 0) },
    out: path.join(dir, 'few'), maxLen: 16, batchSize: 16, epochs: 1, lr: 1e-3, warmupRatio: 0, weightDecay: 0, gradClip: 1, auxLm: 0, dropout: 0, seed: 1, progress: false,
  });
  assert.equal(few.trainExamples, 4, 'fewer examples than a batch still train');
  const r = await finetuneClassifier({
    backend: nodeBackend, base: { hf, tokenizer, tokenizerDir: tokDir }, scratch: true, data, out: path.join(dir, 'run'),
    maxLen: 16, batchSize: 16, epochs: 8, lr: 3e-3, warmupRatio: 0.1, weightDecay: 0, gradClip: 1, auxLm: 0.5, dropout: 0, seed: 1, progress: false,
  });
  assert.ok(r.accuracy >= 0.9, `accuracy ${r.accuracy}`);
  assert.ok(r.macroF1 >= 0.9);
  const cfg = JSON.parse(readFileSync(path.join(r.dir, 'config.json'), 'utf8')) as { id2label: Record<string, string>; architectures: string[] };
  assert.deepEqual(cfg.id2label, { 0: 'neg', 1: 'pos' });
  assert.deepEqual(cfg.architectures, ['GPT2ForSequenceClassification']);
  assert.ok(existsSync(path.join(r.dir, 'tokenizer.json')));
  void F;
});

test('the Brown category task caps its held-out set per category, not per genre', () => {
  const d = brownGenreData({ labels: 'category', maxEvalPerLabel: 30, seed: 0 });
  const counts = new Map<string, number>();
  for (const x of d.eval) counts.set(x.label, (counts.get(x.label) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), d.labels);
  assert.equal(d.labels.length, 4);
  for (const [label, n] of counts) assert.equal(n, 30, `category ${label}`);
});

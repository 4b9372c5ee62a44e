// Encoder fine-tuning through the library: a tiny BERT (registry newConfig, WordPiece trained on Brown) learns
// Brown part-of-speech tags well above the majority-tag baseline, classifies a separable JSONL task from [CLS],
// copies pretrained body weights by name, saves HF task checkpoints, and a decoder refuses --task tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { initParameters } from '../../src/nn/index.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { taskHead } from '../../src/models/tasks.js';
import { gpt2Config, gpt2ConfigToHf } from '../../src/models/gpt2.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import { finetuneClassifier, finetuneTagger, jsonlData, loadFinetuned, type FinetuneResult, type TaggingData } from '../../src/train/finetune.js';
import { assertTagsBrown, tinyTaggerSetup } from '../helpers/tagging.js';

const setup = tinyTaggerSetup('ft-enc', 'wordpiece', 'bert');
const { dir, hf, common } = setup;
const bert = setup.entry;

test('a tiny BERT tags Brown parts of speech well above the majority tag', async () => {
  const m = await assertTagsBrown(setup, 'BertForTokenClassification', 'bert');
  await assert.rejects(m.classify('x'), /not a sequence classifier/);
});

test('a tiny BERT classifies a separable JSONL task from the pooled [CLS] state', async () => {
  const good = ['great', 'lovely', 'superb', 'fine', 'happy'];
  const bad = ['awful', 'poor', 'grim', 'sad', 'dull'];
  const filler = ['the', 'film', 'was', 'and', 'plot', 'a', 'very', 'its'];
  let s = 7;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)]!;
  const file = path.join(dir, 'reviews.jsonl');
  writeFileSync(file, Array.from({ length: 300 }, (_, i) => {
    const label = i % 2 ? 'pos' : 'neg';
    const words = Array.from({ length: 6 }, () => pick(filler));
    words.splice(Math.floor(rand() * 6), 0, pick(label === 'pos' ? good : bad));
    return JSON.stringify({ text: words.join(' '), label });
  }).join('\n') + '\n');
  const data = await jsonlData(file);
  const r = await finetuneClassifier({ ...common, data, out: path.join(dir, 'clf'), maxLen: 16, epochs: 3, lr: 3e-3, auxLm: 0 });
  assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  assert.equal(r.architecture, 'BertForSequenceClassification');
  const m = await loadFinetuned(nodeBackend, r.dir);
  assert.equal(m.task, 'classify');
  const p = await m.classify('the film was superb');
  assert.equal(p.label, 'pos');
  assert.ok(Math.abs(p.probabilities['pos']! + p.probabilities['neg']! - 1) < 1e-5);
});

test('pretrained body weights are copied by name; the head starts fresh', async () => {
  const pre = bert.build(hf, { heads: ['mlm', 'nsp'] });
  const specs = pre.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 9)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const data: TaggingData = { labels: ['A', 'B'], train: [{ tokens: ['the', 'cat'], tags: ['A', 'B'] }], eval: [{ tokens: ['a', 'dog'], tags: ['A', 'B'] }] };
  const r = await finetuneTagger({ ...common, base: { ...common.base, store }, scratch: false, data, out: path.join(dir, 'pre'), maxLen: 8, epochs: 1, lr: 1e-9 });
  const { loadCheckpoint } = await import('../../src/io/checkpoint.js');
  const ck = await loadCheckpoint(r.dir, { skipOptimizer: true });
  const name = 'bert.encoder.layer.1.attention.self.query.weight';
  const near = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < 1e-6);
  assert.ok(near(ck.weights.get(name)!.data, store.get(name)), 'body weights from the pretrained store');
  assert.ok(ck.weights.has('classifier.weight') && !ck.weights.has('bert.pooler.dense.weight') && !ck.weights.has('cls.predictions.bias'));
  const rs = await finetuneClassifier({ ...common, base: { ...common.base, store }, scratch: false, data: { labels: ['A', 'B'], train: [{ text: 'the cat', label: 'A' }], eval: [{ text: 'a dog', label: 'B' }] }, out: path.join(dir, 'pre-clf'), maxLen: 8, epochs: 1, lr: 1e-9, auxLm: 0 });
  const cs = await loadCheckpoint(rs.dir, { skipOptimizer: true });
  assert.ok(near(cs.weights.get('bert.pooler.dense.weight')!.data, store.get('bert.pooler.dense.weight')), 'NSP pooler reused');
});

test('a decoder offers classify, tag and qa; the error names --task and the supported tasks', () => {
  const g = gpt2ConfigToHf(gpt2Config({ vocabSize: 50, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 16 }));
  assert.equal(taskHead('gpt2', 'classify').architecture, 'GPT2ForSequenceClassification');
  assert.equal(taskHead(g.model_type, 'tag').architecture, 'GPT2ForTokenClassification');
  assert.equal(taskHead('llama', 'tag').architecture, 'LlamaForTokenClassification');
  assert.throws(() => taskHead(g.model_type, 'text2text'), /--task text2text: model_type gpt2 supports only --task classify, tag, qa/);
  assert.throws(() => taskHead('bert', 'ner'), /--task ner: unknown task \(tasks: classify, tag, text2text, qa\)/);
  assert.equal(taskHead('bert', 'tag').architecture, 'BertForTokenClassification');
});

/** Every noun x verb x adverb; the sentences with "house ... slowly" are held out (evaluation must not overlap training). */
function toyTagging(): { sents: TaggingData['train']; data: TaggingData } {
  const combos = ['cat', 'dog', 'house'].flatMap((n) => ['sat', 'ran'].flatMap((v) => ['quickly', 'slowly'].map((a) => ['The', n, v, a, '.'])));
  const seen = combos.filter((c) => !(c[1] === 'house' && c[3] === 'slowly'));
  const unseen = combos.filter((c) => c[1] === 'house' && c[3] === 'slowly');
  const tagged = (tokens: string[]) => ({ tokens, tags: ['DET', 'NOUN', 'VERB', 'ADV', '.'] });
  const sents = [...Array.from({ length: 70 }, (_, i) => tagged(seen[i % seen.length]!)), ...Array.from({ length: 10 }, (_, i) => tagged(unseen[i % unseen.length]!))];
  return { sents, data: { labels: ['.', 'ADV', 'DET', 'NOUN', 'VERB'], train: sents.slice(0, 70), eval: sents.slice(70) } };
}

/** A 1-layer, 32-wide model of `modelType` on a byte-level BPE of the toy sentences, fine-tuned as a tagger. */
async function toyTagger(modelType: string, name: string): Promise<FinetuneResult> {
  const { sents, data } = toyTagging();
  const bpeDir = path.join(dir, `bpe-${name}`);
  const tok = saveTokenizer(bpeDir, trainTokenizer('bpe', sents.map((s) => s.tokens.join(' ')), { vocabSize: 300 }));
  const thf = getModel(modelType).newConfig({ layers: 1, hidden: 32, heads: 2, positions: 32, dropout: 0 }, tok);
  return finetuneTagger({ ...common, base: { hf: thf, tokenizer: tok, tokenizerDir: bpeDir }, data, out: path.join(dir, name), maxLen: 16, epochs: 6, lr: 5e-3 });
}

test('a tiny GPT-2 tags every token from its left context (GPT2ForTokenClassification)', async () => {
  const r = await toyTagger('gpt2', 'gpt2-tag');
  assert.equal(r.architecture, 'GPT2ForTokenClassification');
  assert.equal(r.evalWords, 50);
  assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  const { loadCheckpoint } = await import('../../src/io/checkpoint.js');
  const ck = await loadCheckpoint(r.dir, { skipOptimizer: true });
  assert.deepEqual(ck.weights.get('classifier.weight')!.shape, [5, 32]);
  assert.ok(ck.weights.has('classifier.bias') && ck.weights.has('transformer.h.0.attn.c_attn.weight'));
  const m = await loadFinetuned(nodeBackend, r.dir);
  const full = await m.tag(['The', 'dog', 'ran', 'quickly', '.']);
  assert.deepEqual(full, ['DET', 'NOUN', 'VERB', 'ADV', '.']);
  // Causal attention: the tags of a prefix are the tags of the same words in the longer sentence.
  assert.deepEqual(await m.tag(['The', 'dog', 'ran']), full.slice(0, 3));
});

test('a tiny RoBERTa (byte-level BPE) fine-tunes as a tagger through its registry head', async () => {
  const r = await toyTagger('roberta', 'rob');
  assert.equal(r.architecture, 'RobertaForTokenClassification');
  assert.equal(r.evalWords, 50);
  assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  const m = await loadFinetuned(nodeBackend, r.dir);
  assert.deepEqual(await m.tag(['The', 'dog', 'ran', 'quickly', '.']), ['DET', 'NOUN', 'VERB', 'ADV', '.']);
});

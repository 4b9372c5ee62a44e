// `pretrain finetune --task tag|classify` from a pretrained BERT checkpoint and `predict` on the result, through the
// built CLI; the errors name the flag for a bad task or data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { initParameters } from '../../src/nn/index.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { gpt2Config, gpt2ConfigToHf, Gpt2LMHeadModel } from '../../src/models/gpt2.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import type { ParamSpec } from '../../src/nn/index.js';
import { tempDir } from '../tokenizers/helpers.js';
import { cli } from '../helpers/cli.js';


const weights = (specs: ParamSpec[], seed: number) => {
  const init = initParameters(specs, seed);
  return new Map(specs.map((s) => [s.name, { shape: s.shape, data: init.get(s.name)! }]));
};

const dir = tempDir('pretrain-cli-enc-');
const sentences: Array<{ tokens: string[]; tags: string[] }> = [];
const nouns = ['cat', 'dog', 'house', 'mat', 'tree'];
const verbs = ['sat', 'ran', 'jumped', 'slept'];
for (let i = 0; i < 60; i++)
  sentences.push({ tokens: ['The', nouns[i % 5]!, verbs[i % 4]!, 'on', 'the', nouns[(i + 2) % 5]!, '.'], tags: ['DET', 'NOUN', 'VERB', 'ADP', 'DET', 'NOUN', '.'] });
const tagged = path.join(dir, 'tagged.jsonl');
writeFileSync(tagged, sentences.map((s) => JSON.stringify(s)).join('\n') + '\n');
const tokDir = path.join(dir, 'tok');
const tokenizer = saveTokenizer(tokDir, trainTokenizer('wordpiece', sentences.map((s) => s.tokens.join(' ')), { vocabSize: 200 }));

test('finetune --task tag from a BERT checkpoint, then predict tags each word', async () => {
  const bert = getModel('bert');
  const hf = bert.newConfig({ layers: 1, hidden: 32, heads: 2, positions: 32, dropout: 0 }, tokenizer);
  const pre = path.join(dir, 'bert');
  await saveCheckpoint(pre, { config: hf, architectures: [bert.architecture(['mlm', 'nsp'])], weights: weights(bert.build(hf).parameters(), 1), tokenizer: { dir: tokDir } });
  const out = path.join(dir, 'tagger');
  const ft = cli('finetune', '--from', pre, '--task', 'tag', '--data', tagged, '--out', out, '--max-len', '16', '--batch-size', '8', '--epochs', '6', '--lr', '5e-3', '--dropout', '0', '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; accuracy: number; labels: string[]; evalExamples: number; evalWords: number; architecture: string };
  assert.equal(r.task, 'tag');
  assert.equal(r.architecture, 'BertForTokenClassification');
  assert.deepEqual(r.labels, ['.', 'ADP', 'DET', 'NOUN', 'VERB']);
  assert.equal(r.evalExamples, 6);
  assert.equal(r.evalWords, 42);
  assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  const p = cli('predict', '--model', out, '--json', 'The', 'dog', 'slept', 'on the mat', '.');
  assert.equal(p.code, 0, p.err);
  const pr = JSON.parse(p.out) as { tokens: string[]; tags: string[] };
  assert.deepEqual(pr.tokens, ['The', 'dog', 'slept', 'on', 'the', 'mat', '.']);
  assert.deepEqual(pr.tags, ['DET', 'NOUN', 'VERB', 'ADP', 'DET', 'NOUN', '.']);
  const plain = cli('predict', '--model', out, 'The', 'cat', 'ran');
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /^The\tDET\ncat\tNOUN\nran\tVERB\n$/);
  // A whole file of {"tokens"} lines; their "tags" are scored per token.
  const input = path.join(dir, 'tag-in.jsonl');
  writeFileSync(input, `${JSON.stringify({ tokens: ['The', 'cat', 'ran'], tags: ['DET', 'NOUN', 'NOUN'] })}\n${JSON.stringify({ tokens: ['the', 'mat'] })}\n`);
  const pf = cli('predict', '--model', out, '--input', input, '--output', path.join(dir, 'tag-out.jsonl'));
  assert.equal(pf.code, 0, pf.err);
  assert.deepEqual(readFileSync(path.join(dir, 'tag-out.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { tags: string[] }).tags), [['DET', 'NOUN', 'VERB'], ['DET', 'NOUN']]);
  assert.match(pf.out, /2 lines predicted -> .*tag-out\.jsonl; token accuracy 66\.7% over 3 gold tags/);
  writeFileSync(input, `${JSON.stringify({ text: 'not tokens' })}\n`);
  assert.match(cli('predict', '--model', out, '--input', input).err, /tag-in\.jsonl:1: a tag input line needs "tokens", an array of strings/);

  // Wrong data for the task, and --per-label on tagging: errors name the flag.
  const bad = cli('finetune', '--from', pre, '--task', 'classify', '--data', 'brown-pos', '--out', path.join(dir, 'x'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--data brown-pos is for --task tag/);
  const per = cli('finetune', '--from', pre, '--task', 'tag', '--data', tagged, '--per-label', '3', '--out', path.join(dir, 'x'));
  assert.match(per.err, /--per-label applies to --task classify/);
  const ner = cli('finetune', '--from', pre, '--task', 'ner', '--out', path.join(dir, 'x'));
  assert.match(ner.err, /--task ner: unknown task \(tasks: classify, tag, text2text, qa\)/);
});

test('finetune --task classify from BERT pools [CLS]; --task text2text on a decoder names the tasks it supports', async () => {
  const bert = getModel('bert');
  const hf = bert.newConfig({ layers: 1, hidden: 32, heads: 2, positions: 32, dropout: 0 }, tokenizer);
  const pre = path.join(dir, 'bert-mlm');
  await saveCheckpoint(pre, { config: hf, architectures: ['BertForMaskedLM'], weights: weights(bert.build(hf, { heads: ['mlm'] }).parameters(), 2), tokenizer: { dir: tokDir } });
  const data = path.join(dir, 'labels.jsonl');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify(i % 2 ? { text: `the cat sat on the mat ${i}`, label: 'cat' } : { text: `the dog ran to the house ${i}`, label: 'dog' })).join('\n') + '\n');
  const out = path.join(dir, 'clf');
  const ft = cli('finetune', '--from', pre, '--data', data, '--out', out, '--max-len', '16', '--batch-size', '8', '--epochs', '4', '--lr', '3e-3', '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; architecture: string; labels: string[] };
  assert.equal(r.architecture, 'BertForSequenceClassification');
  assert.deepEqual(r.labels, ['cat', 'dog']);
  const p = cli('predict', '--model', out, '--json', 'the', 'dog', 'ran');
  assert.equal(p.code, 0, p.err);
  const pr = JSON.parse(p.out) as { label: string; probabilities: Record<string, number> };
  assert.ok(['cat', 'dog'].includes(pr.label));
  assert.ok(Math.abs(pr.probabilities['cat']! + pr.probabilities['dog']! - 1) < 1e-5);

  const c = gpt2Config({ vocabSize: tokenizer.vocabSize, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 16 });
  const gpt = path.join(dir, 'gpt2');
  await saveCheckpoint(gpt, { config: gpt2ConfigToHf(c), weights: weights(new Gpt2LMHeadModel(c).parameters(), 3), tokenizer: { dir: tokDir } });
  const bad = cli('finetune', '--from', gpt, '--task', 'text2text', '--out', path.join(dir, 'y'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--task text2text: model_type gpt2 supports only --task classify, tag, qa|--task text2text needs an encoder-decoder/);
});

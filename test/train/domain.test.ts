// The domain check (src/train/domain.ts): a model pretrained here is near text like its corpus and far from text in
// another script; `pretrain finetune` writes the check into report.md and domain_check.json, skips it without the
// pretraining run's train_config.json, and --no-domain-check turns it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/cli/config.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import '../../src/models/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { domainCheck, domainModelOf, FAR_PIECES_RATIO } from '../../src/train/domain.js';
import { pretrain } from '../../src/train/pretrain.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-domain-'));
const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'house', 'red', 'big', 'small', 'under', 'tree'];
let s = 11;
const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
const sentence = () => `${Array.from({ length: 6 + rand(5) }, () => words[rand(words.length)]).join(' ')}.`;
const corpus = path.join(dir, 'corpus.txt');
writeFileSync(corpus, `${Array.from({ length: 200 }, () => Array.from({ length: 4 }, sentence).join(' ')).join('\n\n')}\n`);
const run = path.join(dir, 'gpt2');
const pretrained = pretrain(resolveConfig(undefined, {
  arch: 'gpt2', corpus, out: run, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 8, maxSteps: 40, warmup: 4,
  lr: 5e-3, evalEvery: 40, evalBatches: 2, saveEvery: 40, seed: 1, dropout: 0,
}), { backend: nodeBackend, progress: false, log: () => {} });

async function model(folder: string) {
  const ck = await loadCheckpoint(folder, { skipOptimizer: true });
  const store = new ParameterStore();
  for (const [n, w] of ck.weights) store.set(n, [...w.shape], w.data);
  return domainModelOf(folder, ck.config, store, loadTokenizer(folder));
}

test('domain check: near for text like the corpus, far for text in another script', async () => {
  const r = await pretrained;
  const m = await model(r.finalDir!);
  assert.ok(!('skipped' in m), JSON.stringify(m));
  if ('skipped' in m) return;
  const near = await domainCheck(m, 'same', Array.from({ length: 30 }, sentence), nodeBackend);
  assert.equal(near.far, false, JSON.stringify(near));
  // Its own held-out perplexity is below the vocabulary's uniform 300 after training.
  assert.ok(near.pretrainPerplexity > 1 && near.pretrainPerplexity < 100, JSON.stringify(near));
  assert.ok(Math.abs(near.taskPiecesPerWord - near.pretrainPiecesPerWord) < 0.2, JSON.stringify(near));
  const greek = ['αλφα', 'βητα', 'γαμμα', 'δελτα', 'ζητα', 'θητα', 'κάππα', 'λάμδα'];
  const far = await domainCheck(m, 'greek', Array.from({ length: 30 }, (_, i) => Array.from({ length: 8 }, (_, k) => greek[(i + k * 3) % 8]).join(' ')), nodeBackend);
  assert.equal(far.far, true, JSON.stringify(far));
  assert.ok(far.taskPiecesPerWord > FAR_PIECES_RATIO * far.pretrainPiecesPerWord, JSON.stringify(far));
  assert.ok(far.taskPerplexity > near.taskPerplexity, JSON.stringify({ near, far }));
});

test('finetune: the domain check lands in report.md and domain_check.json; skipped without train_config.json; --no-domain-check', async () => {
  await pretrained;
  const data = path.join(dir, 'labels.jsonl');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `${sentence()} ${i % 2 ? 'cat' : 'dog'}`, label: i % 2 ? 'cat' : 'dog' })).join('\n') + '\n');
  const tiny = ['--data', data, '--max-len', '24', '--batch-size', '8', '--max-steps', '2', '--dropout', '0'];
  const out = path.join(dir, 'ft');
  const ft = cli('finetune', '--from', run, ...tiny, '--out', out);
  assert.equal(ft.code, 0, ft.err);
  assert.match(ft.out, /domain check: perplexity [\d.]+ on the task's texts against [\d.]+ on held-out pretraining text, [\d.]+ against [\d.]+ pieces per word: near/);
  const d = JSON.parse(readFileSync(path.join(out, 'domain_check.json'), 'utf8')) as { far: boolean; task: string; pretrainPerplexity: number };
  assert.equal(d.task, data);
  assert.equal(d.far, false);
  const report = readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(report, /\| cat \|/, 'the per-class report is kept');
  assert.match(report, /## Domain check[\s\S]*\| near \|/);

  const off = cli('finetune', '--from', run, ...tiny, '--out', path.join(dir, 'ft-off'), '--no-domain-check');
  assert.equal(off.code, 0, off.err);
  assert.ok(!existsSync(path.join(dir, 'ft-off', 'domain_check.json')));

  // The checkpoint copied away from its run folder has no pretraining config beside it: fine-tuned without the check.
  const copy = path.join(dir, 'copied', 'model');
  cpSync((await pretrained).finalDir!, copy, { recursive: true });
  const again = cli('finetune', '--from', copy, ...tiny, '--out', path.join(dir, 'ft-again'));
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /domain check skipped: no train_config\.json in .*model or the run folder above it/);
  assert.ok(!existsSync(path.join(dir, 'ft-again', 'domain_check.json')));
});

test('finetune text2text (T5): the domain check reads the texts, not the "classify:" prefix of the inputs', async () => {
  const t5 = path.join(dir, 't5');
  await pretrain(resolveConfig(undefined, {
    arch: 't5', corpus, out: t5, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 8, maxSteps: 10, warmup: 2,
    lr: 5e-3, evalEvery: 10, evalBatches: 2, saveEvery: 10, seed: 1, dropout: 0,
  }), { backend: nodeBackend, progress: false, log: () => {} });
  const data = path.join(dir, 'labels-t5.jsonl');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: sentence(), label: i % 2 ? 'cat' : 'dog' })).join('\n') + '\n');
  const out = path.join(dir, 'ft-t5');
  const ft = cli('finetune', '--from', t5, '--data', data, '--max-len', '24', '--batch-size', '8', '--max-steps', '2', '--out', out);
  assert.equal(ft.code, 0, ft.err);
  const d = JSON.parse(readFileSync(path.join(out, 'domain_check.json'), 'utf8')) as { far: boolean; taskPiecesPerWord: number; pretrainPiecesPerWord: number };
  // With the prefix counted, this tokenizer splits "classify:" into several pieces and the task looks far.
  assert.equal(d.far, false, JSON.stringify(d));
  assert.ok(Math.abs(d.taskPiecesPerWord - d.pretrainPiecesPerWord) < 0.2, JSON.stringify(d));
});

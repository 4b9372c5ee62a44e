// The shared trainer: an interrupted and resumed run equals an uninterrupted one (dropout on), a non-finite loss
// stops and keeps the last good checkpoint, old checkpoints are pruned, logs and plots are written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as F from '../../src/graph/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { pretrain } from '../../src/train/pretrain.js';
import { resolveConfig } from '../../src/cli/config.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { parseGpt2Config } from '../../src/io/hf-config.js';
import type { FlatTrainConfig, TrainConfig } from '../../src/train/config.js';

function corpus(dir: string): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'house', 'red', 'big', 'small'];
  let s = 1;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const docs = Array.from({ length: 60 }, () =>
    Array.from({ length: 6 }, () => Array.from({ length: 8 }, () => words[Math.floor(rand() * words.length)]).join(' ') + '.').join(' '),
  );
  const file = path.join(dir, 'corpus.txt');
  writeFileSync(file, docs.join('\n\n') + '\n');
  return file;
}

function config(dir: string, out: string, extra: Partial<FlatTrainConfig> = {}): TrainConfig {
  return resolveConfig(undefined, {
    corpus: corpus(dir), out, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 16, batchSize: 4,
    maxSteps: 6, warmup: 2, lr: 3e-3, evalEvery: 3, evalBatches: 1, saveEvery: 100, keepLast: 2, seed: 5, dropout: 0.1,
    ...extra,
  });
}

test('a run interrupted after 3 steps and resumed gives the same losses as an uninterrupted run', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-resume-'));
  const full = await pretrain(config(dir, path.join(dir, 'a')), { backend: nodeBackend, progress: false, log: () => {} });
  assert.equal(full.losses.length, 6);
  const first = await pretrain(config(dir, path.join(dir, 'b')), { backend: nodeBackend, progress: false, log: () => {}, stopAfter: 3 });
  assert.equal(first.stoppedBy, 'stopAfter');
  assert.ok(existsSync(path.join(dir, 'b', 'checkpoint-3', 'optimizer.safetensors')), 'checkpoint-3 has the optimizer state');
  // The seed flag differs on purpose: a resumed run keeps the seed its checkpoint records.
  const rest = await pretrain(config(dir, path.join(dir, 'b'), { resume: true, seed: 99 }), { backend: nodeBackend, progress: false, log: () => {} });
  assert.deepEqual([...first.losses, ...rest.losses], full.losses, 'losses of the resumed run equal the uninterrupted run bit for bit');
  assert.equal(rest.lastEval?.loss, full.lastEval?.loss);

  const log = readFileSync(path.join(dir, 'b', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
  assert.deepEqual(log.filter((r) => r.kind === 'train').map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  assert.ok(log.some((r) => r.kind === 'eval'), 'eval records in log.jsonl');
  assert.match(readFileSync(path.join(dir, 'b', 'loss.svg'), 'utf8'), /^<svg/);
  const ck = readdirSync(path.join(dir, 'b')).filter((f) => f.startsWith('checkpoint-')).sort();
  assert.deepEqual(ck, ['checkpoint-3', 'checkpoint-6'], 'keeps the last 2 checkpoints');
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'trainer_state.json', 'onnx/model.onnx'])
    assert.ok(existsSync(path.join(dir, 'b', 'checkpoint-6', f)), f);
});

test('random-window blocks (nanoGPT) resume exactly too', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-windows-'));
  const opts = { blocks: 'windows' as const, maxSteps: 4, evalEvery: 0 };
  const full = await pretrain(config(dir, path.join(dir, 'a'), opts), { backend: nodeBackend, progress: false, log: () => {} });
  const first = await pretrain(config(dir, path.join(dir, 'b'), opts), { backend: nodeBackend, progress: false, log: () => {}, stopAfter: 2 });
  const rest = await pretrain(config(dir, path.join(dir, 'b'), { ...opts, resume: true }), { backend: nodeBackend, progress: false, log: () => {} });
  assert.deepEqual([...first.losses, ...rest.losses], full.losses);
});

test('a non-finite loss stops training and points at the last good checkpoint', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-nan-'));
  const store = new ParameterStore();
  store.set('w', [1], Float32Array.of(1));
  const opts: TrainerOptions = {
    outDir: dir, maxSteps: 10, gradAccum: 1, lr: 1, warmup: 0, decay: 'constant', minLrRatio: 0, gradClip: 0,
    evalEvery: 0, saveEvery: 1, keepLast: 5, seed: 0, resume: false, progress: false,
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 },
  };
  // loss = sqrt(w), SGD with lr 1 from w = 1: w = 0.5, then -0.21, where sqrt is NaN.
  const saved: string[] = [];
  const trainer = new Trainer(nodeBackend, store, {
    trainLoss: (g) => F.sumAll(F.sqrt(g.param('w', [1]))),
    evalOutputs: (g) => ({ loss: F.sumAll(F.sqrt(g.param('w', [1]))) }),
    train: { next: () => ({}), state: () => null, restore: () => {} },
    tokensPerMicroBatch: 1,
    save: async (d) => {
      saved.push(path.basename(d));
      await saveCheckpoint(d, {
        config: parseGpt2Config({ model_type: 'gpt2', vocab_size: 2, n_embd: 2, n_layer: 1, n_head: 1, n_positions: 2 }, 'test'),
        weights: new Map([['w', { shape: [1], data: store.get('w') }]]),
      });
    },
  }, opts);
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'nonfinite');
  assert.deepEqual(saved, ['checkpoint-1', 'checkpoint-2']);
  const log = readFileSync(path.join(dir, 'log.jsonl'), 'utf8');
  assert.match(log, /non-finite loss .* The last good checkpoint is .*checkpoint-2/);
});

test('config errors name the key', () => {
  assert.throws(() => resolveConfig(undefined, { learning_rate: 1 }), /unknown option --learning_rate \(did you mean --lr\?\)/);
  assert.throws(() => resolveConfig(undefined, { layers: 'many' }), /layers/);
});

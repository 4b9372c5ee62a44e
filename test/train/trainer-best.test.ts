// The Trainer's task evaluation hook, best model and early stopping (HF load_best_model_at_end,
// EarlyStoppingCallback), on a one-weight model with scripted task metrics so that the best step is known; and
// their state through an interrupted and resumed run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as F from '../../src/graph/index.js';
import type { Graph } from '../../src/graph/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { Trainer, metricValue, type TrainerOptions } from '../../src/train/trainer.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { parseGpt2Config } from '../../src/io/hf-config.js';

const CONFIG = parseGpt2Config({ model_type: 'gpt2', vocab_size: 2, n_embd: 2, n_layer: 1, n_head: 1, n_positions: 2 }, 'test');

/** w -> 3 by SGD on (w - 3)^2; the task's "accuracy" at each evaluation comes from `script` (by step). */
function run(dir: string, script: Record<number, number>, extra: Partial<TrainerOptions>): { trainer: Trainer; store: ParameterStore; weightAt: Map<number, number> } {
  const store = new ParameterStore();
  store.set('w', [1], Float32Array.of(0));
  const weightAt = new Map<number, number>();
  const opts: TrainerOptions = {
    outDir: dir, maxSteps: 12, gradAccum: 1, lr: 0.05, warmup: 0, decay: 'constant', minLrRatio: 0, gradClip: 0,
    evalEvery: 2, saveEvery: 0, keepLast: 1, seed: 0, resume: false, progress: false,
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, ...extra,
  };
  const loss = (g: Graph) => {
    const d = F.sub(g.param('w', [1]), 3);
    return F.sumAll(F.mul(d, d));
  };
  const trainer = new Trainer(nodeBackend, store, {
    trainLoss: loss,
    evalOutputs: (g) => ({ loss: loss(g) }),
    evalBatches: () => [{}],
    evaluateTask: async () => {
      weightAt.set(store.step, store.get('w')[0]!);
      return { accuracy: script[store.step] ?? 0 };
    },
    train: { next: () => ({}), state: () => null, restore: () => {} },
    tokensPerMicroBatch: 1,
    save: (d, resume) => saveCheckpoint(d, { config: CONFIG, weights: new Map([['w', { shape: [1], data: store.get('w').slice() }]]), ...resume }),
  }, opts);
  return { trainer, store, weightAt };
}

const SCRIPT = { 2: 0.5, 4: 0.8, 6: 0.7, 8: 0.6, 10: 0.9, 12: 0.95 };
const evals = (dir: string) => readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>).filter((r) => r.kind === 'eval');

test('task metrics join the eval records on schedule; save-best ends with the best weights; patience stops early', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainer-best-'));
  const { trainer, store, weightAt } = run(dir, SCRIPT, { saveBest: true, bestMetric: { name: 'eval_accuracy', greaterIsBetter: true }, patience: 2 });
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'early-stop');
  assert.equal(r.step, 8, 'two evaluations (6, 8) without improving on step 4');
  const ev = evals(dir);
  assert.deepEqual(ev.map((e) => e.step), [2, 4, 6, 8]);
  assert.deepEqual(ev.map((e) => e.accuracy), [0.5, 0.8, 0.7, 0.6]);
  assert.ok(ev.every((e) => typeof e.loss === 'number'), 'the eval loss is there too');
  assert.deepEqual({ ...r.best }, { metric: 'eval_accuracy', value: 0.8, step: 4, checkpoint: path.join(dir, 'checkpoint-4') });
  assert.equal(r.finalDir, path.join(dir, 'checkpoint-4'));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('checkpoint-')).sort(), ['checkpoint-4', 'checkpoint-8'], 'the best kept besides the last');
  assert.equal(store.get('w')[0], weightAt.get(4), 'the store holds the best weights at the end');
  const state = JSON.parse(readFileSync(path.join(dir, 'checkpoint-8', 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual([state.metric_for_best_model, state.best_metric, state.best_global_step, state.best_model_checkpoint, state.early_stopping_patience_counter],
    ['eval_accuracy', 0.8, 4, path.join(dir, 'checkpoint-4'), 2]);
  assert.match(readFileSync(path.join(dir, 'metrics.svg'), 'utf8'), /^<svg[\s\S]*accuracy/);
});

test('lower-is-better metrics, and no early stop without patience', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainer-loss-'));
  const { trainer } = run(dir, SCRIPT, { saveBest: true });
  const r = await trainer.run();
  assert.equal(r.stoppedBy, 'done');
  assert.equal(r.step, 12);
  // The eval loss (w - 3)^2 falls at every evaluation: the best is the last.
  assert.equal(r.best?.metric, 'loss');
  assert.equal(r.best?.step, 12);
  assert.equal(r.finalDir, path.join(dir, 'checkpoint-12'));
  assert.throws(() => metricValue({ kind: 'eval', step: 1, loss: 1, accuracy: 0.5 }, 'f1'), /metric for the best model "f1": the evaluation has no such metric \(it has loss, accuracy\)/);
});

test('a run interrupted between evaluations resumes with its best metric and patience counter', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainer-best-resume-'));
  const o = { saveBest: true, bestMetric: { name: 'accuracy', greaterIsBetter: true }, patience: 2 };
  const full = await run(path.join(dir, 'full'), SCRIPT, o).trainer.run();
  const first = await run(path.join(dir, 'cut'), SCRIPT, { ...o, stopAfter: 7 }).trainer.run();
  assert.equal(first.stoppedBy, 'stopAfter');
  const resumed = run(path.join(dir, 'cut'), SCRIPT, { ...o, resume: true });
  const rest = await resumed.trainer.run();
  assert.equal(rest.stoppedBy, 'early-stop');
  assert.equal(rest.step, full.step, 'the patience counter (1 at step 7) carried over');
  assert.deepEqual([...first.losses, ...rest.losses], full.losses);
  assert.deepEqual({ ...rest.best, checkpoint: undefined }, { ...full.best, checkpoint: undefined });
  const a = await loadCheckpoint(full.finalDir!, { skipOptimizer: true });
  const b = await loadCheckpoint(rest.finalDir!, { skipOptimizer: true });
  assert.deepEqual(b.weights.get('w')!.data, a.weights.get('w')!.data, 'the same best weights');
  assert.ok(existsSync(path.join(dir, 'cut', 'checkpoint-4')));
});

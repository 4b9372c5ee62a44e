// The fine-tuning loop as a Hugging Face user knows it: evaluation on a schedule with the task's metrics in
// log.jsonl and the result's curve, max steps and warmup flags, save-best, exact resume, the held-out and
// per-label guards, and the per-class report with its confusion matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gpt2Config, gpt2ConfigToHf } from '../../src/models/gpt2.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import {
  checkHeldOut, finetuneClassifier, jsonlData, plannedSteps, requirePerLabel, warmupSteps, type ClassificationData, type FinetuneOptions,
} from '../../src/train/finetune.js';
import { confusionMatrix, perClassScores } from '../../src/train/metrics.js';
import { classReportMarkdown } from '../../src/train/report.js';
import { confusionMatrixSvg } from '../../src/train/plot.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-ftloop-'));

/** Reviews whose label is the sentiment word among filler; a tiny GPT-2 and its BPE tokenizer. */
async function setup(): Promise<{ data: ClassificationData; base: FinetuneOptions['base']; file: string }> {
  const good = ['great', 'lovely', 'superb', 'fine', 'happy'];
  const bad = ['awful', 'poor', 'grim', 'sad', 'dull'];
  const filler = ['the', 'film', 'was', 'and', 'plot', 'a', 'very', 'its'];
  let s = 11;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const pick = (xs: string[]) => xs[Math.floor(rand() * xs.length)]!;
  const lines = Array.from({ length: 120 }, (_, i) => {
    const label = i % 2 ? 'pos' : 'neg';
    const words = Array.from({ length: 6 }, () => pick(filler));
    words.splice(Math.floor(rand() * 6), 0, pick(label === 'pos' ? good : bad));
    return JSON.stringify({ text: `${words.join(' ')} ${i}`, label });
  });
  const file = path.join(dir, 'reviews.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const tokDir = path.join(dir, 'tok');
  const tokenizer = saveTokenizer(tokDir, trainTokenizer('bpe', lines.map((l) => (JSON.parse(l) as { text: string }).text), { vocabSize: 300 }));
  const hf = gpt2ConfigToHf(gpt2Config({ vocabSize: tokenizer.vocabSize, nEmbd: 32, nLayer: 1, nHead: 2, nPositions: 32, eosTokenId: tokenizer.specialIds.eos!, bosTokenId: tokenizer.specialIds.eos! }));
  return { data: await jsonlData(file), base: { hf, tokenizer, tokenizerDir: tokDir }, file };
}
const ready = setup();

async function opts(out: string, extra: Partial<FinetuneOptions> = {}): Promise<FinetuneOptions> {
  const { data, base } = await ready;
  return {
    backend: nodeBackend, base, scratch: true, data, out: path.join(dir, out), maxLen: 16, batchSize: 16, maxSteps: 6, lr: 3e-3,
    weightDecay: 0, gradClip: 1, auxLm: 0, dropout: 0.1, seed: 1, progress: false, ...extra,
  };
}

const logRecords = (out: string) => readFileSync(path.join(dir, out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);

test('evaluation every n steps writes accuracy, macro-F1 and loss to log.jsonl; the curve and the final scores agree', async () => {
  const r = await finetuneClassifier(await opts('sched', { evalEvery: 2 }));
  const ev = logRecords('sched').filter((x) => x.kind === 'eval');
  assert.deepEqual(ev.map((x) => x.step), [2, 4, 6]);
  for (const e of ev) for (const k of ['accuracy', 'macro_f1', 'loss']) assert.equal(typeof e[k], 'number', `${k} at step ${e.step}`);
  assert.deepEqual(r.curve.map((c) => c.step), [2, 4, 6]);
  assert.deepEqual(r.curve.map((c) => c.metrics.accuracy), ev.map((e) => e.accuracy));
  assert.equal(r.primaryMetric, 'accuracy');
  assert.equal(r.accuracy, r.curve.at(-1)!.metrics.accuracy, 'the final scores are the last evaluation');
  assert.equal(r.macroF1, r.curve.at(-1)!.metrics.macro_f1);
  assert.equal(r.steps, 6);
  for (const f of ['loss.svg', 'metrics.svg', 'report.md', 'classification_report.json', 'confusion_matrix.svg', 'config.json', 'model.safetensors'])
    assert.ok(existsSync(path.join(dir, 'sched', f)), f);
  // The report's numbers are the result's, and add up to the held-out examples.
  const rep = JSON.parse(readFileSync(path.join(dir, 'sched', 'classification_report.json'), 'utf8')) as { per_class: { label: string; support: number }[]; confusion_matrix: number[][] };
  assert.deepEqual(rep.per_class, r.perClass);
  assert.equal(rep.confusion_matrix.flat().reduce((a, b) => a + b, 0), r.evalExamples);
  const correct = rep.confusion_matrix.reduce((s, row, i) => s + row[i]!, 0);
  assert.equal(correct / r.evalExamples, r.accuracy, 'the diagonal is the accuracy');
});

test('a fine-tune interrupted and resumed equals an uninterrupted one (losses, weights, scores)', async () => {
  const full = await finetuneClassifier(await opts('full', { evalEvery: 2 }));
  const first = await finetuneClassifier(await opts('cut', { evalEvery: 2, stopAfter: 3 }));
  assert.equal(first.stoppedBy, 'stopAfter');
  const rest = await finetuneClassifier(await opts('cut', { evalEvery: 2, resume: true }));
  assert.deepEqual([...first.losses, ...rest.losses], full.losses);
  assert.deepEqual(rest.curve, full.curve);
  assert.equal(rest.accuracy, full.accuracy);
  const a = await loadCheckpoint(full.dir, { skipOptimizer: true });
  const b = await loadCheckpoint(rest.dir, { skipOptimizer: true });
  for (const [name, t] of a.weights) assert.deepEqual(b.weights.get(name)!.data, t.data, name);
  // A resume must keep the data and batches.
  await assert.rejects(finetuneClassifier(await opts('cut', { evalEvery: 2, resume: true, batchSize: 8 })),
    /--resume: batch_size 8 \(the run has 16\): a resumed fine-tuning keeps the settings and data of .*finetune_config\.json/);
  // A new run in a used folder is refused; --overwrite starts over.
  await assert.rejects(finetuneClassifier(await opts('cut')), /--out .*cut already holds a run .*--resume.*--overwrite/);
  await assert.rejects(finetuneClassifier(await opts('cut', { resume: true, overwrite: true })), /--resume continues the run in --out and --overwrite deletes it/);
});

test('save-best keeps the best evaluation and reports its scores', async () => {
  // A high learning rate makes the held-out loss rise again; "loss" is watched (lower is better).
  const r = await finetuneClassifier(await opts('best', { evalEvery: 1, maxSteps: 8, lr: 3e-2, saveBest: true, metricForBestModel: 'loss' }));
  const losses = r.curve.map((c) => c.metrics.loss!);
  const bestStep = r.curve[losses.indexOf(Math.min(...losses))]!.step;
  assert.ok(bestStep < 8, `the loss rose again after step ${bestStep}`);
  assert.deepEqual(r.best, { metric: 'loss', value: Math.min(...losses), step: bestStep });
  assert.equal(r.dir, path.join(dir, 'best', `checkpoint-${bestStep}`));
  const atBest = r.curve.find((c) => c.step === bestStep)!.metrics;
  assert.equal(r.accuracy, atBest.accuracy, 'the scores are those of the best checkpoint');
  const root = await loadCheckpoint(path.join(dir, 'best'), { skipOptimizer: true });
  const best = await loadCheckpoint(r.dir, { skipOptimizer: true });
  for (const [name, t] of best.weights) assert.deepEqual(root.weights.get(name)!.data, t.data, `the run folder's model is the best one (${name})`);
  assert.ok(existsSync(path.join(dir, 'best', 'checkpoint-8')), 'the last checkpoint is kept too');
});

test('max steps, warmup steps and ratio as Hugging Face computes them; the lr in log.jsonl follows', async () => {
  assert.equal(plannedSteps({ epochs: 3 }, 100, 16), 19);
  assert.equal(plannedSteps({ epochs: 3, maxSteps: 5 }, 100, 16), 5);
  assert.equal(warmupSteps({ warmupRatio: 0.1 }, 19), 2, 'ceil(0.1 * 19)');
  assert.equal(warmupSteps({ warmupRatio: 0.1, warmupSteps: 7 }, 19), 7, 'warmup_steps wins');
  assert.equal(warmupSteps({}, 19), 0);
  assert.throws(() => warmupSteps({ warmupRatio: 100 }, 19), /--warmup-ratio must be in \[0, 1\], got 100/);
  await finetuneClassifier(await opts('warm', { maxSteps: 6, warmupSteps: 3, warmupRatio: 0.5, lr: 1e-3 }));
  const lrs = logRecords('warm').filter((x) => x.kind === 'train').map((x) => x.lr as number);
  assert.equal(lrs.length, 6);
  // Linear warmup over 3 steps (HF: step 0 uses lr 0), then linear decay to 0 at step 6.
  const expected = [0, 1 / 3, 2 / 3, 1, 2 / 3, 1 / 3].map((f) => f * 1e-3);
  lrs.forEach((lr, i) => assert.ok(Math.abs(lr - expected[i]!) < 1e-9, `lr at step ${i}: ${lr} vs ${expected[i]}`));
});

test('guards: an empty or overlapping held-out set, and too few examples per label, are errors naming them', async () => {
  const { data } = await ready;
  await assert.rejects(finetuneClassifier(await opts('g1', { data: { ...data, eval: [], evalName: 'held.jsonl' } })), /^Error: held\.jsonl: the evaluation set is empty/);
  await assert.rejects(finetuneClassifier(await opts('g2', { data: { ...data, eval: [...data.eval, data.train[3]!], evalName: 'held.jsonl' } })),
    /held\.jsonl: 1 of its 13 examples also occur in the training data \(the first: ".*"\)/);
  assert.ok(!existsSync(path.join(dir, 'g1')) && !existsSync(path.join(dir, 'g2')), 'nothing written');
  await assert.rejects(finetuneClassifier(await opts('g3', { saveBest: true, metricForBestModel: 'f1' })), /--save-best f1: not a metric of --task classify \(its metrics: loss, accuracy, macro_f1\)/);
  await assert.rejects(finetuneClassifier(await opts('g4', { patience: 2 })), /--patience counts evaluations: give --eval-every too/);
  // Pairs: the same text with another pair is another example.
  checkHeldOut(['["a","b"]'], ['["a","c"]'], 'x', 'example');
  const xs = [{ text: 'a', label: 'x' }, { text: 'b', label: 'x' }, { text: 'c', label: 'y' }];
  assert.throws(() => requirePerLabel(xs, 2, 0), /^Error: --per-label 2: label "y" has 1 training example; use --per-label 1 or less \(0 = all\)$/);
  assert.equal(requirePerLabel(xs, 1, 0).length, 2);
  assert.equal(requirePerLabel(xs, 0, 0).length, 3);
});

test('per-class precision, recall, F1 and support as sklearn defines them; the confusion matrix picture has its cells', () => {
  // Hand-checked with sklearn.metrics.classification_report(y_true, y_pred):
  //   0: precision 0.5, recall 0.5, f1 0.5, support 2; 1: 0.667, 1.0, 0.8, 2; 2: 1.0, 0.5, 0.667, 2.
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 0, 2];
  const s = perClassScores(yTrue, yPred, [0, 1, 2]);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  const want = [[0.5, 0.5, 0.5, 2], [2 / 3, 1, 0.8, 2], [1, 0.5, 2 / 3, 2]];
  s.forEach((c, i) => assert.ok(near(c.precision, want[i]![0]!) && near(c.recall, want[i]![1]!) && near(c.f1, want[i]![2]!) && c.support === want[i]![3], JSON.stringify(c)));
  const md = classReportMarkdown(s.map((c) => ({ ...c, label: ['A', 'B', 'C'][c.label]! })));
  assert.match(md, /\| B \| 0\.667 \| 1\.000 \| 0\.800 \| 2 \|/);
  // sklearn's macro avg: precision (0.5 + 0.667 + 1) / 3 = 0.722, recall 0.667, f1 0.656.
  assert.match(md, /\| macro avg \| 0\.722 \| 0\.667 \| 0\.656 \| 6 \|/);
  const m = confusionMatrix(yTrue, yPred, [0, 1, 2]).matrix;
  assert.deepEqual(m, [[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
  const svg = confusionMatrixSvg(m, ['A', 'B', 'C']);
  const cells = [...svg.matchAll(/<title>true (\w), predicted (\w): (\d+)<\/title>/g)].map((x) => `${x[1]}${x[2]}=${x[3]}`);
  assert.deepEqual(cells, ['AA=1', 'AB=1', 'AC=0', 'BA=0', 'BB=2', 'BC=0', 'CA=1', 'CB=0', 'CC=1']);
  assert.throws(() => confusionMatrixSvg([[1]], ['A', 'B']), /a 2x2 matrix is expected/);
});

// The main job end to end at toy size: tokenizer, pretraining, samples, both fine-tuning comparisons, report files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { paradigmDefaults, runParadigm, type ParadigmReport } from '../../src/experiments/paradigm.js';
import { nodeBackend } from '../../src/runtime/node.js';

test('the main job runs end to end and writes its report', async () => {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'pretrain-demo-')), 'main');
  const lines: string[] = [];
  const report = await runParadigm({
    ...paradigmDefaults, out, pretrainSteps: 6, layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 4, vocabSize: 300,
    perLabel: [1], perLabelCategory: [2], finetuneEpochs: 1, progress: false,
  }, nodeBackend, (s) => lines.push(s));
  assert.equal(report.pretrain.steps, 6);
  assert.equal(report.samples.length, 3);
  assert.deepEqual(report.finetune.map((f) => [f.task, f.classes, f.perLabel, f.trainExamples]), [['genre', 15, 1, 15], ['category', 4, 2, 8]]);
  for (const f of report.finetune) {
    assert.ok(f.majority > 0 && f.majority < 1);
    // The reported numbers are counts over the 590 held-out examples: accuracy and the majority share are k / 590.
    const isCount = (x: number, n: number) => Math.abs(x * n - Math.round(x * n)) < 1e-9;
    assert.ok(isCount(f.majority, 590), `majority ${f.majority} is not a count over 590`);
    for (const r of [f.pretrained, f.scratch]) {
      assert.equal(r.evalExamples, 590);
      assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && isCount(r.accuracy, 590), `accuracy ${r.accuracy} is not a count over 590`);
      assert.ok(r.macroF1 >= 0 && r.macroF1 <= 1);
      // Macro-F1 is positive exactly when some class has a true positive, that is when the accuracy is.
      assert.equal(r.macroF1 > 0, r.accuracy > 0, `macro-F1 ${r.macroF1} inconsistent with accuracy ${r.accuracy}`);
    }
  }
  const saved = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as ParadigmReport;
  assert.deepEqual(saved.finetune.map((f) => f.perLabel), [1, 2]);
  for (const f of ['report.md', 'finetune-genre-1.svg', 'finetune-category-2.svg', 'pretrain/loss.svg', 'pretrain/checkpoint-6/onnx/model.onnx'])
    assert.ok(existsSync(path.join(out, f)), f);
  assert.ok(lines.some((l) => l.includes('| 15 genres | 1 |')), 'the side-by-side table is printed');
});

// `pretrain finetune` with Hugging Face's training flags (--max-steps, --warmup-ratio/--warmup-steps, --eval-every,
// --save-best, --patience, --resume) and its guards, and `pretrain predict --input file.jsonl`, through the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { initParameters } from '../../src/nn/index.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import { tempDir } from '../tokenizers/helpers.js';
import { cli } from '../helpers/cli.js';


const dir = tempDir('pretrain-cli-ftloop-');
const rows = Array.from({ length: 60 }, (_, i) => ({ text: `the ${i % 2 ? 'cat sat on the mat' : 'dog ran to the house'} ${i}`, label: i % 2 ? 'cat' : 'dog' }));
const data = path.join(dir, 'labels.jsonl');
writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const tokDir = path.join(dir, 'tok');
const tokenizer = saveTokenizer(tokDir, trainTokenizer('wordpiece', rows.map((r) => r.text), { vocabSize: 200 }));
const pre = path.join(dir, 'bert');
const ready = (async () => {
  const bert = getModel('bert');
  const hf = bert.newConfig({ layers: 1, hidden: 32, heads: 2, positions: 32, dropout: 0 }, tokenizer);
  const specs = bert.build(hf).parameters();
  const init = initParameters(specs, 1);
  await saveCheckpoint(pre, { config: hf, architectures: [bert.architecture(['mlm', 'nsp'])], weights: new Map(specs.map((s) => [s.name, { shape: s.shape, data: init.get(s.name)! }])), tokenizer: { dir: tokDir } });
})();
const tiny = ['--max-len', '16', '--batch-size', '8', '--lr', '5e-3', '--dropout', '0'];

test('finetune: evaluation on a schedule, save-best, report files; --warmup is refused; a used --out needs --resume or --overwrite', async () => {
  await ready;
  const old = cli('finetune', '--from', pre, '--data', data, '--out', path.join(dir, 'x'), '--warmup', '0.1');
  assert.equal(old.code, 1);
  assert.match(old.err, /--warmup is gone \(it was silently a fraction of the steps\): use --warmup-ratio 0\.1 for a fraction of the steps, or --warmup-steps <n>/);

  const out = path.join(dir, 'clf');
  const ft = cli('finetune', '--from', pre, '--data', data, '--out', out, ...tiny, '--max-steps', '6', '--warmup-steps', '1', '--eval-every', '2', '--save-best', 'macro_f1', '--patience', '5', '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { steps: number; primaryMetric: string; curve: { step: number; metrics: Record<string, number> }[]; best: { metric: string; step: number }; accuracy: number; dir: string };
  assert.equal(r.steps, 6);
  assert.equal(r.primaryMetric, 'accuracy');
  assert.deepEqual(r.curve.map((c) => c.step), [2, 4, 6]);
  assert.equal(r.best.metric, 'macro_f1');
  assert.equal(r.accuracy, r.curve.find((c) => c.step === r.best.step)!.metrics.accuracy);
  const ev = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((x) => x.kind === 'eval');
  assert.deepEqual(ev.map((x) => [x.step, typeof x.accuracy, typeof x.macro_f1, typeof x.loss]), [2, 4, 6].map((s) => [s, 'number', 'number', 'number']));
  for (const f of ['loss.svg', 'metrics.svg', 'report.md', 'classification_report.json', 'confusion_matrix.svg', 'config.json']) assert.ok(existsSync(path.join(out, f)), f);
  assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /\| cat \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \| 6 \|/);

  const again = cli('finetune', '--from', pre, '--data', data, '--out', out, ...tiny, '--max-steps', '6');
  assert.equal(again.code, 1);
  assert.match(again.err, /--out .*clf already holds a run .*: continue it with --resume, or start over with --overwrite/);
  const over = cli('finetune', '--from', pre, '--data', data, '--out', out, ...tiny, '--max-steps', '2', '--overwrite', '--json');
  assert.equal(over.code, 0, over.err);
  assert.ok(!existsSync(path.join(out, 'checkpoint-6')), 'the old run is gone');
  const more = cli('finetune', '--from', pre, '--data', data, '--out', out, ...tiny, '--max-steps', '4', '--resume', '--json');
  assert.equal(more.code, 0, more.err);
  assert.equal((JSON.parse(more.out) as { steps: number }).steps, 4);
  const train = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number }).filter((x) => x.kind === 'train');
  assert.deepEqual(train.map((x) => x.step), [1, 2, 3, 4], 'resumed at step 2');
});

test('finetune guards: overlapping or empty --eval, --per-label above a label\'s count', async () => {
  await ready;
  const overlap = path.join(dir, 'overlap.jsonl');
  writeFileSync(overlap, `${JSON.stringify(rows[0])}\n${JSON.stringify({ text: 'a new cat', label: 'cat' })}\n`);
  const o = cli('finetune', '--from', pre, '--data', data, '--eval', overlap, '--out', path.join(dir, 'g1'), ...tiny);
  assert.equal(o.code, 1);
  assert.match(o.err, /overlap\.jsonl: 1 of its 2 examples also occur in the training data \(the first: "the dog ran to the house 0"\)/);
  const few = path.join(dir, 'few.jsonl');
  writeFileSync(few, [...rows.slice(0, 20), { text: 'a lone bird', label: 'bird' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const p = cli('finetune', '--from', pre, '--data', few, '--eval', overlap.replace('overlap', 'none'), '--out', path.join(dir, 'g2'), ...tiny, '--per-label', '3');
  assert.equal(p.code, 1);
  const p2 = cli('finetune', '--from', pre, '--data', few, '--out', path.join(dir, 'g2'), ...tiny, '--per-label', '3');
  assert.equal(p2.code, 1);
  assert.match(p2.err, /--per-label 3: label "bird" has 1 training example; use --per-label 1 or less \(0 = all\)/);
});

test('predict --input: one JSON line per input line, accuracy over gold labels, errors name the file and line', async () => {
  await ready;
  const out = path.join(dir, 'clf2');
  assert.equal(cli('finetune', '--from', pre, '--data', data, '--out', out, ...tiny, '--epochs', '3').code, 0);
  const input = path.join(dir, 'in.jsonl');
  writeFileSync(input, `${JSON.stringify({ text: 'the cat sat on the mat 100', label: 'cat' })}\n\n${JSON.stringify({ text: 'the dog ran to the house 101' })}\n`);
  const res = path.join(dir, 'pred.jsonl');
  const p = cli('predict', '--model', out, '--input', input, '--output', res);
  assert.equal(p.code, 0, p.err);
  const lines = readFileSync(res, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string; probabilities: Record<string, number> });
  assert.deepEqual(lines.map((l) => l.text), ['the cat sat on the mat 100', 'the dog ran to the house 101']);
  for (const l of lines) assert.ok(Math.abs(l.probabilities.cat! + l.probabilities.dog! - 1) < 1e-5 && ['cat', 'dog'].includes(l.label));
  assert.match(p.out, new RegExp(`^2 lines predicted -> .*pred\\.jsonl; accuracy ${lines[0]!.label === 'cat' ? '100\\.0' : '0\\.0'}% over 1 gold answers\\n$`));
  const toStdout = cli('predict', '--model', out, '--input', input);
  assert.equal(toStdout.out.trim().split('\n').length, 2, 'stdout holds only the JSONL');
  assert.match(toStdout.err, /2 lines predicted; accuracy/);
  const bad = path.join(dir, 'bad.jsonl');
  writeFileSync(bad, `${JSON.stringify({ text: 'ok' })}\n${JSON.stringify({ tokens: ['x'] })}\n`);
  const b = cli('predict', '--model', out, '--input', bad);
  assert.equal(b.code, 1);
  assert.match(b.err, /bad\.jsonl:2: a classify input line needs a string "text"/);
  assert.match(cli('predict', '--model', out, '--input', input, 'some text').err, /give either <text> or --input <file\.jsonl>, not both/);
});

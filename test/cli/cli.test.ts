// The `pretrain` command as a user runs it: help with defaults, clear errors, and a tiny train -> eval ->
// generate --json round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../helpers/cli.js';


test('--help lists every train option with its default', () => {
  const r = cli('train', '--help');
  assert.equal(r.code, 0);
  for (const flag of ['--config', '--tokenizer', '--vocab-size', '--layers', '--hidden', '--heads', '--seq-len', '--batch-size', '--grad-accum', '--lr', '--warmup', '--max-steps', '--eval-every', '--save-every', '--seed', '--dropout', '--resume'])
    assert.match(r.out, new RegExp(flag), flag);
  assert.match(r.out, /--max-steps <integer>.*\(default: \d+\)/s);
  for (const cmd of ['generate', 'eval', 'finetune', 'predict']) {
    const h = cli(cmd, '--help');
    assert.equal(h.code, 0, cmd);
    assert.match(h.out, /default/);
  }
});

test('bad input gets a clear error naming the option or file', () => {
  const bad = cli('train', '--layers', 'many', '--out', path.join(os.tmpdir(), 'never'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /layers/);
  const missing = cli('eval', '--model', '/nonexistent/model');
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /--model \/nonexistent\/model: no such folder/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-cfg-'));
  writeFileSync(path.join(dir, 'c.yaml'), 'learning_rate: 0.1\n');
  const cfg = cli('train', '--config', path.join(dir, 'c.yaml'));
  assert.notEqual(cfg.code, 0);
  assert.match(cfg.err, /c\.yaml.*learning_rate.*lr/s);
});

test('train, then eval, generate, finetune and predict from the run folder', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-cli-'));
  const corpus = path.join(dir, 'c.txt');
  writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `Document ${i} says the cat sat on the mat. The dog ran to the red house.`).join('\n\n') + '\n');
  const out = path.join(dir, 'run');
  const t = cli('train', '--corpus', corpus, '--out', out, '--vocab-size', '300', '--layers', '1', '--hidden', '32', '--heads', '2',
    '--seq-len', '16', '--batch-size', '4', '--max-steps', '8', '--eval-every', '4', '--eval-batches', '1');
  assert.equal(t.code, 0, t.err);
  const e = cli('eval', '--model', out, '--corpus', corpus, '--seq-len', '16', '--batch-size', '2', '--json');
  assert.equal(e.code, 0, e.err);
  const ev = JSON.parse(e.out) as { loss: number; perplexity: number; lm_loss: number; lm_count: number; batches: number };
  // Full blocks: every batch predicts the same number of tokens, so the token mean equals the batch mean.
  assert.equal(ev.lm_count, ev.batches * 2 * 15);
  assert.ok(ev.loss > 0 && Math.abs(ev.lm_loss - ev.loss) < 1e-6 * ev.loss && Math.abs(Math.log(ev.perplexity) - ev.lm_loss) < 1e-9);
  const g = cli('generate', '--model', out, '--prompt', 'The cat', '--max-new-tokens', '5', '--greedy', '--json');
  assert.equal(g.code, 0, g.err);
  const gen = JSON.parse(g.out) as { prompt_ids: number[]; samples: { ids: number[]; text: string }[] };
  assert.ok(gen.prompt_ids.length > 0);
  assert.equal(gen.samples.length, 1);
  assert.ok(gen.samples[0].ids.length >= 1 && gen.samples[0].ids.length <= 5);
  assert.equal(typeof gen.samples[0].text, 'string');

  // Fine-tune the pretrained run as a classifier on JSONL, then predict with it.
  const data = path.join(dir, 'labels.jsonl');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify(i % 2 ? { text: `the cat sat on the mat ${i}`, label: 'cat' } : { text: `the dog ran to the house ${i}`, label: 'dog' })).join('\n') + '\n');
  const ft = cli('finetune', '--from', out, '--data', data, '--out', path.join(dir, 'clf'), '--max-len', '16', '--batch-size', '8', '--epochs', '6', '--lr', '3e-3', '--json');
  assert.equal(ft.code, 0, ft.err);
  const fr = JSON.parse(ft.out) as { accuracy: number; macroF1: number; labels: string[]; evalExamples: number; dir: string };
  assert.deepEqual(fr.labels, ['cat', 'dog']);
  assert.equal(fr.evalExamples, 4);
  // The toy task is separable by its words ("cat sat mat" vs "dog ran house"); the held-out 4 are two of each
  // (alternating labels), so the majority class scores 0.5 and a classifier that learned anything beats it.
  assert.ok(fr.accuracy > 0.5, `fine-tuned accuracy ${fr.accuracy} does not beat the majority class (0.5)`);
  assert.equal(Math.round(fr.accuracy * fr.evalExamples), fr.accuracy * fr.evalExamples, 'accuracy is a count over the eval examples');
  const p = cli('predict', '--model', path.join(dir, 'clf'), '--json', 'the', 'cat', 'sat', 'on', 'the', 'mat');
  assert.equal(p.code, 0, p.err);
  const pr = JSON.parse(p.out) as { label: string; probabilities: Record<string, number> };
  assert.equal(pr.label, 'cat', `predicted ${pr.label} (${JSON.stringify(pr.probabilities)}) for a "cat" sentence`);
  const pd = JSON.parse(cli('predict', '--model', path.join(dir, 'clf'), '--json', 'the', 'dog', 'ran', 'to', 'the', 'house').out) as { label: string };
  assert.equal(pd.label, 'dog');
  assert.ok(Math.abs(pr.probabilities.cat + pr.probabilities.dog - 1) < 1e-5);
  const notClf = cli('predict', '--model', out, 'text');
  assert.notEqual(notClf.code, 0);
  assert.match(notClf.err, /not a fine-tuned classifier/);
});

test('--resume continues with the settings the run was started with', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-cli-resume-'));
  const corpus = path.join(dir, 'c.txt');
  writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `Story ${i}: the cat sat on the mat and the dog ran home.`).join('\n\n') + '\n');
  const args = ['--corpus', corpus, '--vocab-size', '300', '--layers', '1', '--hidden', '32', '--heads', '2', '--seq-len', '16',
    '--batch-size', '4', '--max-steps', '6', '--save-every', '3', '--eval-every', '0', '--dropout', '0.1', '--seed', '4'];
  const full = path.join(dir, 'full');
  assert.equal(cli('train', '--out', full, ...args).code, 0);
  const part = path.join(dir, 'part');
  assert.equal(cli('train', '--out', part, ...args).code, 0);
  rmSync(path.join(part, 'checkpoint-6'), { recursive: true });
  // Only the folder and --resume: sizes, seed, schedule and data order come from the run.
  const r = cli('train', '--out', part, '--resume');
  assert.equal(r.code, 0, r.err);
  const losses = (d: string) => readFileSync(path.join(d, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
  assert.deepEqual(losses(part).map((x) => [x.step, x.loss]), losses(full).map((x) => [x.step, x.loss]));
});

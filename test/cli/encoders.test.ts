// The encoder family through the CLI: a tiny BERT (MLM + NSP), RoBERTa (MLM, byte-level BPE) and SpanBERT (span
// masking + SBO) trained on a corpus where a masked food is predictable from the name before it; each beats the
// unigram baseline (always guessing the most frequent masked token) on held-out text, two evaluations agree,
// fill-mask answers, and an interrupted run of each objective resumes bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/cli/config.js';
import { buildShards } from '../../src/data/index.js';
import { getObjective } from '../../src/objectives/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';
import { objectiveOptions, pretrain } from '../../src/train/pretrain.js';
import type { FlatTrainConfig } from '../../src/train/config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, '..', '..', 'src', 'cli', 'main.js');

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar'];
const FOODS = ['apples', 'bread', 'cheese', 'dates', 'eggs', 'figs', 'grapes', 'honey', 'icecream', 'jam', 'kiwis', 'lemons'];
const VERBS = ['eats', 'buys', 'likes', 'wants'];

/** 80 documents of 8 sentences "Name verb food every day.", each name always with its own food. */
function corpus(dir: string): string {
  let s = 7;
  const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
  const docs = Array.from({ length: 80 }, () =>
    Array.from({ length: 8 }, () => {
      const i = rand(12);
      return `${NAMES[i][0].toUpperCase()}${NAMES[i].slice(1)} ${VERBS[rand(4)]} ${FOODS[i]} every day.`;
    }).join(' '));
  const file = path.join(dir, 'c.txt');
  writeFileSync(file, docs.join('\n\n') + '\n');
  return file;
}

/** Accuracy of always predicting the most frequent masked token of the held-out batches `eval` scores. */
async function unigramBaseline(run: string, arch: string, objective: string, corpusFile: string): Promise<number> {
  const tok = loadTokenizer(run);
  const opts = objectiveOptions(resolveConfig(undefined, { arch, objective, seqLen: 32, batchSize: 16 }));
  const batches = getObjective(objective).evalBatches(await buildShards(corpusFile, tok), tok, opts, 1000);
  const counts = new Map<bigint, number>();
  let n = 0;
  for (const b of batches) for (const y of b.labels.data as BigInt64Array) if (y !== -100n) {
    counts.set(y, (counts.get(y) ?? 0) + 1);
    n++;
  }
  return Math.max(...counts.values()) / n;
}

for (const [arch, objective, mask] of [['bert', 'mlm+nsp', '[MASK]'], ['roberta', 'mlm', '<mask>'], ['bert', 'span', '[MASK]']] as const) {
  test(`${arch} --objective ${objective} through the CLI beats the unigram baseline on held-out text`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `pretrain-${arch}-`));
    const file = corpus(dir);
    const out = path.join(dir, 'run');
    const t = cli('train', '--arch', arch, '--objective', objective, '--corpus', file, '--out', out, '--vocab-size', '400', '--layers', '2',
      '--hidden', '64', '--heads', '2', '--seq-len', '32', '--batch-size', '16', '--max-steps', '100', '--eval-every', '100',
      '--eval-batches', '4', '--lr', '3e-3', '--dropout', '0');
    assert.equal(t.code, 0, t.err);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'onnx/model.onnx']) assert.ok(existsSync(path.join(out, f)), `run folder has ${f}`);
    const cfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { model_type: string; architectures: string[] };
    assert.equal(cfg.model_type, arch);
    const evalArgs = ['eval', '--model', out, '--corpus', file, '--seq-len', '32', '--batch-size', '16', '--json'];
    const e1 = cli(...evalArgs);
    assert.equal(e1.code, 0, e1.err);
    const r = JSON.parse(e1.out) as Record<string, number | string>;
    assert.equal(r.objective, objective);
    assert.deepEqual(JSON.parse(cli(...evalArgs).out), r, 'two evaluations agree (fixed seeded masking)');
    const baseline = await unigramBaseline(out, arch, objective, file);
    assert.ok((r.mlm_accuracy as number) > baseline + 0.15, `masked-token accuracy ${r.mlm_accuracy} vs unigram baseline ${baseline}`);
    assert.ok(Math.abs(Math.log(r.mlm_perplexity as number) - (r.mlm_loss as number)) < 1e-9);
    if (objective === 'mlm+nsp') assert.ok(typeof r.nsp_accuracy === 'number');
    if (objective === 'mlm+nsp') {
      const wrong = cli('eval', '--model', out, '--corpus', file, '--objective', 'span');
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.err, /^pretrain: --objective span: .* has no weights for its heads \(mlm, sbo\); this checkpoint can be evaluated with mlm\+nsp, mlm\n$/);
    }
    if (objective === 'span') assert.ok((r.sbo_accuracy as number) > baseline, `SBO accuracy ${r.sbo_accuracy}`);
    const fm = cli('fill-mask', '--model', out, '--json', `Alice eats ${mask} every day.`);
    assert.equal(fm.code, 0, fm.err);
    const preds = (JSON.parse(fm.out) as { predictions: { token_str: string; score: number }[][] }).predictions;
    assert.equal(preds.length, 1);
    assert.equal(preds[0].length, 5);
    const noMask = cli('fill-mask', '--model', out, 'Alice eats apples.');
    assert.notEqual(noMask.code, 0);
    assert.match(noMask.err, new RegExp(mask.replace(/[[\]]/g, '\\$&')));
  });
}

for (const [arch, objective] of [['bert', 'mlm+nsp'], ['roberta', 'mlm'], ['bert', 'span']] as const) {
  test(`${arch} --objective ${objective}: an interrupted run resumes to the same losses, bit for bit`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `pretrain-resume-${arch}-`));
    const file = corpus(dir);
    const config = (out: string, extra: Partial<FlatTrainConfig> = {}) => resolveConfig(undefined, {
      arch, objective, corpus: file, out, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 4,
      maxSteps: 6, warmup: 2, lr: 3e-3, evalEvery: 3, evalBatches: 1, saveEvery: 100, seed: 3, dropout: 0.1, ...extra,
    });
    const quiet = { backend: nodeBackend, progress: false, log: () => {} };
    const full = await pretrain(config(path.join(dir, 'a')), quiet);
    const first = await pretrain(config(path.join(dir, 'b')), { ...quiet, stopAfter: 4 });
    assert.equal(first.stoppedBy, 'stopAfter');
    const rest = await pretrain(config(path.join(dir, 'b'), { resume: true }), quiet);
    assert.deepEqual([...first.losses, ...rest.losses], full.losses);
    assert.deepEqual(rest.lastEval, full.lastEval);
  });
}

test('--sbo-weight weighs the span boundary loss in the total: the first step\'s loss is mlm + weight x sbo', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-sbo-weight-'));
  const file = corpus(dir);
  const first = async (sboWeight: number) => (await pretrain(resolveConfig(undefined, {
    arch: 'bert', objective: 'span', corpus: file, out: path.join(dir, `w${sboWeight}`), vocabSize: 300, layers: 1, hidden: 32,
    heads: 2, seqLen: 32, batchSize: 4, maxSteps: 1, evalEvery: 0, evalBatches: 1, saveEvery: 0, seed: 3, dropout: 0, sboWeight,
  }), { backend: nodeBackend, progress: false, log: () => {} })).losses[0]!;
  const [l0, l1, l2] = [await first(0), await first(1), await first(2)];
  // Same weights, same batch: only the SBO term's weight differs, and an untrained SBO head's loss is about ln V.
  assert.ok(l1 - l0 > 3, `SBO term ${l1 - l0}`);
  assert.ok(Math.abs((l2 - l1) - (l1 - l0)) < 1e-3 * l1, `losses ${l0}, ${l1}, ${l2} are not linear in the weight`);
});

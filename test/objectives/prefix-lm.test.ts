// Prefix LM (docs/objectives.md section 6), both forms: the split point is uniform in [1, L - 1]; the
// encoder-decoder form feeds [0, k) + EOS and predicts [k, L) + EOS; the decoder-only form feeds one sequence whose
// prefix attends bidirectionally (the mask row by row, and a tiny GPT-2 and LLaMA whose prefix outputs ignore the
// rest), with the loss only from position k on; and a tiny GPT-2 pretrained with prefix-lm resumes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/cli/config.js';
import { Rng } from '../../src/data/rng.js';
import * as F from '../../src/graph/index.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import type { Gpt2LMHeadModel } from '../../src/models/gpt2.js';
import { Ctx, prefixLmMask } from '../../src/nn/index.js';
import { getObjective, objectiveHeads, prefixLmPair, prefixSplit, shiftRight } from '../../src/objectives/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward } from '../../src/runtime/step.js';
import type { FlatTrainConfig } from '../../src/train/config.js';
import { freshStore, objectiveOptions, pretrain } from '../../src/train/pretrain.js';
import { batchKey, docSource, fakeTokenizer, nums, options, rows, synthDocs } from './helpers.js';

const EOS = 1;
const tok = fakeTokenizer({ specialIds: { pad: 0, eos: EOS }, allSpecialIds: [0, EOS] });
const docs = () => docSource(synthDocs({ docs: 30, sentences: [2, 5], words: [4, 12], seed: 5 }));

test('the split point is uniform in [1, L - 1]', () => {
  const rng = new Rng(1);
  const L = 9;
  const counts = new Array<number>(L + 1).fill(0);
  for (let i = 0; i < 8000; i++) counts[prefixSplit(L, rng)]++;
  assert.equal(counts[0], 0);
  assert.equal(counts[L], 0);
  for (let k = 1; k < L; k++) assert.ok(counts[k]! > 850 && counts[k]! < 1150, `k = ${k}: ${counts[k]} of 8000 (1000 expected)`);
  assert.equal(prefixSplit(2, rng), 1);
  assert.throws(() => prefixSplit(1, rng), /at least 2 tokens/);
});

test('encoder-decoder form: [0, k) + EOS in, [k, L) + EOS out, padded with masks and -100', () => {
  assert.deepEqual(prefixLmPair([10, 11, 12, 13, 14], 2, EOS), { inputs: [10, 11, EOS], targets: [12, 13, 14, EOS] });
  const o = options({ seqLen: 16, batchSize: 4, family: 'encoder-decoder' });
  const obj = getObjective('prefix-lm');
  assert.deepEqual(objectiveHeads(obj, 'encoder-decoder'), ['seq2seq']);
  assert.deepEqual(obj.inputs(o).map((s) => [s.name, s.shape]), [
    ['input_ids', [4, 16]], ['attention_mask', [4, 16]], ['decoder_input_ids', [4, 16]], ['labels', [4, 16]],
  ]);
  const s = obj.stream(docs(), tok, o);
  const splits = new Set<number>();
  for (let n = 0; n < 20; n++) {
    const b = s.next();
    const ids = rows(b, 'input_ids');
    const att = rows(b, 'attention_mask');
    const lab = rows(b, 'labels');
    const dec = rows(b, 'decoder_input_ids');
    ids.forEach((r, i) => {
      const k = att[i]!.reduce((a, x) => a + x, 0) - 1;
      splits.add(k);
      assert.ok(k >= 1 && k <= 15);
      assert.equal(r[k], EOS, 'the encoder input ends in EOS');
      assert.ok(r.slice(k + 1).every((x) => x === 0) && att[i]!.slice(k + 1).every((x) => x === 0), 'padding after it');
      const m = lab[i]!.filter((x) => x !== -100);
      assert.equal(m.length, 16 - k + 1, 'the decoder predicts the L - k remaining tokens and EOS');
      assert.equal(m[m.length - 1], EOS);
      assert.ok(lab[i]!.slice(m.length).every((x) => x === -100));
      assert.deepEqual(dec[i], shiftRight(lab[i]!, 0, 0));
      // Prefix + rest is the raw chunk of 16 tokens (documents joined by EOS).
      assert.equal(r.slice(0, k).length + m.length - 1, 16);
    });
  }
  assert.ok(splits.size > 8, `split points vary: ${[...splits].sort((a, b) => a - b).join(',')}`);
});

test('decoder-only form: one sequence, labels -100 before k, prefix_length = k', () => {
  const o = options({ seqLen: 12, batchSize: 3, family: 'decoder' });
  const obj = getObjective('prefix-lm');
  assert.deepEqual(objectiveHeads(obj, 'decoder'), ['lm']);
  assert.deepEqual(obj.inputs(o).map((s) => [s.name, s.shape]), [['input_ids', [3, 12]], ['labels', [3, 12]], ['prefix_length', [3]]]);
  const s = obj.stream(docs(), tok, o);
  for (let n = 0; n < 20; n++) {
    const b = s.next();
    const ks = nums(b, 'prefix_length');
    const ids = rows(b, 'input_ids');
    rows(b, 'labels').forEach((lab, i) => {
      const k = ks[i]!;
      assert.ok(k >= 1 && k <= 11);
      lab.forEach((y, j) => assert.equal(y, j < k ? -100 : ids[i]![j]));
    });
  }
  assert.throws(() => obj.stream(docs(), tok, options({ seqLen: 12 })), /model family \(none\)/);
  assert.throws(() => obj.inputs(options({ family: 'encoder' })), /model family "encoder"/);
});

test('resume across an epoch boundary and deterministic evalBatches, both forms', () => {
  const small = docSource(synthDocs({ docs: 4, sentences: [1, 2], words: [3, 6], seed: 2 }));
  for (const family of ['decoder', 'encoder-decoder'] as const) {
    const o = options({ seqLen: 10, batchSize: 2, family });
    const obj = getObjective('prefix-lm');
    const a = obj.stream(small, tok, o);
    const all = Array.from({ length: 14 }, () => batchKey(a.next()));
    const b = obj.stream(small, tok, o);
    for (let k = 0; k < 6; k++) b.next();
    const c = obj.stream(small, tok, o);
    c.restore(JSON.parse(JSON.stringify(b.state())));
    for (let k = 6; k < 14; k++) assert.equal(batchKey(c.next()), all[k], `${family}: batch ${k}`);
    assert.ok(small.tokenCount + small.documentCount < 14 * 2 * 10 / 2, 'the stream went through several epochs');
    const e1 = obj.evalBatches(docs(), tok, o, 3).map(batchKey);
    assert.equal(e1.length, 3);
    assert.deepEqual(obj.evalBatches(docs(), tok, o, 3).map(batchKey), e1);
  }
});

test('prefixLmMask: causal OR (query < k AND key < k), row by row', async () => {
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const p = g.input('prefix_length', 'int64', [2]);
    return { mask: F.cast(prefixLmMask(g, 5, p), 'int64') };
  }, new (await import('../../src/runtime/store.js')).ParameterStore());
  const r = await fwd.run({ prefix_length: { dtype: 'int64', shape: [2], data: BigInt64Array.from([3n, 0n]) } });
  assert.deepEqual(r.mask.shape, [2, 1, 5, 5]);
  const m = Array.from(r.mask.data as BigInt64Array, Number);
  const row = (b: number, q: number) => m.slice(b * 25 + q * 5, b * 25 + q * 5 + 5).join('');
  assert.deepEqual([0, 1, 2, 3, 4].map((q) => row(0, q)), ['11100', '11100', '11100', '11110', '11111']);
  assert.deepEqual([0, 1, 2, 3, 4].map((q) => row(1, q)), ['10000', '11000', '11100', '11110', '11111'], 'prefix 0: causal');
});

for (const arch of ['gpt2', 'llama'] as const) {
  test(`${arch}: with prefix_length, prefix outputs ignore later tokens and later outputs see the whole prefix`, async () => {
    const entry = getModel(arch);
    const hf = entry.newConfig({ layers: 2, hidden: 16, heads: 2, positions: 16, dropout: 0 }, { vocabSize: 50, specialIds: { eos: 1 } });
    const model = entry.build(hf, { heads: ['lm'] }) as Gpt2LMHeadModel;
    const store = freshStore(model, 3);
    const T = 8;
    const fwd = await Forward.compile(nodeBackend, (g) => {
      const ctx = new Ctx(g, false);
      const ids = g.input('input_ids', 'int64', [1, T]);
      const withPrefix = model.forward(ctx, { inputIds: ids, prefixLength: g.input('prefix_length', 'int64', [1]) }).hidden;
      const causal = model.forward(ctx, { inputIds: ids }).hidden;
      return { prefix: withPrefix, causal };
    }, store);
    const run = async (ids: number[], k: number) => {
      const r = await fwd.run({
        input_ids: { dtype: 'int64', shape: [1, T], data: BigInt64Array.from(ids.map(BigInt)) },
        prefix_length: { dtype: 'int64', shape: [1], data: BigInt64Array.from([BigInt(k)]) },
      });
      const h = (name: string) => {
        const d = Array.from(r[name]!.data as Float32Array);
        return Array.from({ length: T }, (_, i) => d.slice(i * 16, (i + 1) * 16));
      };
      return { prefix: h('prefix'), causal: h('causal') };
    };
    const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]!) < 1e-5);
    const base = [5, 6, 7, 8, 9, 10, 11, 12];
    const k = 4;
    const a = await run(base, k);
    // A token after the split changes no prefix position's output.
    const later = await run([5, 6, 7, 8, 9, 30, 11, 12], k);
    for (let i = 0; i < k; i++) assert.ok(close(a.prefix[i]!, later.prefix[i]!), `position ${i} ignores token 5`);
    assert.ok(!close(a.prefix[5]!, later.prefix[5]!));
    // A prefix token changes earlier prefix positions (bidirectional) and every later one.
    const early = await run([5, 6, 7, 31, 9, 10, 11, 12], k);
    for (let i = 0; i < T; i++) assert.ok(!close(a.prefix[i]!, early.prefix[i]!), `position ${i} sees prefix token 3`);
    // Without the prefix the model is causal: position 0 ignores token 3.
    assert.ok(close(a.causal[0]!, early.causal[0]!));
    // Prefix lengths 0 and 1 are the causal mask.
    for (const k0 of [0, 1]) {
      const c = await run(base, k0);
      for (let i = 0; i < T; i++) assert.ok(close(c.prefix[i]!, c.causal[i]!), `prefix ${k0}, position ${i}`);
    }
  });
}

test('the decoder-only loss is only on positions >= k', async () => {
  const entry = getModel('gpt2');
  const hf = entry.newConfig({ layers: 1, hidden: 16, heads: 2, positions: 16, dropout: 0 }, { vocabSize: 50, specialIds: { eos: 1 } });
  const model = entry.build(hf, { heads: ['lm'] });
  const store = freshStore(model, 4);
  const o = options({ seqLen: 8, batchSize: 1, family: 'decoder' });
  const obj = getObjective('prefix-lm');
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const inputs = Object.fromEntries(obj.inputs(o).map((s) => [s.name, g.input(s.name, s.dtype, s.shape)]));
    return model.pretrainingLoss(new Ctx(g, false), inputs, ['lm']).stats;
  }, store);
  const ids = [5, 6, 7, 8, 9, 10, 11, 12];
  const feed = (k: number) => ({
    input_ids: { dtype: 'int64' as const, shape: [1, 8], data: BigInt64Array.from(ids.map(BigInt)) },
    labels: { dtype: 'int64' as const, shape: [1, 8], data: BigInt64Array.from(ids.map((x, i) => BigInt(i < k ? -100 : x))) },
    prefix_length: { dtype: 'int64' as const, shape: [1], data: BigInt64Array.from([BigInt(k)]) },
  });
  for (const k of [1, 3, 7]) {
    const r = await fwd.run(feed(k));
    assert.equal(Number(r['lm/count']!.data[0]), 8 - k, `k = ${k}: tokens k..L-1 are predicted`);
  }
});

test('gpt2 --objective prefix-lm through pretrain(): trains, and an interrupted run resumes bit for bit', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-prefix-lm-'));
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  let s = 5;
  const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
  const text = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => `${words[rand(8)]} ${words[rand(8)]} and ${words[rand(8)]}.`).join(' '));
  const file = path.join(dir, 'c.txt');
  writeFileSync(file, `${text.join('\n\n')}\n`);
  const config = (out: string, extra: Partial<FlatTrainConfig> = {}) => resolveConfig(undefined, {
    arch: 'gpt2', objective: 'prefix-lm', corpus: file, out, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 24,
    batchSize: 4, maxSteps: 6, warmup: 2, lr: 3e-3, evalEvery: 3, evalBatches: 1, saveEvery: 100, seed: 3, dropout: 0.1, ...extra,
  });
  const opts = objectiveOptions(config(path.join(dir, 'x')));
  assert.equal(opts.family, 'decoder');
  const quiet = { backend: nodeBackend, progress: false, log: () => {} };
  const full = await pretrain(config(path.join(dir, 'a')), quiet);
  assert.ok(full.losses.every(Number.isFinite));
  assert.ok(full.lastEval && Number.isFinite(full.lastEval.loss));
  const first = await pretrain(config(path.join(dir, 'b')), { ...quiet, stopAfter: 4 });
  assert.equal(first.stoppedBy, 'stopAfter');
  const rest = await pretrain(config(path.join(dir, 'b'), { resume: true }), quiet);
  assert.deepEqual([...first.losses, ...rest.losses], full.losses);
  assert.deepEqual(rest.lastEval, full.lastEval);
});

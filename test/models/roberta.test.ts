// RoBERTa against the Hugging Face fixture (test/fixtures/hf/roberta, RobertaForMaskedLM): MLM logits and hidden
// states at every position (padding included, whose position ids are padding_idx), the loss, every stored
// gradient (the position table's shows which rows are used), a checkpoint round trip and the registry entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tensor } from '../../src/graph/index.js';
import { parseRobertaConfig } from '../../src/io/hf-config.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import {
  RobertaForMaskedLM, RobertaForQuestionAnswering, RobertaForSequenceClassification, RobertaForTokenClassification,
  robertaConfigFromHf, robertaConfigToHf, robertaPositionIds, robertaUsablePositions,
} from '../../src/models/roberta.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { Ctx, initParameters } from '../../src/nn/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { weightsOf } from '../../src/train/pretrain.js';
import { assertF64Gradients, assertGradients, checkEveryGradient, i64, loadWeights, maxAbs, outputsAndGradients, readConfigJson, readReference } from '../helpers/fixtures.js';

const ref = readReference('roberta');
const hf = parseRobertaConfig(readConfigJson('roberta'), 'roberta/config.json');
const config = robertaConfigFromHf(hf);
const scalar = (t: { data: unknown }) => (t.data as Float32Array)[0];

test('roberta fixture: logits, hidden states, loss and every stored gradient match HF', async () => {
  const model = new RobertaForMaskedLM(config);
  const store = await loadWeights('roberta', model, true);
  const names = Object.keys(ref.loss.gradients);
  const [B, T] = [ref.inputs.input_ids.length, ref.inputs.input_ids[0].length];
  const { outputs: out, grads } = await outputsAndGradients(store, (g) => {
    const ctx = new Ctx(g);
    const inputs = { input_ids: g.input('input_ids', 'int64', [B, T]), attention_mask: g.input('attention_mask', 'int64', [B, T]), labels: g.input('labels', 'int64', [B, T]) };
    const { hidden } = model.encode(ctx, { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask });
    const heads = model.pretrainingLoss(ctx, inputs, ['mlm']);
    return { loss: heads.loss, hidden, logits: model.mlmLogits(ctx, hidden), positions: robertaPositionIds(inputs.input_ids, config.padTokenId), ...heads.stats };
  }, names, { input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask), labels: i64(ref.loss.labels) });
  // Position ids as HF computes them: 2, 3, ... on real tokens, padding_idx (1) on padding.
  assert.deepEqual([...(out.positions.data as BigInt64Array)].map(Number), ref.inputs.input_ids.flatMap((row) => {
    let n = 0;
    return row.map((id) => (id === 1 ? 1 : ++n + 1));
  }));
  for (const [ours, theirs] of [['logits', 'logits'], ['hidden', 'last_hidden_state']]) {
    assert.deepEqual(out[ours].shape, ref.outputs[theirs].shape);
    const d = maxAbs(out[ours].data as Float32Array, ref.outputs[theirs].data);
    assert.ok(d <= 1e-4, `${theirs}: max abs diff ${d}`);
  }
  const loss = scalar(out.loss);
  assert.ok(Math.abs(loss - ref.loss.value) <= 1e-5 * Math.max(1, Math.abs(ref.loss.value)), `loss ${loss} vs ${ref.loss.value}`);
  assert.deepEqual(names.sort(), ['lm_head.dense.weight', 'roberta.embeddings.position_embeddings.weight', 'roberta.embeddings.word_embeddings.weight']);
  assertGradients(grads, ref.loss.gradients);
  assert.equal(scalar(out['mlm/count']), ref.loss.labels.flat().filter((l) => l !== -100).length);
});

test('roberta fixture: every parameter\'s float64 gradient against central differences of the loss', async () => {
  const model = new RobertaForMaskedLM(config);
  const store = await loadWeights('roberta', model, true);
  const [B, T] = [ref.inputs.input_ids.length, ref.inputs.input_ids[0].length];
  const t0 = performance.now();
  const r = await checkEveryGradient(model, store, (ctx) => {
    const g = ctx.g;
    const inputs = { input_ids: g.input('input_ids', 'int64', [B, T]), attention_mask: g.input('attention_mask', 'int64', [B, T]), labels: g.input('labels', 'int64', [B, T]) };
    return model.pretrainingLoss(ctx, inputs, ['mlm']).loss;
  }, { input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask), labels: i64(ref.loss.labels) });
  console.log(`roberta: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}, loss ${r.loss} vs HF ${ref.loss.value} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.equal(r.params, model.parameters().length);
  assert.ok(Math.abs(r.loss - ref.loss.value) <= 1e-6 * Math.abs(ref.loss.value), `float64 loss ${r.loss} vs ${ref.loss.value}`);
  assertF64Gradients(r.grads, ref.loss.gradients, 'roberta');
});

test('roberta: a checkpoint we save and reload is bit-identical and rebuilds the same model through the registry', async () => {
  const model = new RobertaForMaskedLM(config);
  const store = await loadWeights('roberta', model);
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pretrain-roberta-')), 'checkpoint-1');
  await saveCheckpoint(dir, { config: robertaConfigToHf(config), weights: weightsOf(store), architectures: [getModel('roberta').architecture(['mlm'])] });
  const ck = await loadCheckpoint(dir);
  assert.equal(ck.config.model_type, 'roberta');
  const rebuilt = getModel('roberta').build(ck.config);
  assert.deepEqual(rebuilt.parameters().map((p) => [p.name, p.shape]), model.parameters().map((p) => [p.name, p.shape]));
  for (const name of store.names()) {
    const a = store.get(name);
    const w = ck.weights.get(name)!.data;
    assert.deepEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), new Uint8Array(a.buffer, a.byteOffset, a.byteLength), name);
  }
  assert.deepEqual(robertaConfigFromHf(parseRobertaConfig(ck.config, 'reloaded')), config);
});

test('roberta registry entry: objectives, tokenizer, architecture, positions offset by padding_idx + 1', () => {
  const e = getModel('roberta');
  assert.equal(e.family, 'encoder');
  assert.deepEqual(e.objectives, ['mlm', 'span']);
  assert.equal(e.tokenizer, 'bpe');
  assert.equal(e.architecture(['mlm']), 'RobertaForMaskedLM');
  const tok = { vocabSize: 500, specialIds: { bos: 0, pad: 1, eos: 2, unk: 3, mask: 4 } } as unknown as Tokenizer;
  const hfc = e.newConfig({ layers: 2, hidden: 64, heads: 4, positions: 128, dropout: 0.1 }, tok);
  assert.ok(hfc.model_type === 'roberta');
  assert.equal(hfc.max_position_embeddings, 130);
  assert.equal(hfc.type_vocab_size, 1);
  assert.deepEqual([hfc.bos_token_id, hfc.pad_token_id, hfc.eos_token_id], [0, 1, 2]);
  assert.equal(robertaUsablePositions(robertaConfigFromHf(hfc)), 128);
  const m = e.build(hfc, { heads: ['mlm', 'sbo'] });
  assert.ok(m.parameters().some((p) => p.name === 'cls.span_boundary.dense1.weight'));
  assert.ok(!m.parameters().some((p) => p.name.includes('pooler')));
  assert.throws(() => e.build(hfc, { heads: ['nsp'] }), /no "nsp" head/);
});

test('roberta task heads: HF names and output shapes', async () => {
  const c = { ...config, numHiddenLayers: 1 };
  const seq = new RobertaForSequenceClassification(c, 3);
  const names = seq.parameters().map((p) => p.name);
  for (const n of ['classifier.dense.weight', 'classifier.out_proj.weight', 'classifier.out_proj.bias']) assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.includes('pooler')));
  const tokc = new RobertaForTokenClassification(c, 4);
  assert.ok(tokc.parameters().some((p) => p.name === 'classifier.weight') && tokc.parameters().every((p) => !p.name.startsWith('bert.')));
  const qa = new RobertaForQuestionAnswering(c);
  assert.ok(qa.parameters().some((p) => p.name === 'qa_outputs.weight') && qa.parameters().some((p) => p.name.startsWith('roberta.')));
  const store = new ParameterStore();
  const init = initParameters(seq.parameters(), 1);
  for (const p of seq.parameters()) store.set(p.name, p.shape, init.get(p.name)!);
  const fwd = await Forward.compile(nodeBackend, (g): Record<string, Tensor> => {
    const ctx = new Ctx(g);
    const inp = { inputIds: g.input('input_ids', 'int64', [2, 5]), attentionMask: g.input('attention_mask', 'int64', [2, 5]) };
    return { logits: seq.forward(ctx, inp), loss: seq.loss(ctx, inp, g.input('labels', 'int64', [2])) };
  }, store);
  const out = await fwd.run({
    input_ids: i64([[0, 5, 6, 2, 1], [0, 7, 2, 1, 1]]), attention_mask: i64([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]),
    labels: { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 2n]) },
  });
  assert.deepEqual(out.logits.shape, [2, 3]);
  assert.ok(Number.isFinite(scalar(out.loss)));
});

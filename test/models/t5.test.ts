// T5 against the Hugging Face fixture (test/fixtures/hf/t5, T5ForConditionalGeneration v1.0 style): encoder and
// decoder last hidden states and logits at every position, the loss and every stored gradient (the tied `shared`
// embedding and both relative-position tables); the relative position buckets against objectives.md section 9;
// a checkpoint round trip; the gated-gelu (v1.1) variant and an untied lm_head; AdamW steps with dropout on;
// T5ForTokenClassification on the fixture's encoder; T5ForQuestionAnswering on its decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../../src/graph/index.js';
import { parseT5Config } from '../../src/io/hf-config.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import '../../src/models/index.js';
import { spanTaskModel } from '../../src/models/qa-loss.js';
import { getModel } from '../../src/models/registry.js';
import {
  T5ForConditionalGeneration, T5ForQuestionAnswering, T5ForTokenClassification, relativePositionBucket, shiftRight, t5Config, t5ConfigFromHf, t5ConfigToHf,
} from '../../src/models/t5.js';
import { Ctx, initParameters } from '../../src/nn/index.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward, TrainStep } from '../../src/runtime/step.js';
import { ParameterStore, storeFromWeights } from '../../src/runtime/store.js';
import { readSafetensorsF32 } from '../../src/io/files.js';
import { weightsOf } from '../../src/train/pretrain.js';
import { assertF64Gradients, assertGradients, checkEveryGradient, fixtureDir, i64, loadWeights, maxAbs, outputsAndGradients, readConfigJson, readReference, type Reference } from '../helpers/fixtures.js';

type T5Reference = Reference & { inputs: { decoder_input_ids: number[][] } };
const ref = readReference('t5') as T5Reference;
const hf = parseT5Config(readConfigJson('t5'), 't5/config.json');
const config = t5ConfigFromHf(hf);
const [B, Te] = [ref.inputs.input_ids.length, ref.inputs.input_ids[0].length];
const Td = ref.inputs.decoder_input_ids[0].length;

const feeds = (): Record<string, HostTensor> => ({
  input_ids: i64(ref.inputs.input_ids),
  attention_mask: i64(ref.inputs.attention_mask),
  decoder_input_ids: i64(ref.inputs.decoder_input_ids),
  labels: i64(ref.loss.labels),
});

const scalar = (t: HostTensor) => (t.data as Float32Array)[0];
const lossClose = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('t5 relative position buckets match the test vectors (objectives.md section 9)', () => {
  const bi = (rp: number) => relativePositionBucket(rp, true, 32, 128);
  const causal = (back: number) => relativePositionBucket(-back, false, 32, 128);
  const biCases: [number, number][] = [[-1, 1], [-8, 8], [-16, 10], [-64, 14], [-127, 15], [-128, 15], [-1000, 15], [0, 0], [1, 17], [8, 24], [16, 26], [64, 30], [91, 31], [128, 31], [5000, 31]];
  for (const [rp, b] of biCases) assert.equal(bi(rp), b, `bidirectional ${rp}`);
  for (let d = 0; d <= 15; d++) assert.equal(causal(d), d, `causal ${d}`);
  const causalCases: [number, number][] = [[19, 17], [31, 21], [64, 26], [113, 31], [200, 31]];
  for (const [back, b] of causalCases) assert.equal(causal(back), b, `causal back ${back}`);
  for (const future of [1, 5, 100]) assert.equal(relativePositionBucket(future, false), 0, `causal future ${future}`);
  // Monotone in the distance, within each direction.
  for (let d = 1; d < 300; d++) {
    assert.ok(bi(-d) >= bi(-(d - 1)) || d === 1);
    assert.ok(causal(d) >= causal(d - 1));
  }
});

test('t5 shiftRight is HF\'s _shift_right, and the fixture\'s decoder_input_ids are the shifted labels', () => {
  assert.deepEqual(shiftRight([[5, 6, 1, -100]], 0, 0), [[0, 5, 6, 1]]);
  assert.deepEqual(shiftRight(ref.loss.labels, config.decoderStartTokenId, config.padTokenId), ref.inputs.decoder_input_ids);
});

test('t5 fixture: config.json maps to our config and back; parameter names are HF\'s', async () => {
  assert.deepEqual(config, t5Config({
    vocabSize: 128, dModel: 32, dKv: 8, dFf: 64, numLayers: 2, numDecoderLayers: 2, numHeads: 4, dropoutRate: 0.1,
  }));
  assert.deepEqual(t5ConfigFromHf(t5ConfigToHf(config)), config);
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model, true);
  assert.equal(store.count(), 45696);
  const names = model.parameters().map((p) => p.name);
  assert.equal(names.length, 47);
  for (const n of [
    'shared.weight', 'encoder.block.0.layer.0.SelfAttention.q.weight', 'encoder.block.1.layer.0.SelfAttention.o.weight',
    'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'encoder.block.1.layer.0.layer_norm.weight',
    'encoder.block.1.layer.1.DenseReluDense.wi.weight', 'encoder.block.1.layer.1.DenseReluDense.wo.weight',
    'encoder.block.0.layer.1.layer_norm.weight', 'encoder.final_layer_norm.weight',
    'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'decoder.block.1.layer.1.EncDecAttention.k.weight',
    'decoder.block.1.layer.1.layer_norm.weight', 'decoder.block.1.layer.2.DenseReluDense.wi.weight', 'decoder.final_layer_norm.weight',
  ]) assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.startsWith('encoder.block.1.layer.0.SelfAttention.relative_attention_bias')), 'only block 0 owns the table');
  assert.ok(!names.some((n) => n.endsWith('.bias') && !n.includes('relative_attention_bias')), 'no biases');
  assert.ok(!names.includes('lm_head.weight'), 'tied: lm_head is shared');
});

test('t5 fixture: every parameter\'s float64 gradient against central differences of the loss', async () => {
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model, true);
  const t0 = performance.now();
  const r = await checkEveryGradient(model, store, (ctx) => {
    const inp = Object.fromEntries(Object.entries(feeds()).map(([k, v]) => [k, ctx.g.input(k, 'int64', v.shape)]));
    return model.pretrainingLoss(ctx, inp, ['seq2seq']).loss;
  }, feeds());
  console.log(`t5: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}, loss ${r.loss} vs HF ${ref.loss.value} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.equal(r.params, model.parameters().length);
  assert.ok(Math.abs(r.loss - ref.loss.value) <= 1e-6 * Math.abs(ref.loss.value), `float64 loss ${r.loss} vs ${ref.loss.value}`);
  assertF64Gradients(r.grads, ref.loss.gradients, 't5');
});

test('t5 fixture: encoder/decoder hidden states, logits, loss, statistics and every stored gradient match HF', async () => {
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model, true);
  const names = Object.keys(ref.loss.gradients);
  const { outputs: out, grads } = await outputsAndGradients(store, (g) => {
    const ctx = new Ctx(g);
    const inp = Object.fromEntries(Object.entries(feeds()).map(([k, v]) => [k, g.input(k, 'int64', v.shape)]));
    const enc = model.encode(ctx, { inputIds: inp.input_ids, attentionMask: inp.attention_mask });
    const dec = model.decode(ctx, { decoderInputIds: inp.decoder_input_ids, encoderHidden: enc, encoderAttentionMask: inp.attention_mask });
    const head = model.pretrainingLoss(ctx, inp, ['seq2seq']);
    return { loss: head.loss, enc, dec: dec.hidden, logits: model.lmLogits(ctx, dec.hidden), ...head.stats };
  }, names, feeds());
  const o = ref.outputs;
  for (const [ours, theirs] of [['enc', 'encoder_last_hidden_state'], ['dec', 'decoder_last_hidden_state'], ['logits', 'logits']]) {
    assert.deepEqual(out[ours].shape, o[theirs].shape, theirs);
    const d = maxAbs(out[ours].data as Float32Array, o[theirs].data);
    console.log(`t5: max |${theirs} - ref| ${d.toExponential(2)}`);
    assert.ok(d <= 1e-4, `${theirs}: max abs diff ${d}`);
  }
  lossClose(scalar(out.loss), ref.loss.value, 'loss');
  assert.deepEqual(names.sort(), [
    'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
    'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
    'shared.weight',
  ]);
  assertGradients(grads, ref.loss.gradients);
  const labelled = ref.loss.labels.flat().filter((l) => l !== -100).length;
  assert.equal(scalar(out['seq2seq/count']), labelled);
  lossClose(scalar(out['seq2seq/loss_sum']), ref.loss.value * labelled, 'seq2seq/loss_sum');
  const V = config.vocabSize;
  let hits = 0;
  ref.loss.labels.flat().forEach((l, i) => {
    if (l === -100) return;
    const row = o.logits.data.slice(i * V, (i + 1) * V);
    if (row[l] >= Math.max(...row)) hits++;
  });
  assert.equal(scalar(out['seq2seq/correct']), hits);
});

test('t5: without decoder_input_ids the labels are shifted in-graph; symbolic lengths give the same loss', async () => {
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const inp = {
      input_ids: g.input('input_ids', 'int64', ['batch', 'enc']),
      attention_mask: g.input('attention_mask', 'int64', ['batch', 'enc']),
      labels: g.input('labels', 'int64', ['batch', 'dec']),
    };
    return { loss: model.pretrainingLoss(ctx, inp, ['seq2seq']).loss };
  }, store);
  const { decoder_input_ids: _unused, ...rest } = feeds();
  void _unused;
  const out = await fwd.run(rest);
  lossClose(scalar(out.loss), ref.loss.value, 'loss (shifted in-graph)');
  assert.throws(() => model.pretrainingLoss(new Ctx(new Graph('probe')), {}, ['mlm']), /only the seq2seq head/);
});

test('t5: a checkpoint we save and reload is bit-identical and rebuilds the same model through the registry', async () => {
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model);
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pretrain-t5-')), 'checkpoint-1');
  const entry = getModel('t5');
  await saveCheckpoint(dir, { config: t5ConfigToHf(config), weights: weightsOf(store), architectures: [entry.architecture(['seq2seq'])] });
  const ck = await loadCheckpoint(dir);
  assert.equal(ck.config.model_type, 't5');
  const rebuilt = entry.build(ck.config, { heads: ['seq2seq'] });
  assert.deepEqual(rebuilt.parameters().map((p) => [p.name, p.shape]), model.parameters().map((p) => [p.name, p.shape]));
  assert.deepEqual([...ck.weights.keys()].sort(), store.names().sort());
  for (const name of store.names()) {
    const a = store.get(name);
    const w = ck.weights.get(name)!.data;
    assert.deepEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), new Uint8Array(a.buffer, a.byteOffset, a.byteLength), name);
  }
  assert.deepEqual(t5ConfigFromHf(parseT5Config(ck.config, 'reloaded')), config);
});

test('t5 registry entry: family, objectives, tokenizer, architecture and a new config from a tokenizer', () => {
  const e = getModel('t5');
  assert.equal(e.family, 'encoder-decoder');
  assert.deepEqual(e.objectives, ['span-corruption', 'prefix-lm']);
  assert.equal(e.tokenizer, 'unigram');
  assert.equal(e.architecture(['seq2seq']), 'T5ForConditionalGeneration');
  const hfc = e.newConfig({ layers: 3, hidden: 64, heads: 4, positions: 128, dropout: 0.1 }, { vocabSize: 300, specialIds: { pad: 0, eos: 1, unk: 2 } });
  assert.ok(hfc.model_type === 't5');
  assert.equal(hfc.vocab_size, 300);
  assert.equal(hfc.d_model, 64);
  assert.equal(hfc.d_kv, 16);
  assert.equal(hfc.d_ff, 256);
  assert.equal(hfc.num_layers, 3);
  assert.equal(hfc.num_decoder_layers, 3);
  assert.equal(hfc.num_heads, 4);
  assert.equal(hfc.relative_attention_num_buckets, 32);
  assert.equal(hfc.relative_attention_max_distance, 128);
  assert.equal(hfc.feed_forward_proj, 'relu');
  assert.equal(hfc.tie_word_embeddings, true);
  assert.equal(hfc.pad_token_id, 0);
  assert.equal(hfc.eos_token_id, 1);
  assert.equal(hfc.decoder_start_token_id, 0);
  assert.equal(hfc.dropout_rate, 0.1);
  const built = e.build(hfc, { dropout: 0 }) as T5ForConditionalGeneration;
  assert.equal(built.config.dropoutRate, 0);
  assert.throws(() => e.newConfig({ layers: 1, hidden: 64, heads: 4, kvHeads: 2, positions: 8, dropout: 0 }, { vocabSize: 10, specialIds: {} }), /grouped-query/);
});

test('t5 v1.1 (gated-gelu) and an untied lm_head: HF names, and the model runs', async () => {
  const c = t5Config({ vocabSize: 50, dModel: 16, numLayers: 1, numDecoderLayers: 2, numHeads: 2, dFf: 24, feedForwardProj: 'gated-gelu', tieWordEmbeddings: false });
  const model = new T5ForConditionalGeneration(c);
  const spec = model.parameters();
  const names = spec.map((p) => p.name);
  for (const n of ['encoder.block.0.layer.1.DenseReluDense.wi_0.weight', 'encoder.block.0.layer.1.DenseReluDense.wi_1.weight',
    'decoder.block.1.layer.2.DenseReluDense.wi_0.weight', 'decoder.block.1.layer.2.DenseReluDense.wi_1.weight', 'lm_head.weight'])
    assert.ok(names.includes(n), n);
  assert.ok(!names.some((n) => n.endsWith('DenseReluDense.wi.weight')));
  assert.equal(names.filter((n) => n.startsWith('decoder.block.')).length, 2 * (5 + 5 + 4) + 1, 'per block: self 4 + norm, cross 4 + norm, gated FF 3 + norm; one table');
  assert.deepEqual(spec.find((p) => p.name === 'decoder.block.0.layer.2.DenseReluDense.wi_0.weight')!.shape, [24, 16]);
  assert.equal(model.config.feedForwardProj, 'gated-gelu');
  assert.equal(t5ConfigToHf(c).dense_act_fn, 'gelu_new');
  assert.equal(t5ConfigToHf(c).is_gated_act, true);
  const store = new ParameterStore();
  const init = initParameters(spec, 3);
  for (const p of spec) store.set(p.name, p.shape, init.get(p.name)!);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const inp = {
      input_ids: g.input('input_ids', 'int64', [2, 7]), labels: g.input('labels', 'int64', [2, 5]),
      decoder_input_ids: g.input('decoder_input_ids', 'int64', [2, 5]),
    };
    const enc = model.encode(ctx, { inputIds: inp.input_ids });
    const { hidden } = model.decode(ctx, { decoderInputIds: inp.decoder_input_ids, encoderHidden: enc });
    return { loss: model.pretrainingLoss(ctx, inp, ['seq2seq']).loss, logits: model.lmLogits(ctx, hidden) };
  }, store);
  const labels = [[3, 4, 5, 1, -100], [7, 8, 9, 10, 1]];
  const out = await fwd.run({ input_ids: i64([[5, 6, 7, 8, 9, 10, 1], [11, 12, 13, 1, 0, 0, 0]]), labels: i64(labels), decoder_input_ids: i64(shiftRight(labels, 0, 0)) });
  assert.deepEqual(out.logits.shape, [2, 5, 50]);
  const loss = scalar(out.loss);
  assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
  // Init: HF's T5 scales (shared ~ N(0, 1), wo ~ N(0, d_ff^-0.5)).
  const std = (n: string) => { const w = init.get(n)!; return Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length); };
  assert.ok(Math.abs(std('shared.weight') - 1) < 0.1);
  assert.ok(Math.abs(std('encoder.block.0.layer.1.DenseReluDense.wo.weight') - 24 ** -0.5) < 0.05);
});

test('t5: AdamW steps in train mode (dropout on) lower the loss on the fixture batch', async () => {
  const model = new T5ForConditionalGeneration(config);
  const store = await loadWeights('t5', model);
  store.seed = 5;
  const step = await TrainStep.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g, true, config.dropoutRate);
    const inp = Object.fromEntries(Object.entries(feeds()).map(([k, v]) => [k, g.input(k, 'int64', v.shape)]));
    return model.pretrainingLoss(ctx, inp, ['seq2seq']).loss;
  }, store, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, gradClip: 1 });
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) losses.push((await step.run([feeds()], 1e-2)).loss);
  console.log(`t5 train: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  assert.ok(losses.every(Number.isFinite));
  // Dropout makes the first loss differ from the eval-mode loss.
  assert.ok(Math.abs(losses[0] - ref.loss.value) > 1e-4, 'dropout is active in train mode');
  assert.ok(losses[losses.length - 1] < 0.7 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  assert.equal(store.step, 12);
  void [B, Te, Td];
});

test('T5ForTokenClassification: HF names under `transformer`; its logits are the fixture encoder\'s states through the classifier; gradients against central differences', async () => {
  const labels = 5;
  const model = new T5ForTokenClassification(config, labels, 0);
  const names = model.parameters().map((p) => p.name);
  assert.ok(names.includes('transformer.shared.weight') && names.includes('transformer.encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'));
  assert.ok(names.includes('classifier.weight') && names.includes('classifier.bias'));
  assert.ok(!names.some((n) => n.includes('decoder') || n.includes('lm_head')), 'the encoder alone');
  // The fixture is a T5ForConditionalGeneration: its `shared` and `encoder.*` are the body (HF's base_model_prefix).
  const file = `${fixtureDir('t5')}/model.safetensors`;
  const weights = new Map([...(await readSafetensorsF32(file))].map(([n, w]) => [`transformer.${n}`, w]));
  const store = storeFromWeights(model.parameters(), weights, file, initParameters(model.parameters(), 3));
  const w = store.get('classifier.weight');
  const bias = Float32Array.from({ length: labels }, (_, i) => 0.1 * (i - 2));
  store.set('classifier.bias', [labels], bias);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    return { logits: model.forward(ctx, { inputIds: g.input('input_ids', 'int64', [B, Te]), attentionMask: g.input('attention_mask', 'int64', [B, Te]) }) };
  }, store, 't5_tag');
  const { logits } = await fwd.run({ input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask) });
  assert.deepEqual(logits.shape, [B, Te, labels]);
  const h = ref.outputs.encoder_last_hidden_state.data;
  const d = config.dModel;
  const expected = Float32Array.from({ length: B * Te * labels }, (_, i) => {
    const [row, k] = [Math.floor(i / labels), i % labels];
    let z = bias[k]!;
    for (let j = 0; j < d; j++) z += h[row * d + j]! * w[k * d + j]!;
    return z;
  });
  const diff = maxAbs(logits.data as Float32Array, expected);
  console.log(`t5 token classification: max |logits - ref encoder states x classifier| ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `logits: max abs diff ${diff}`);

  const tags = ref.inputs.input_ids.map((row, b) => row.map((id, t) => (ref.inputs.attention_mask[b]![t] ? id % labels : -100)));
  const tagFeeds = { input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask), labels: i64(tags) };
  const r = await checkEveryGradient(model, store, (ctx) => {
    const inp = (n: string) => ctx.g.input(n, 'int64', [B, Te]);
    return model.loss(ctx, { inputIds: inp('input_ids'), attentionMask: inp('attention_mask') }, inp('labels'));
  }, tagFeeds);
  console.log(`t5 token classification: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}`);
  assert.equal(r.params, names.length);
});

test('T5ForQuestionAnswering: HF names (no lm_head); span logits are the fixture decoder\'s states through qa_outputs; the decoder reads the input shifted right; gradients against central differences', async () => {
  const model = new T5ForQuestionAnswering(config);
  const names = model.parameters().map((p) => p.name);
  assert.ok(names.includes('shared.weight') && names.includes('decoder.block.0.layer.1.EncDecAttention.q.weight'));
  assert.ok(names.includes('qa_outputs.weight') && names.includes('qa_outputs.bias') && !names.includes('lm_head.weight'));
  // The fixture is a T5ForConditionalGeneration: every one of its tensors loads by name, only qa_outputs is new.
  const file = `${fixtureDir('t5')}/model.safetensors`;
  const weights = await readSafetensorsF32(file);
  assert.deepEqual(names.filter((n) => !weights.has(n)).sort(), ['qa_outputs.bias', 'qa_outputs.weight']);
  const store = storeFromWeights(model.parameters(), weights, file, initParameters(model.parameters(), 3));
  const w = store.get('qa_outputs.weight');
  const bias = Float32Array.of(0.25, -0.5);
  store.set('qa_outputs.bias', [2], bias);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const inp = { inputIds: g.input('input_ids', 'int64', [B, Te]), attentionMask: g.input('attention_mask', 'int64', [B, Te]) };
    return {
      given: model.logits(ctx, { ...inp, decoderInputIds: g.input('decoder_input_ids', 'int64', [B, Td]) }),
      shifted: model.logits(ctx, inp),
      explicit: model.logits(ctx, { ...inp, decoderInputIds: g.input('shifted_input_ids', 'int64', [B, Te]) }),
    };
  }, store, 't5_qa');
  const out = await fwd.run({
    input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask), decoder_input_ids: i64(ref.inputs.decoder_input_ids),
    shifted_input_ids: i64(shiftRight(ref.inputs.input_ids, config.decoderStartTokenId, config.padTokenId)),
  });
  assert.deepEqual(out.given.shape, [B, Td, 2]);
  const h = ref.outputs.decoder_last_hidden_state.data;
  const d = config.dModel;
  const expected = Float32Array.from({ length: B * Td * 2 }, (_, i) => {
    const [row, k] = [Math.floor(i / 2), i % 2];
    let z = bias[k]!;
    for (let j = 0; j < d; j++) z += h[row * d + j]! * w[k * d + j]!;
    return z;
  });
  const diff = maxAbs(out.given.data as Float32Array, expected);
  console.log(`t5 question answering: max |span logits - ref decoder states x qa_outputs| ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `span logits: max abs diff ${diff}`);
  assert.deepEqual(out.shifted.shape, [B, Te, 2]);
  assert.ok(maxAbs(out.shifted.data as Float32Array, out.explicit.data as Float32Array) <= 1e-6, 'without decoder_input_ids the decoder reads input_ids shifted right');

  const spans = ref.inputs.attention_mask.map((m) => {
    const len = m.reduce((a, b) => a + b, 0);
    return [Math.floor(len / 3), len - 1];
  });
  const r = await checkEveryGradient(model, store, (ctx) => {
    const inp = (n: string) => ctx.g.input(n, 'int64', [B, Te]);
    return spanTaskModel(model, (m, c, x) => m.logits(c, x)).loss(ctx, { inputIds: inp('input_ids'), attentionMask: inp('attention_mask') }, ctx.g.input('labels', 'int64', [B, 2]));
  }, { input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask), labels: i64(spans) });
  console.log(`t5 question answering: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}`);
  assert.equal(r.params, names.length);
});

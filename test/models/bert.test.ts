// BERT against the Hugging Face fixture (test/fixtures/hf/bert, BertForPreTraining): MLM and NSP logits, hidden
// states and pooled output at every position, both loss terms and their sum, every stored gradient, the heads'
// statistics; a checkpoint round trip; the registry entry; SpanBERT's SBO head (shapes, and gradients that reach
// its first layer and the tied word embeddings, checked by finite differences).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Graph, Tensor } from '../../src/graph/index.js';
import { parseBertConfig } from '../../src/io/hf-config.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import {
  BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
  SBO_MAX_TARGETS, SBO_POSITION_SIZE, bertConfig, bertConfigFromHf, bertConfigToHf, withDropout,
} from '../../src/models/bert.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { Ctx, initParameters } from '../../src/nn/index.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward, TrainStep } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { weightsOf } from '../../src/train/pretrain.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { assertF64Gradients, assertGradients, checkEveryGradient, i64, loadWeights, maxAbs, outputsAndGradients, readConfigJson, readReference, type Reference } from '../helpers/fixtures.js';

type BertReference = Reference & {
  inputs: { token_type_ids: number[][] };
  loss: { next_sentence_label: number[]; masked_lm_loss: number; next_sentence_loss: number };
};
const ref = readReference('bert') as BertReference;
const hf = parseBertConfig(readConfigJson('bert'), 'bert/config.json');
const config = bertConfigFromHf(hf);
const [B, T] = [ref.inputs.input_ids.length, ref.inputs.input_ids[0].length];

const feeds = (): Record<string, HostTensor> => ({
  input_ids: i64(ref.inputs.input_ids),
  attention_mask: i64(ref.inputs.attention_mask),
  token_type_ids: i64(ref.inputs.token_type_ids),
  labels: i64(ref.loss.labels),
  next_sentence_label: { dtype: 'int64', shape: [B], data: BigInt64Array.from(ref.loss.next_sentence_label.map(BigInt)) },
});

function inputs(g: Graph) {
  return Object.fromEntries(Object.entries(feeds()).map(([k, v]) => [k, g.input(k, 'int64', v.shape)]));
}

const lossClose = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const scalar = (t: HostTensor) => (t.data as Float32Array)[0];

test('bert fixture: outputs, losses, statistics and every stored gradient match HF', async () => {
  const model = new BertForPreTraining(config);
  const store = await loadWeights('bert', model, true);
  const names = Object.keys(ref.loss.gradients);
  const { outputs: out, grads } = await outputsAndGradients(store, (g) => {
    const ctx = new Ctx(g);
    const inp = inputs(g);
    const { hidden, pooled } = model.encode(ctx, { inputIds: inp.input_ids, attentionMask: inp.attention_mask, tokenTypeIds: inp.token_type_ids });
    const mlm = model.pretrainingLoss(ctx, inp, ['mlm']);
    const nsp = model.pretrainingLoss(ctx, inp, ['nsp']);
    const both = model.pretrainingLoss(ctx, inp, ['mlm', 'nsp']);
    return {
      loss: both.loss, mlm: mlm.loss, nsp: nsp.loss, hidden, pooled: pooled!,
      logits: model.mlmLogits(ctx, hidden), nspLogits: model.nspLogits(ctx, pooled!), ...both.stats,
    };
  }, names, feeds());
  const o = ref.outputs;
  for (const [ours, theirs] of [['logits', 'prediction_logits'], ['nspLogits', 'seq_relationship_logits'], ['hidden', 'last_hidden_state'], ['pooled', 'pooler_output']]) {
    assert.deepEqual(out[ours].shape, o[theirs].shape, theirs);
    const d = maxAbs(out[ours].data as Float32Array, o[theirs].data);
    assert.ok(d <= 1e-4, `${theirs}: max abs diff ${d}`);
  }
  lossClose(scalar(out.mlm), ref.loss.masked_lm_loss, 'masked_lm_loss');
  lossClose(scalar(out.nsp), ref.loss.next_sentence_loss, 'next_sentence_loss');
  lossClose(scalar(out.loss), ref.loss.value, 'loss');
  assert.deepEqual(names.sort(), ['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.0.attention.self.query.weight', 'bert.pooler.dense.weight']);
  assertGradients(grads, ref.loss.gradients);
  // Statistics: counts of predicted items, summed losses, and argmax hits.
  const labelled = ref.loss.labels.flat().filter((l) => l !== -100).length;
  assert.equal(scalar(out['mlm/count']), labelled);
  assert.equal(scalar(out['nsp/count']), B);
  lossClose(scalar(out['mlm/loss_sum']), ref.loss.masked_lm_loss * labelled, 'mlm/loss_sum');
  lossClose(scalar(out['nsp/loss_sum']), ref.loss.next_sentence_loss * B, 'nsp/loss_sum');
  const logits = o.prediction_logits.data;
  const V = config.vocabSize;
  let hits = 0;
  ref.loss.labels.flat().forEach((l, i) => {
    if (l === -100) return;
    const row = logits.slice(i * V, (i + 1) * V);
    if (row[l] >= Math.max(...row)) hits++;
  });
  assert.equal(scalar(out['mlm/correct']), hits);
  const nspHits = ref.loss.next_sentence_label.filter((l, r) => o.seq_relationship_logits.data[2 * r + l] >= o.seq_relationship_logits.data[2 * r + 1 - l]).length;
  assert.equal(scalar(out['nsp/correct']), nspHits);
});

test('bert fixture: every parameter\'s float64 gradient (MLM + NSP) against central differences of the loss', async () => {
  const model = new BertForPreTraining(config);
  const store = await loadWeights('bert', model, true);
  const t0 = performance.now();
  const r = await checkEveryGradient(model, store, (ctx) => model.pretrainingLoss(ctx, inputs(ctx.g), ['mlm', 'nsp']).loss, feeds());
  console.log(`bert: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}, loss ${r.loss} vs HF ${ref.loss.value} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.equal(r.params, model.parameters().length);
  assert.ok(Math.abs(r.loss - ref.loss.value) <= 1e-6 * Math.abs(ref.loss.value), `float64 loss ${r.loss} vs ${ref.loss.value}`);
  assertF64Gradients(r.grads, ref.loss.gradients, 'bert');
});

test('bert: absent attention_mask and token_type_ids mean all ones and all zeros', async () => {
  const model = new BertForPreTraining(config);
  const store = await loadWeights('bert', model);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const ids = g.input('input_ids', 'int64', [1, T]);
    const implicit = model.encode(ctx, { inputIds: ids }).hidden;
    const explicit = model.encode(ctx, {
      inputIds: ids, attentionMask: g.input('attention_mask', 'int64', [1, T]), tokenTypeIds: g.input('token_type_ids', 'int64', [1, T]),
    }).hidden;
    return { implicit, explicit };
  }, store);
  const row = ref.inputs.input_ids[0];
  const out = await fwd.run({ input_ids: i64([row]), attention_mask: i64([row.map(() => 1)]), token_type_ids: i64([row.map(() => 0)]) });
  assert.ok(maxAbs(out.implicit.data as Float32Array, out.explicit.data as Float32Array) < 1e-6);
});

test('bert: parameter names are HF\'s, and only the requested heads have parameters', () => {
  const names = (heads: ('mlm' | 'nsp' | 'sbo')[]) => new BertForPreTraining(config, { heads }).parameters().map((p) => p.name);
  const mlm = names(['mlm']);
  assert.ok(!mlm.some((n) => n.startsWith('bert.pooler') || n.startsWith('cls.seq_relationship') || n.startsWith('cls.span_boundary')));
  assert.ok(mlm.includes('cls.predictions.bias') && mlm.includes('cls.predictions.transform.LayerNorm.weight'));
  assert.ok(!mlm.some((n) => n.startsWith('cls.predictions.decoder')), 'the decoder is tied to the word embeddings');
  const span = names(['mlm', 'sbo']);
  assert.deepEqual(span.filter((n) => n.startsWith('cls.span_boundary')).sort(), [
    'cls.span_boundary.LayerNorm1.bias', 'cls.span_boundary.LayerNorm1.weight', 'cls.span_boundary.LayerNorm2.bias',
    'cls.span_boundary.LayerNorm2.weight', 'cls.span_boundary.bias', 'cls.span_boundary.dense1.bias', 'cls.span_boundary.dense1.weight',
    'cls.span_boundary.dense2.bias', 'cls.span_boundary.dense2.weight', 'cls.span_boundary.position_embeddings.weight',
  ]);
  const spec = new BertForPreTraining(config, { heads: ['sbo'] }).parameters();
  assert.deepEqual(spec.find((p) => p.name === 'cls.span_boundary.position_embeddings.weight')!.shape, [SBO_MAX_TARGETS, SBO_POSITION_SIZE]);
  assert.deepEqual(spec.find((p) => p.name === 'cls.span_boundary.dense1.weight')!.shape, [config.hiddenSize, 2 * config.hiddenSize + SBO_POSITION_SIZE]);
  // HF's init: normal weights, zero biases, LayerNorm 1/0.
  const init = initParameters(spec, 3);
  assert.ok(init.get('cls.span_boundary.bias')!.every((v) => v === 0));
  assert.ok(init.get('cls.span_boundary.LayerNorm1.weight')!.every((v) => v === 1));
  const w = init.get('cls.span_boundary.dense1.weight')!;
  const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
  assert.ok(Math.abs(std - config.initializerRange) < 0.02 * config.initializerRange * 5, `std ${std}`);
});

test('bert: a checkpoint we save and reload is bit-identical and rebuilds the same model through the registry', async () => {
  const model = new BertForPreTraining(config);
  const store = await loadWeights('bert', model);
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pretrain-bert-')), 'checkpoint-1');
  const entry = getModel('bert');
  await saveCheckpoint(dir, { config: bertConfigToHf(config), weights: weightsOf(store), architectures: [entry.architecture(['mlm', 'nsp'])] });
  const ck = await loadCheckpoint(dir);
  assert.equal(ck.config.model_type, 'bert');
  const rebuilt = entry.build(ck.config, { heads: ['mlm', 'nsp'] });
  assert.deepEqual(rebuilt.parameters().map((p) => [p.name, p.shape]), model.parameters().map((p) => [p.name, p.shape]));
  for (const name of store.names()) {
    const a = store.get(name);
    const w = ck.weights.get(name)!.data;
    assert.deepEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), new Uint8Array(a.buffer, a.byteOffset, a.byteLength), name);
  }
  assert.deepEqual(bertConfigFromHf(parseBertConfig(ck.config, 'reloaded')), config);
});

test('bert registry entry: family, objectives, tokenizer, architecture and a new config from a tokenizer', () => {
  const e = getModel('bert');
  assert.equal(e.family, 'encoder');
  assert.deepEqual(e.objectives, ['mlm+nsp', 'mlm', 'span']);
  assert.equal(e.tokenizer, 'wordpiece');
  assert.equal(e.architecture(['mlm', 'nsp']), 'BertForPreTraining');
  assert.equal(e.architecture(['mlm']), 'BertForMaskedLM');
  assert.equal(e.architecture(['mlm', 'sbo']), 'BertForMaskedLM');
  const tok = { vocabSize: 300, specialIds: { pad: 0, cls: 2, sep: 3, mask: 4, unk: 1 } } as unknown as Tokenizer;
  const hfc = e.newConfig({ layers: 2, hidden: 64, heads: 4, positions: 128, dropout: 0.1 }, tok);
  assert.ok(hfc.model_type === 'bert');
  assert.equal(hfc.vocab_size, 300);
  assert.equal(hfc.intermediate_size, 256);
  assert.equal(hfc.max_position_embeddings, 128);
  assert.equal(hfc.pad_token_id, 0);
  assert.equal(hfc.hidden_dropout_prob, 0.1);
  const built = e.build(hfc, { heads: ['mlm'], dropout: 0 }) as BertForPreTraining;
  assert.equal(built.config.hiddenDropout, 0);
  assert.equal(built.config.attentionDropout, 0);
  assert.throws(() => e.newConfig({ layers: 1, hidden: 64, heads: 4, kvHeads: 2, positions: 8, dropout: 0 }, tok), /kvHeads/);
});

// The SBO head on a small random model: its shapes, and gradients (by finite differences of the float32 loss)
// that reach cls.span_boundary.dense1.weight and the word embeddings (through the tied decoder and the encoder).
test('bert sbo head: shapes, loss statistics, and gradients reaching dense1 and the word embeddings', async () => {
  const c = bertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, initializerRange: 0.2 });
  const model = new BertForPreTraining(c, { heads: ['mlm', 'sbo'], sboWeight: 0.5 });
  const store = new ParameterStore();
  const init = initParameters(model.parameters(), 7);
  for (const p of model.parameters()) store.set(p.name, p.shape, init.get(p.name)!);
  const [b, p] = [2, 4];
  const ids = [[1, 5, 6, 7, 8, 9, 10, 11, 12, 2], [1, 13, 14, 15, 16, 17, 2, 0, 0, 0]];
  const feeds: Record<string, HostTensor> = {
    input_ids: i64(ids),
    attention_mask: i64(ids.map((r) => r.map((x) => (x === 0 ? 0 : 1)))),
    labels: i64([[-100, -100, 6, 7, -100, -100, -100, -100, -100, -100], [-100, -100, -100, 15, 16, -100, -100, -100, -100, -100]]),
    // Row 0: span 2..3 (left 1, right 4); row 1: span 3..4 (left 2, right 5) and one padded target.
    sbo_left: i64([[1, 1, 0, 0], [2, 2, 0, 0]]),
    sbo_right: i64([[4, 4, 0, 0], [5, 5, 0, 0]]),
    sbo_position: i64([[0, 1, 0, 0], [0, 1, 0, 0]]),
    sbo_labels: i64([[6, 7, -100, -100], [15, 16, -100, -100]]),
  };
  const names = ['cls.span_boundary.dense1.weight', 'bert.embeddings.word_embeddings.weight'];
  const build = (g: Graph) => {
    const ctx = new Ctx(g);
    const inp = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, g.input(k, 'int64', v.shape)]));
    const { hidden } = model.encode(ctx, { inputIds: inp.input_ids, attentionMask: inp.attention_mask });
    const logits = model.span_boundary!.forward(ctx, hidden, inp.sbo_left, inp.sbo_right, inp.sbo_position);
    const sbo = model.pretrainingLoss(ctx, inp, ['sbo']);
    const both = model.pretrainingLoss(ctx, inp, ['mlm', 'sbo']);
    const mlm = model.pretrainingLoss(ctx, inp, ['mlm']);
    return { loss: sbo.loss, sboLogits: logits, total: both.loss, mlm: mlm.loss, ...both.stats };
  };
  const { outputs: out, grads } = await outputsAndGradients(store, build, names, feeds);
  assert.deepEqual(out.sboLogits.shape, [b, p, c.vocabSize]);
  assert.equal(scalar(out['sbo/count']), 4);
  assert.equal(scalar(out['mlm/count']), 4);
  // The SBO term of the loss is weighted (0.5 here); its statistics are not.
  const sboMean = scalar(out['sbo/loss_sum']) / scalar(out['sbo/count']);
  assert.ok(Math.abs(scalar(out.loss) - 0.5 * sboMean) < 1e-5, `sbo loss ${scalar(out.loss)} vs 0.5 * ${sboMean}`);
  assert.ok(Math.abs(scalar(out.total) - (scalar(out.mlm) + 0.5 * sboMean)) < 1e-5, `total ${scalar(out.total)} != mlm ${scalar(out.mlm)} + 0.5 * ${sboMean}`);

  // Central differences of the float32 SBO loss on a few entries of each parameter.
  const lossOnly = await Forward.compile(nodeBackend, (g) => ({ loss: build(g).loss }), store);
  const lossAt = async () => scalar((await lossOnly.run(feeds, ['loss'])).loss);
  const h = 1e-2;
  for (const name of names) {
    const w = store.get(name);
    const g = grads[name];
    // The entries with the largest gradients (for the embeddings: rows of tokens in the batch), and one more.
    const order = [...g.keys()].sort((x, y) => Math.abs(g[y]) - Math.abs(g[x]));
    assert.ok(Math.abs(g[order[0]]) > 1e-4, `${name}: no gradient reaches it`);
    for (const j of order.slice(0, 3)) {
      const orig = w[j];
      w[j] = orig + h;
      const lp = await lossAt();
      w[j] = orig - h;
      const lm = await lossAt();
      w[j] = orig;
      const numeric = (lp - lm) / (2 * h);
      assert.ok(Math.abs(numeric - g[j]) <= 1e-2 * Math.max(Math.abs(g[j]), 1e-3), `${name}[${j}]: analytic ${g[j]} vs numeric ${numeric}`);
    }
  }
});

test('bert task heads: HF names and output shapes', async () => {
  const c = bertConfig({ vocabSize: 30, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, maxPositionEmbeddings: 8 });
  const seq = new BertForSequenceClassification(c, 3);
  const tokc = new BertForTokenClassification(c, 5);
  const qa = new BertForQuestionAnswering(c);
  const names = (m: { parameters(): { name: string }[] }) => m.parameters().map((p) => p.name);
  assert.ok(names(seq).includes('bert.pooler.dense.weight') && names(seq).includes('classifier.weight'));
  assert.ok(!names(tokc).some((n) => n.startsWith('bert.pooler')) && names(tokc).includes('classifier.bias'));
  assert.ok(!names(qa).some((n) => n.startsWith('bert.pooler')) && names(qa).includes('qa_outputs.weight'));
  const run = async (m: BertForSequenceClassification | BertForTokenClassification | BertForQuestionAnswering) => {
    const s = new ParameterStore();
    const init = initParameters(m.parameters(), 1);
    for (const p of m.parameters()) s.set(p.name, p.shape, init.get(p.name)!);
    const fwd = await Forward.compile(nodeBackend, (g): Record<string, Tensor> => {
      const ctx = new Ctx(g);
      const inp = { inputIds: g.input('input_ids', 'int64', [2, 6]), attentionMask: g.input('attention_mask', 'int64', [2, 6]) };
      const ids = (n: string, shape: number[]) => g.input(n, 'int64', shape);
      if (m instanceof BertForQuestionAnswering) {
        const o = m.forward(ctx, inp);
        return { start: o.startLogits, end: o.endLogits, loss: m.loss(ctx, inp, ids('start_positions', [2]), ids('end_positions', [2])) };
      }
      if (m instanceof BertForTokenClassification) return { logits: m.forward(ctx, inp), loss: m.loss(ctx, inp, ids('labels', [2, 6])) };
      return { logits: m.forward(ctx, inp), loss: m.loss(ctx, inp, ids('labels', [2])) };
    }, s);
    const base = { input_ids: i64([[1, 5, 6, 7, 2, 0], [1, 8, 9, 2, 0, 0]]), attention_mask: i64([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]]) };
    const lab1 = { dtype: 'int64' as const, shape: [2], data: BigInt64Array.from([1n, 2n]) };
    const extra: Record<string, HostTensor> =
      m instanceof BertForQuestionAnswering ? { start_positions: lab1, end_positions: lab1 }
        : m instanceof BertForTokenClassification ? { labels: i64([[-100, 1, 2, 3, -100, -100], [-100, 4, 0, -100, -100, -100]]) }
          : { labels: lab1 };
    return fwd.run({ ...base, ...extra });
  };
  const s = await run(seq);
  assert.deepEqual(s.logits.shape, [2, 3]);
  const tk = await run(tokc);
  assert.deepEqual(tk.logits.shape, [2, 6, 5]);
  const q = await run(qa);
  assert.deepEqual(q.start.shape, [2, 6]);
  assert.deepEqual(q.end.shape, [2, 6]);
  for (const o of [s, tk, q]) assert.ok(Number.isFinite(scalar(o.loss)) && scalar(o.loss) > 0);
});

test('bert trains: AdamW steps with dropout on (train mode) lower the fixture loss and update every parameter', async () => {
  const model = new BertForPreTraining(withDropout(config, 0.1), { heads: ['mlm', 'nsp', 'sbo'] });
  const store = new ParameterStore();
  const init = initParameters(model.parameters(), 5);
  for (const p of model.parameters()) store.set(p.name, p.shape, init.get(p.name)!);
  const before = store.clone();
  const batch: Record<string, HostTensor> = {
    ...feeds(),
    sbo_left: i64([[1, 4], [2, 2]]), sbo_right: i64([[3, 6], [4, 4]]), sbo_position: i64([[0, 0], [0, 1]]), sbo_labels: i64([[59, 42], [56, 3]]),
  };
  const step = await TrainStep.compile(nodeBackend, (g) => {
    const inp = Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, g.input(k, 'int64', v.shape)]));
    return model.pretrainingLoss(new Ctx(g, true), inp, ['mlm', 'nsp', 'sbo']).loss;
  }, store, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, gradClip: 1 });
  assert.ok(step.fused.inputNames.includes('rng/seed'), 'dropout is in the training graph');
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) losses.push((await step.run([batch], 3e-3)).loss);
  assert.ok(losses.every(Number.isFinite), `${losses}`);
  assert.ok(losses.at(-1)! < 0.7 * losses[0], `loss ${losses[0]} -> ${losses.at(-1)}`);
  const unchanged = store.names().filter((n) => store.get(n).every((v, i) => v === before.get(n)[i]));
  assert.deepEqual(unchanged, []);
});

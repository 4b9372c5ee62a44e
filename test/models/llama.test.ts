// LLaMA against the Hugging Face fixture (test/fixtures/hf/llama): logits and hidden states at every position
// (padded ones included), the loss, named gradients, and the greedy generation (re-running the full forward on
// the growing sequence, no KV cache). The fixture has 2 key/value heads for 4 query heads, an untied lm_head and no
// pad token (the batch pads with 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx, initParameters } from '../../src/nn/index.js';
import { LlamaForCausalLM, llamaConfig, llamaConfigFromHf, llamaConfigToHf, type LlamaConfig } from '../../src/models/llama.js';
import { parseLlamaConfig } from '../../src/io/hf-config.js';
import { Forward } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { assertF64Gradients, checkEveryGradient, fixtureDir, greedyWithoutCache, i64, loadWeights, logitsForward, lossAndGradients, maxAbs, readConfigJson, readReference } from '../helpers/fixtures.js';

const ref = readReference('llama');
const hf = parseLlamaConfig(readConfigJson('llama'), `${fixtureDir('llama')}/config.json`);
const config: LlamaConfig = llamaConfigFromHf(hf);

/** The model with the fixture's weights; every parameter must be in the file with its shape, and nothing else. */
async function load(): Promise<{ model: LlamaForCausalLM; store: ParameterStore }> {
  const model = new LlamaForCausalLM(config);
  return { model, store: await loadWeights('llama', model, true) };
}

test('llama fixture: config.json maps to our config and back', () => {
  assert.deepEqual(config, llamaConfig({
    vocabSize: 128, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
    maxPositionEmbeddings: 64, rmsNormEps: 1e-6, ropeTheta: 10000, initializerRange: 0.2, tieWordEmbeddings: false,
    bosTokenId: 1, eosTokenId: 2,
  }));
  assert.deepEqual(llamaConfigFromHf(llamaConfigToHf(config)), config);
  assert.throws(() => llamaConfigFromHf({ ...hf, hidden_act: 'gelu' }), /hidden_act "gelu"/);
});

test('llama fixture: parameter names, shapes and count match the checkpoint', async () => {
  const { store } = await load();
  assert.equal(store.count(), 26784);
  assert.ok(!store.params.has('model.layers.0.self_attn.q_proj.bias'), 'LLaMA has no biases');
  assert.deepEqual(store.shapes.get('model.layers.0.self_attn.k_proj.weight'), [16, 32], 'GQA: 2 kv heads of 8');
});

test('llama fixture: logits and last hidden state at every position within 1e-4', async () => {
  const { model, store } = await load();
  const fwd = await logitsForward(model, store);
  const out = await fwd.run({ input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask) });
  assert.deepEqual(out.logits.shape, ref.outputs.logits.shape);
  const dl = maxAbs(out.logits.data as Float32Array, ref.outputs.logits.data);
  const dh = maxAbs(out.hidden.data as Float32Array, ref.outputs.last_hidden_state.data);
  console.log(`llama: max |logits - ref| ${dl.toExponential(2)}, max |hidden - ref| ${dh.toExponential(2)}`);
  assert.ok(dl <= 1e-4, `logits differ by ${dl}`);
  assert.ok(dh <= 1e-4, `last_hidden_state differs by ${dh}`);
});

test('llama fixture: loss and named gradients', async () => {
  const { model, store } = await load();
  const names = Object.keys(ref.loss.gradients);
  const { loss, grads } = await lossAndGradients(model, store, ref);
  console.log(`llama: loss ${loss} vs ${ref.loss.value} (diff ${Math.abs(loss - ref.loss.value).toExponential(2)})`);
  assert.ok(Math.abs(loss - ref.loss.value) <= 1e-5 * Math.max(1, Math.abs(ref.loss.value)), `loss ${loss} vs ${ref.loss.value}`);
  for (const n of names) {
    const r = ref.loss.gradients[n].data;
    const scale = Math.max(...r.map(Math.abs));
    const d = maxAbs(grads[n], r);
    console.log(`llama: grad ${n}: max diff ${d.toExponential(2)} = ${(d / scale).toExponential(2)} of max |ref|`);
    assert.ok(d <= 1e-4 * scale, `${n}: ${d} vs scale ${scale}`);
  }
});

test('llama fixture: every parameter\'s float64 gradient against central differences of the loss', async () => {
  const { model, store } = await load();
  const t0 = performance.now();
  const r = await checkEveryGradient(model, store, (ctx) => {
    const g = ctx.g;
    return model.loss(ctx, g.input('input_ids', 'int64', [2, 16]), g.input('labels', 'int64', [2, 16]), g.input('attention_mask', 'int64', [2, 16]));
  }, { input_ids: i64(ref.inputs.input_ids), labels: i64(ref.loss.labels), attention_mask: i64(ref.inputs.attention_mask) });
  console.log(`llama: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}, loss ${r.loss} vs HF ${ref.loss.value} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.equal(r.params, model.parameters().length);
  assert.ok(Math.abs(r.loss - ref.loss.value) <= 1e-6 * Math.abs(ref.loss.value), `float64 loss ${r.loss} vs ${ref.loss.value}`);
  // 2e-6, not 1e-6: the float64 gradients agree with HF's to ~5e-7 (HF's rotary tables are probably cached at float32
  // precision even in a float64 model, ours are computed in float64).
  assertF64Gradients(r.grads, ref.loss.gradients, 'llama', 2e-6);
});

test('llama fixture: greedy generation without a cache gives the same tokens and scores', async () => {
  const { model, store } = await load();
  const fwd = await logitsForward(model, store);
  const gen = ref.generation;
  const v = config.vocabSize;
  const { tokens: fresh, worst } = await greedyWithoutCache(fwd, gen, v);
  console.log(`llama: generation max |scores - ref| ${worst.toExponential(2)}`);
  assert.deepEqual(fresh, gen.new_tokens[0]);
  assert.ok(worst <= 1e-4, `scores differ by ${worst}`);
});

test('llama: tied word embeddings drop lm_head; init is N(0, initializer_range) and norms are ones', async () => {
  const tied = new LlamaForCausalLM({ ...config, tieWordEmbeddings: true });
  const names = tied.parameters().map((p) => p.name);
  assert.ok(!names.includes('lm_head.weight'));
  const params = initParameters(tied.parameters(), 0);
  const store = new ParameterStore();
  for (const p of tied.parameters()) store.set(p.name, p.shape, params.get(p.name)!);
  assert.ok(store.get('model.norm.weight').every((x) => x === 1));
  const w = store.get('model.layers.1.mlp.down_proj.weight');
  const std = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
  assert.ok(Math.abs(std - config.initializerRange) < 0.1 * config.initializerRange, `down_proj std ${std}`);
  // The tied head runs: logits are hidden @ embed_tokens^T.
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const { hidden } = tied.model.forward(ctx, { inputIds: g.input('input_ids', 'int64', ['batch', 'seq']) });
    return { logits: tied.logits(ctx, hidden), hidden };
  }, store);
  const out = await fwd.run({ input_ids: i64([[1, 5, 9]]) });
  assert.deepEqual(out.logits.shape, [1, 3, config.vocabSize]);
  // The values, on the host: logits[t, v] = sum_k hidden[t, k] * embed[v, k].
  const h = out.hidden.data as Float32Array;
  const emb = store.get('model.embed_tokens.weight');
  const d = config.hiddenSize;
  const logits = out.logits.data as Float32Array;
  let worst = 0;
  let scale = 0;
  for (let t = 0; t < 3; t++) {
    for (let v = 0; v < config.vocabSize; v++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += h[t * d + k] * emb[v * d + k];
      worst = Math.max(worst, Math.abs(acc - logits[t * config.vocabSize + v]));
      scale = Math.max(scale, Math.abs(acc));
    }
  }
  assert.ok(scale > 1e-3, 'the logits are not all zero');
  assert.ok(worst <= 1e-5 * Math.max(1, scale), `logits differ from hidden @ embed^T by ${worst}`);
});

test('llama: a config whose heads are not a multiple of the kv heads is refused', () => {
  assert.throws(() => new LlamaForCausalLM({ ...config, numKeyValueHeads: 3 }), /multiple of numKeyValueHeads/);
});

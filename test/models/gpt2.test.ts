// GPT-2 against the Hugging Face fixture (test/fixtures/hf/gpt2): logits and hidden states at every position
// (padded ones included), the loss, named gradients, a checkpoint round trip, and the greedy generation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gpt2LMHeadModel, gpt2Config } from '../../src/models/gpt2.js';
import type { ParameterStore } from '../../src/runtime/store.js';
import { assertF64Gradients, checkEveryGradient, greedyWithoutCache, i64, loadWeights, logitsForward, lossAndGradients, maxAbs, readConfigJson, readReference } from '../helpers/fixtures.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { gpt2ConfigToHf } from '../../src/models/gpt2.js';
import { causalLMFromHf } from '../../src/models/index.js';
import { weightsOf } from '../../src/train/pretrain.js';

const ref = readReference('gpt2');
const hf = readConfigJson('gpt2') as Record<string, number>;
const config = gpt2Config({
  vocabSize: hf.vocab_size, nEmbd: hf.n_embd, nLayer: hf.n_layer, nHead: hf.n_head, nPositions: hf.n_positions,
  layerNormEpsilon: hf.layer_norm_epsilon, bosTokenId: hf.bos_token_id, eosTokenId: hf.eos_token_id,
});

async function load(): Promise<{ model: Gpt2LMHeadModel; store: ParameterStore }> {
  const model = new Gpt2LMHeadModel(config);
  return { model, store: await loadWeights('gpt2', model) };
}

test('gpt2 fixture: logits and last hidden state at every position within 1e-4', async () => {
  const { model, store } = await load();
  const fwd = await logitsForward(model, store);
  const out = await fwd.run({ input_ids: i64(ref.inputs.input_ids), attention_mask: i64(ref.inputs.attention_mask) });
  assert.ok(maxAbs(out.logits.data as Float32Array, ref.outputs.logits.data) < 1e-4, `logits ${maxAbs(out.logits.data as Float32Array, ref.outputs.logits.data)}`);
  assert.ok(maxAbs(out.hidden.data as Float32Array, ref.outputs.last_hidden_state.data) < 1e-4);
});

test('gpt2 fixture: loss and named gradients', async () => {
  const { model, store } = await load();
  const names = Object.keys(ref.loss.gradients);
  const { loss, grads } = await lossAndGradients(model, store, ref);
  assert.ok(Math.abs(loss - ref.loss.value) <= 1e-5 * Math.max(1, Math.abs(ref.loss.value)), `loss ${loss} vs ${ref.loss.value}`);
  for (const n of names) {
    const r = ref.loss.gradients[n].data;
    const scale = Math.max(...r.map(Math.abs));
    const d = maxAbs(grads[n], r);
    assert.ok(d <= 1e-4 * scale, `${n}: ${d} vs scale ${scale}`);
  }
});

test('gpt2 fixture: every parameter\'s float64 gradient against central differences of the loss', async () => {
  const { model, store } = await load();
  const t0 = performance.now();
  const r = await checkEveryGradient(model, store, (ctx) => {
    const g = ctx.g;
    return model.loss(ctx, g.input('input_ids', 'int64', [2, 16]), g.input('labels', 'int64', [2, 16]), g.input('attention_mask', 'int64', [2, 16]));
  }, { input_ids: i64(ref.inputs.input_ids), labels: i64(ref.loss.labels), attention_mask: i64(ref.inputs.attention_mask) });
  console.log(`gpt2: ${r.params} parameters, ${r.entries} entries, worst relative error ${r.worstRel.toExponential(2)} at ${r.worstAt}, loss ${r.loss} vs HF ${ref.loss.value} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.equal(r.params, model.parameters().length);
  assert.ok(Math.abs(r.loss - ref.loss.value) <= 1e-6 * Math.abs(ref.loss.value), `float64 loss ${r.loss} vs ${ref.loss.value}`);
  assertF64Gradients(r.grads, ref.loss.gradients, 'gpt2');
});

test('gpt2: a checkpoint we save and reload is bit-identical, and its config rebuilds the same model', async () => {
  const { model, store } = await load();
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pretrain-ck-')), 'checkpoint-1');
  await saveCheckpoint(dir, { config: gpt2ConfigToHf(config), weights: weightsOf(store), generationConfig: true });
  const ck = await loadCheckpoint(dir);
  const info = causalLMFromHf(ck.config);
  assert.deepEqual(info.model.parameters().map((p) => [p.name, p.shape]), model.parameters().map((p) => [p.name, p.shape]));
  for (const name of store.names()) {
    const a = new Uint8Array(store.get(name).buffer, store.get(name).byteOffset, store.get(name).byteLength);
    const w = ck.weights.get(name)!.data;
    assert.deepEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), a, name);
  }
  assert.equal(ck.config.model_type, 'gpt2');
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).n_embd, config.nEmbd);
});

// HF generated with its cache; its README says a cache-free loop gives the same tokens and scores to 3e-15, so
// here the full forward is re-run on the growing sequence (test/generate/kv-cache.test.ts covers the cache).
test('gpt2 fixture: greedy generation without a cache gives the same tokens and scores', async () => {
  const { model, store } = await load();
  const fwd = await logitsForward(model, store);
  const gen = ref.generation;
  const v = config.vocabSize;
  assert.deepEqual(gen.scores.shape, [gen.max_new_tokens, v]);
  const { tokens: fresh, worst } = await greedyWithoutCache(fwd, gen, v);
  console.log(`gpt2: generation max |scores - ref| ${worst.toExponential(2)}`);
  assert.deepEqual(fresh, gen.new_tokens[0]);
  assert.ok(worst <= 1e-4, `scores differ by ${worst}`);
});

// The KV cache against full recomputation and against Hugging Face's own greedy generation (GPT-2 and LLaMA
// fixtures), plus the exported ONNX model run as transformers.js would: empty pasts first, then one token at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gpt2LMHeadModel, gpt2Config } from '../../src/models/gpt2.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { readSafetensorsF32 } from '../../src/io/files.js';
import { Generator } from '../../src/generate/generate.js';
import { cacheLayout, exportDecoderOnnx, pastName, presentName, type DecoderModel } from '../../src/generate/decoder-graph.js';

interface T { shape: number[]; data: number[] }
interface Reference {
  generation: { input_ids: number[][]; new_tokens: number[][]; scores: T; eos_token_id: number };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

async function loadStore(dir: string, model: DecoderModel & { parameters(): { name: string }[] }): Promise<ParameterStore> {
  const weights = await readSafetensorsF32(`${dir}/model.safetensors`);
  const store = new ParameterStore();
  for (const p of model.parameters()) {
    const w = weights.get(p.name);
    assert.ok(w, `fixture lacks ${p.name}`);
    store.set(p.name, w.shape, w.data);
  }
  return store;
}

async function gpt2(): Promise<{ model: Gpt2LMHeadModel; store: ParameterStore; ref: Reference }> {
  const dir = 'test/fixtures/hf/gpt2';
  const hf = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as Record<string, number>;
  const model = new Gpt2LMHeadModel(gpt2Config({
    vocabSize: hf.vocab_size, nEmbd: hf.n_embd, nLayer: hf.n_layer, nHead: hf.n_head, nPositions: hf.n_positions,
    layerNormEpsilon: hf.layer_norm_epsilon, bosTokenId: hf.bos_token_id, eosTokenId: hf.eos_token_id,
  }));
  const ref = JSON.parse(readFileSync(`${dir}/reference.json`, 'utf8')) as Reference;
  return { model, store: await loadStore(dir, model), ref };
}

/** Greedy through the cache reproduces HF's tokens and scores; the loop without a cache gives the same. */
async function checkAgainstHf(model: DecoderModel, store: ParameterStore, ref: Reference, label: string): Promise<void> {
  const gen = ref.generation;
  const opts = { maxNewTokens: gen.new_tokens[0].length, doSample: false, eosTokenId: gen.eos_token_id, returnLogits: true };
  const cached = await (await Generator.create(nodeBackend, model, store)).generate(gen.input_ids[0], opts);
  const full = await (await Generator.create(nodeBackend, model, store, { cache: false })).generate(gen.input_ids[0], opts);
  assert.deepEqual(cached.sequences[0].tokens, gen.new_tokens[0], `${label}: cached tokens`);
  assert.deepEqual(full.sequences[0].tokens, gen.new_tokens[0], `${label}: uncached tokens`);
  const vocab = gen.scores.shape[1];
  cached.logits!.forEach((step, k) => {
    const want = gen.scores.data.slice(k * vocab, (k + 1) * vocab);
    const d = maxAbs(step[0], want);
    assert.ok(d <= 1e-4, `${label}: step ${k} scores differ from HF by ${d}`);
    const e = maxAbs(step[0], full.logits![k][0]);
    assert.ok(e <= 1e-4, `${label}: step ${k} cached and uncached logits differ by ${e}`);
  });
  assert.equal(cached.runs, gen.new_tokens[0].length);
}

test('gpt2 fixture: greedy through the KV cache reproduces HF new_tokens and scores (and the uncached loop)', async () => {
  const { model, store, ref } = await gpt2();
  await checkAgainstHf(model, store, ref, 'gpt2');
});

test('gpt2 fixture: cached and uncached agree on a left-padded batch of prompts, several samples each', async () => {
  const { model, store } = await gpt2();
  const prompts = [[5, 9, 77, 3, 120, 64, 2], [40, 41], [100, 7, 7, 7]];
  const opts = { maxNewTokens: 10, doSample: false, numSamples: 2, returnLogits: true };
  const a = await (await Generator.create(nodeBackend, model, store)).generate(prompts, opts);
  const b = await (await Generator.create(nodeBackend, model, store, { cache: false })).generate(prompts, opts);
  assert.equal(a.sequences.length, 6);
  assert.deepEqual(a.sequences.map((s) => s.tokens), b.sequences.map((s) => s.tokens));
  a.logits!.forEach((step, k) => step.forEach((row, r) => assert.ok(maxAbs(row, b.logits![k][r]) <= 1e-4, `step ${k} row ${r}`)));
  // A padded prompt gives what it gives alone: padding and positions are handled.
  const alone = await (await Generator.create(nodeBackend, model, store)).generate(prompts[1], { ...opts, numSamples: 1 });
  assert.deepEqual(alone.sequences[0].tokens, a.sequences[2].tokens);
  assert.ok(maxAbs(alone.logits![0][0], a.logits![0][2]) <= 1e-4);
});

test('gpt2 fixture: the exported ONNX model (weights baked in, transformers.js names) runs from empty pasts', async () => {
  const { model, store, ref } = await gpt2();
  const layout = cacheLayout(model);
  const s = await nodeBackend.createSession(exportDecoderOnnx(model, store));
  assert.deepEqual([...s.inputNames].sort(), [
    'attention_mask', 'input_ids', 'position_ids',
    ...Array.from({ length: layout.layers }, (_, i) => [pastName(i, 'key'), pastName(i, 'value')]).flat(),
  ].sort());
  assert.ok(s.outputNames.includes('logits') && s.outputNames.includes(presentName(layout.layers - 1, 'value')));
  const prompt = ref.generation.input_ids[0];
  const i64 = (v: number[]): HostTensor => ({ dtype: 'int64', shape: [1, v.length], data: BigInt64Array.from(v.map(BigInt)) });
  let past: Record<string, HostTensor> = {};
  for (let i = 0; i < layout.layers; i++)
    for (const k of ['key', 'value'] as const)
      past[pastName(i, k)] = { dtype: 'float32', shape: [1, layout.kvHeads, 0, layout.headDim], data: new Float32Array(0) };
  let ids = prompt;
  const all = [...prompt];
  const vocab = layout.vocab;
  for (let step = 0; step < 3; step++) {
    const out = await s.run({ input_ids: i64(ids), attention_mask: i64(all.map(() => 1)), position_ids: i64(ids.map((_, j) => all.length - ids.length + j)), ...past });
    assert.deepEqual(out.logits.shape, [1, ids.length, vocab]);
    assert.deepEqual(out[presentName(0, 'key')].shape, [1, layout.kvHeads, all.length, layout.headDim]);
    const last = (out.logits.data as Float32Array).subarray((ids.length - 1) * vocab);
    assert.ok(maxAbs(last, ref.generation.scores.data.slice(step * vocab, (step + 1) * vocab)) <= 1e-4);
    const next = ref.generation.new_tokens[0][step];
    ids = [next];
    all.push(next);
    past = {};
    for (let i = 0; i < layout.layers; i++) for (const k of ['key', 'value'] as const) past[pastName(i, k)] = out[presentName(i, k)];
  }
  await s.release();
});

/**
 * transformers.js (the devDependency) loads a folder with our exported onnx/model.onnx and generates greedily
 * through the cache exactly as HF did: it feeds the empty pasts, position_ids and the growing attention_mask.
 */
async function checkTransformersJs(fixture: string, model: DecoderModel, store: ParameterStore, ref: Reference): Promise<void> {
  const tjs = await import('@huggingface/transformers');
  const root = mkdtempSync(join(tmpdir(), 'pretrain-tjs-'));
  try {
    mkdirSync(join(root, 'm', 'onnx'), { recursive: true });
    for (const f of ['config.json', 'generation_config.json']) copyFileSync(join(fixture, f), join(root, 'm', f));
    writeFileSync(join(root, 'm', 'onnx', 'model.onnx'), exportDecoderOnnx(model, store));
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const lm = await tjs.AutoModelForCausalLM.from_pretrained('m', { local_files_only: true, dtype: 'fp32' });
    const ids = ref.generation.input_ids[0];
    const input = (v: number[]) => new tjs.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
    const out = (await lm.generate({
      input_ids: input(ids), attention_mask: input(ids.map(() => 1)), max_new_tokens: ref.generation.new_tokens[0].length, do_sample: false,
    })) as InstanceType<typeof tjs.Tensor>;
    assert.deepEqual(Array.from(out.data as BigInt64Array, Number).slice(ids.length), ref.generation.new_tokens[0]);
    await lm.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const hasTransformersJs = existsSync('node_modules/@huggingface/transformers');
test('gpt2 fixture: transformers.js generates HF\'s tokens from the exported onnx/model.onnx', { skip: !hasTransformersJs && '@huggingface/transformers is not installed' }, async () => {
  const { model, store, ref } = await gpt2();
  await checkTransformersJs('test/fixtures/hf/gpt2', model, store, ref);
});

const LLAMA_DIR = 'test/fixtures/hf/llama';
test('llama fixture: greedy through the KV cache reproduces HF new_tokens and scores (and the uncached loop, and transformers.js on the export)', { skip: !existsSync('src/models/llama.ts') && 'src/models/llama.ts not written yet' }, async () => {
  const { LlamaForCausalLM, llamaConfig } = await import('../../src/models/llama.js');
  const hf = JSON.parse(readFileSync(`${LLAMA_DIR}/config.json`, 'utf8')) as Record<string, number>;
  const model = new LlamaForCausalLM(llamaConfig({
    vocabSize: hf.vocab_size, hiddenSize: hf.hidden_size, intermediateSize: hf.intermediate_size,
    numHiddenLayers: hf.num_hidden_layers, numAttentionHeads: hf.num_attention_heads, numKeyValueHeads: hf.num_key_value_heads,
    maxPositionEmbeddings: hf.max_position_embeddings, rmsNormEps: hf.rms_norm_eps, ropeTheta: hf.rope_theta,
    bosTokenId: hf.bos_token_id, eosTokenId: hf.eos_token_id,
  }));
  const ref = JSON.parse(readFileSync(`${LLAMA_DIR}/reference.json`, 'utf8')) as Reference;
  const store = await loadStore(LLAMA_DIR, model);
  await checkAgainstHf(model, store, ref, 'llama');
  if (hasTransformersJs) await checkTransformersJs(LLAMA_DIR, model, store, ref);
});

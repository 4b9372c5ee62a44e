// The Hugging Face fixtures (test/fixtures/hf/<name>, copied from ../shared/fixtures/hf): their reference values,
// and loading their weights into a parameter store with every tensor checked by name and shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readSafetensorsF32 } from '../../src/io/files.js';
import type { ParamSpec } from '../../src/nn/index.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { storeFromWeights, type ParameterStore } from '../../src/runtime/store.js';
import { Forward } from '../../src/runtime/step.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Ctx, mulberry32 } from '../../src/nn/index.js';
import type { CausalLM } from '../../src/models/index.js';
import { gradients, type Graph, type Tensor } from '../../src/graph/index.js';

export interface RefTensor {
  shape: number[];
  data: number[];
}

export interface Reference {
  inputs: { input_ids: number[][]; attention_mask: number[][] };
  outputs: Record<string, RefTensor>;
  loss: { labels: number[][]; value: number; gradients: Record<string, RefTensor> };
  generation: { input_ids: number[][]; attention_mask: number[][]; max_new_tokens: number; new_tokens: number[][]; scores: RefTensor };
}

export const fixtureDir = (name: string): string => `test/fixtures/hf/${name}`;

export function readReference(name: string): Reference {
  return JSON.parse(readFileSync(`${fixtureDir(name)}/reference.json`, 'utf8')) as Reference;
}

export function readConfigJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixtureDir(name)}/config.json`, 'utf8')) as Record<string, unknown>;
}

/**
 * The fixture's weights for a model's parameters; each must be in the file with its shape. With `strict`, a
 * tensor the model does not use is an error too.
 */
export async function loadWeights(name: string, model: { parameters(): ParamSpec[] }, strict = false): Promise<ParameterStore> {
  const weights = await readSafetensorsF32(`${fixtureDir(name)}/model.safetensors`);
  const store = storeFromWeights(model.parameters(), weights, `${fixtureDir(name)}/model.safetensors`);
  if (strict) {
    const unused = [...weights.keys()].filter((n) => !store.params.has(n));
    assert.deepEqual(unused, [], `tensors in the file that the model does not use: ${unused.join(', ')}`);
  }
  return store;
}

export const i64 = (rows: number[][]): HostTensor => ({
  dtype: 'int64', shape: [rows.length, rows[0].length], data: BigInt64Array.from(rows.flat().map(BigInt)),
});

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A forward graph over [batch, seq] input_ids and attention_mask returning the logits and the final hidden state. */
export function logitsForward(model: CausalLM, store: ParameterStore): Promise<Forward> {
  return Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const { hidden } = model.forward(ctx, {
      inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
      attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
    });
    return { logits: model.logits(ctx, hidden), hidden };
  }, store);
}

/**
 * Greedy generation without a cache (the full forward re-run on the growing sequence), checked step by step
 * against the fixture's scores: returns the new tokens and the largest score difference.
 */
export async function greedyWithoutCache(fwd: Forward, gen: Reference['generation'], vocab: number): Promise<{ tokens: number[]; worst: number }> {
  const ids = [...gen.input_ids[0]];
  const tokens: number[] = [];
  let worst = 0;
  for (let step = 0; step < gen.max_new_tokens; step++) {
    const out = await fwd.run({ input_ids: i64([ids]), attention_mask: i64([ids.map(() => 1)]) }, ['logits']);
    const last = (out.logits.data as Float32Array).subarray((ids.length - 1) * vocab, ids.length * vocab);
    worst = Math.max(worst, maxAbs(last, gen.scores.data.slice(step * vocab, (step + 1) * vocab)));
    let best = 0;
    for (let j = 1; j < vocab; j++) if (last[j] > last[best]) best = j;
    tokens.push(best);
    ids.push(best);
  }
  return { tokens, worst };
}

/** The model's loss on the fixture batch and its gradients for the parameters the fixture names. */
export async function lossAndGradients(model: CausalLM, store: ParameterStore, ref: Reference): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const names = Object.keys(ref.loss.gradients);
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const loss = model.loss(ctx, g.input('input_ids', 'int64', [2, 16]), g.input('labels', 'int64', [2, 16]), g.input('attention_mask', 'int64', [2, 16]));
    const grads = gradients(loss, names.map((n) => g.params.get(n)!));
    return Object.fromEntries([['loss', loss], ...names.map((n, i) => [`grad/${n}`, grads[i]])]);
  }, store);
  const out = await fwd.run({ input_ids: i64(ref.inputs.input_ids), labels: i64(ref.loss.labels), attention_mask: i64(ref.inputs.attention_mask) });
  return { loss: (out.loss.data as Float32Array)[0], grads: Object.fromEntries(names.map((n) => [n, out[`grad/${n}`].data as Float32Array])) };
}

/**
 * Any model's outputs and the gradients of its `loss` output for the named parameters, on one batch: `build`
 * declares the graph inputs and returns the outputs (one of them `loss`).
 */
export async function outputsAndGradients(
  store: ParameterStore,
  build: (g: Graph) => Record<string, Tensor>,
  names: readonly string[],
  feeds: Record<string, HostTensor>,
): Promise<{ outputs: Record<string, HostTensor>; grads: Record<string, Float32Array> }> {
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const outs = build(g);
    const grads = gradients(outs.loss, names.map((n) => g.params.get(n)!));
    return { ...outs, ...Object.fromEntries(names.map((n, i) => [`grad/${n}`, grads[i]])) };
  }, store);
  const out = await fwd.run(feeds);
  return { outputs: out, grads: Object.fromEntries(names.map((n) => [n, out[`grad/${n}`].data as Float32Array])) };
}

/** Checks every gradient the reference stores, each within 1e-4 of that tensor's largest magnitude (README tolerance). */
export function assertGradients(grads: Record<string, Float32Array>, ref: Record<string, RefTensor>): void {
  for (const [n, r] of Object.entries(ref)) {
    const scale = Math.max(...r.data.map(Math.abs));
    const d = maxAbs(grads[n], r.data);
    assert.ok(d <= 1e-4 * scale, `${n}: ${d} vs scale ${scale}`);
  }
}

export interface FiniteDiffOptions {
  /** Sampled entries per parameter (default 3): the rest from entries with a nonzero gradient, one from the whole tensor. */
  entries?: number;
  seed?: number;
  /** Central-difference step (default 1e-4). */
  h?: number;
  /** Relative tolerance (default 1e-5) against max(|analytic|, |numeric|, floor). */
  rtol?: number;
  /** Floor of the scale above (default 1e-5): the float64 round-off of a difference quotient is ~1e-11. */
  floor?: number;
}

export interface FiniteDiffReport {
  /** The float64 loss and the float64 analytic gradient of every parameter. */
  loss: number;
  grads: Map<string, Float64Array>;
  params: number;
  entries: number;
  worstRel: number;
  worstAt: string;
}

/**
 * Every parameter's gradient against central finite differences of our own loss, all in float64: the model is built
 * with a float64 Ctx, its parameters (the store's float32 values, up-cast exactly) fed as graph inputs. For each
 * parameter a few seeded entries are checked: mostly among those with a nonzero analytic gradient (so embedding rows
 * the batch uses, not the many it does not), and one anywhere in the tensor (so a gradient missing altogether
 * shows as a nonzero numeric derivative against 0). Fails naming the parameter and entry.
 */
export async function checkEveryGradient(
  model: { parameters(): ParamSpec[] },
  store: ParameterStore,
  lossOf: (ctx: Ctx) => Tensor,
  feeds: Record<string, HostTensor>,
  opts: FiniteDiffOptions = {},
): Promise<FiniteDiffReport> {
  const { entries = 3, seed = 1, h = 1e-4, rtol = 1e-5, floor = 1e-5 } = opts;
  const specs = model.parameters();
  const names = specs.map((p) => p.name);
  const analytic = await Forward.compile(nodeBackend, (g) => {
    const loss = lossOf(new Ctx(g, false, 0, 'float64'));
    assert.equal(loss.dtype, 'float64', 'the loss is float64');
    const missing = names.filter((n) => !g.params.has(n));
    assert.deepEqual(missing, [], `parameters the loss does not use: ${missing.join(', ')}`);
    const grads = gradients(loss, names.map((n) => g.params.get(n)!));
    return Object.fromEntries([['loss', loss], ...names.map((n, i) => [`grad/${n}`, grads[i]])]);
  }, store, 'gradcheck_f64');
  const lossOnly = await Forward.compile(nodeBackend, (g) => ({ loss: lossOf(new Ctx(g, false, 0, 'float64')) }), store, 'loss_f64');
  const values = new Map(specs.map((p) => [p.name, Float64Array.from(store.get(p.name))]));
  const all = (): Record<string, HostTensor> => {
    const fd: Record<string, HostTensor> = { ...feeds };
    for (const p of specs) fd[p.name] = { dtype: 'float64', shape: p.shape, data: values.get(p.name)! };
    return fd;
  };
  const out = await analytic.run(all());
  const loss = (out.loss.data as Float64Array)[0];
  const grads = new Map(names.map((n) => [n, out[`grad/${n}`].data as Float64Array]));
  const lossAt = async () => ((await lossOnly.run(all(), ['loss'])).loss.data as Float64Array)[0];

  const rand = mulberry32(seed);
  const pick = (n: number) => Math.min(n - 1, Math.floor(rand() * n));
  let worstRel = 0;
  let worstAt = '';
  let checked = 0;
  for (const name of names) {
    const v = values.get(name)!;
    const g = grads.get(name)!;
    const nonzero = [...g.keys()].filter((j) => g[j] !== 0);
    assert.ok(nonzero.length > 0, `${name}: the analytic gradient is all zeros`);
    const chosen = new Set<number>([pick(v.length)]);
    for (let tries = 0; chosen.size < Math.min(entries, nonzero.length + 1) && tries < 100; tries++) chosen.add(nonzero[pick(nonzero.length)]);
    for (const j of chosen) {
      const orig = v[j];
      v[j] = orig + h;
      const lp = await lossAt();
      v[j] = orig - h;
      const lm = await lossAt();
      v[j] = orig;
      const numeric = (lp - lm) / (2 * h);
      const rel = Math.abs(numeric - g[j]) / Math.max(Math.abs(numeric), Math.abs(g[j]), floor);
      checked++;
      if (rel > worstRel) [worstRel, worstAt] = [rel, `${name}[${j}]`];
      assert.ok(rel <= rtol, `${name}[${j}]: analytic ${g[j]} vs central difference ${numeric} (relative error ${rel.toExponential(2)})`);
    }
  }
  return { loss, grads, params: names.length, entries: checked, worstRel, worstAt };
}

/**
 * Our float64 gradients against HF's (computed in float64 from the same float32 weights): reports, and asserts,
 * each within `tol` (default 1e-6) of that tensor's largest magnitude.
 */
export function assertF64Gradients(grads: ReadonlyMap<string, Float64Array>, ref: Record<string, RefTensor>, label: string, tol = 1e-6): void {
  for (const [n, r] of Object.entries(ref)) {
    const scale = Math.max(...r.data.map(Math.abs));
    const d = maxAbs(grads.get(n)!, r.data);
    console.log(`${label}: float64 grad ${n}: max diff ${(d / scale).toExponential(2)} of max |ref|`);
    assert.ok(d <= tol * scale, `${n}: float64 gradient differs from HF's by ${d} (scale ${scale})`);
  }
}

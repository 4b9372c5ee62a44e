// The Hugging Face fixtures (test/fixtures/hf/<name>, copied from ../shared/fixtures/hf): their reference values,
// and loading their weights into a parameter store with every tensor checked by name and shape.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readSafetensorsF32 } from '../../src/io/files.js';
import type { ParamSpec } from '../../src/nn/index.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { ParameterStore } from '../../src/runtime/store.js';

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
  const store = new ParameterStore();
  for (const p of model.parameters()) {
    const w = weights.get(p.name);
    assert.ok(w, `model.safetensors lacks ${p.name}`);
    assert.deepEqual(w.shape, p.shape, `${p.name}: file holds [${w.shape}], model expects [${p.shape}]`);
    store.set(p.name, w.shape, w.data);
  }
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

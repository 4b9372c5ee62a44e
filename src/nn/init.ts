// Parameter initialisation from a seed, in TypeScript (not in-graph), so a model's initial weights are a pure
// function of (specs, seed) and can be written straight into the parameter store.
import type { ParamSpec } from './module.js';

/** mulberry32: a small, fast 32-bit generator; good enough for initial weights. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function initParameters(specs: readonly ParamSpec[], seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const spec of specs) {
    // One generator per parameter, keyed by its name: adding a parameter does not change the others.
    let h = seed >>> 0;
    for (let i = 0; i < spec.name.length; i++) h = Math.imul(h ^ spec.name.charCodeAt(i), 0x01000193) >>> 0;
    const rand = mulberry32(h);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const init = spec.init;
    if (init.kind === 'ones') v.fill(1);
    else if (init.kind === 'uniform') for (let i = 0; i < n; i++) v[i] = (rand() * 2 - 1) * init.bound;
    else if (init.kind === 'normal')
      for (let i = 0; i < n; i += 2) {
        // Box-Muller: two normals per pair of uniforms.
        const r = Math.sqrt(-2 * Math.log(1 - rand()));
        const a = 2 * Math.PI * rand();
        v[i] = r * Math.cos(a) * init.std;
        if (i + 1 < n) v[i + 1] = r * Math.sin(a) * init.std;
      }
    out.set(spec.name, v);
  }
  return out;
}

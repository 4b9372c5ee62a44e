// The parameter store: every parameter and optimizer moment as a named Float32Array. Compiled graphs read from it
// and the train step swaps in the arrays ORT returns, so eval and inference graphs always see the latest values.
import type { HostTensor } from './backend.js';

export class ParameterStore {
  readonly params = new Map<string, Float32Array>();
  readonly shapes = new Map<string, number[]>();
  /** Optimizer state by name ("m/<param>", "v/<param>", "momentum/<param>"). */
  readonly state = new Map<string, Float32Array>();
  /** Optimizer updates applied so far. */
  step = 0;
  /** Micro-batches run so far: the counter behind dropout masks. */
  microStep = 0;
  /** Seed of the in-graph dropout hash. */
  seed = 0;

  set(name: string, shape: number[], data: Float32Array): void {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`parameter "${name}": ${data.length} values for shape [${shape}]`);
    const old = this.shapes.get(name);
    if (old && old.join() !== shape.join()) throw new Error(`parameter "${name}": shape [${shape}] differs from stored [${old}]`);
    this.params.set(name, data);
    this.shapes.set(name, shape);
  }

  get(name: string): Float32Array {
    const v = this.params.get(name);
    if (!v) throw new Error(`parameter "${name}" is not in the store`);
    return v;
  }

  tensor(name: string): HostTensor {
    return { dtype: 'float32', shape: this.shapes.get(name)!, data: this.get(name) };
  }

  stateTensor(key: string, param: string): HostTensor {
    let v = this.state.get(key);
    if (!v) {
      v = new Float32Array(this.get(param).length);
      this.state.set(key, v);
    }
    return { dtype: 'float32', shape: this.shapes.get(param)!, data: v };
  }

  names(): string[] {
    return [...this.params.keys()];
  }

  count(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.length;
    return n;
  }

  /** A deep copy (for tests and for comparing runs). */
  clone(): ParameterStore {
    const s = new ParameterStore();
    for (const [k, v] of this.params) s.set(k, this.shapes.get(k)!, v.slice());
    for (const [k, v] of this.state) s.state.set(k, v.slice());
    s.step = this.step;
    s.microStep = this.microStep;
    s.seed = this.seed;
    return s;
  }
}

/** A parameter's declaration as models give it (name, shape, init), for filling a store. */
export interface StoreSpec {
  name: string;
  shape: number[];
}

/**
 * The one place weights enter a store: each of `specs` from `weights` by name, its shape checked; a parameter the
 * weights lack comes from `fresh` (a new head on a pretrained body) or is an error. Errors list every problem and
 * name `source` (the file the weights came from).
 */
export function storeFromWeights(
  specs: readonly StoreSpec[],
  weights: ReadonlyMap<string, { shape: number[]; data: Float32Array }>,
  source: string,
  fresh?: ReadonlyMap<string, Float32Array>,
): ParameterStore {
  const store = new ParameterStore();
  const problems: string[] = [];
  for (const p of specs) {
    const w = weights.get(p.name);
    if (w && w.shape.join() !== p.shape.join()) problems.push(`"${p.name}" is [${w.shape}], the config implies [${p.shape}]`);
    else if (w) {
      // Reading `data` refuses a tensor of a non-float dtype (a U8 buffer, an I64 index) used as a parameter.
      let data: Float32Array;
      try {
        data = w.data;
      } catch (e) {
        problems.push(`"${p.name}": ${(e as Error).message}`);
        continue;
      }
      store.set(p.name, w.shape, data);
    }
    else if (fresh?.has(p.name)) store.set(p.name, p.shape, fresh.get(p.name)!);
    else problems.push(`missing "${p.name}" [${p.shape}]`);
  }
  if (problems.length) throw new Error(`${source} does not match the model's config:\n  ${problems.join('\n  ')}`);
  return store;
}

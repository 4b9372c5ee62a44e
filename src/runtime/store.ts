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

// What the runtime needs from an ONNX Runtime binding, and the one Session over both bindings: onnxruntime-node
// (node.ts) and onnxruntime-web (web.ts). Nothing here imports Node.
import type { AnyTypedArray, DType } from '../graph/index.js';

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: AnyTypedArray;
}

export interface SessionOptions {
  /** Record per-kernel timings (ORT's profiler); the bench uses it. */
  profile?: boolean;
  /** Write the model as ORT optimised it to this path (the profile bench reads fused nodes' names from it). */
  optimizedModelPath?: string;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; outputs are fresh arrays owned by the caller. */
  run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Stops profiling and returns the profile file's path, if profiling was on. */
  endProfiling?(): string | undefined;
  release(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  createSession(model: Uint8Array, opts?: SessionOptions): Promise<Session>;
}

export function hostTensor(dtype: DType, shape: number[], data: AnyTypedArray): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor data has ${data.length} elements but shape [${shape}] needs ${n}`);
  return { dtype, shape, data };
}

export function scalarF32(v: number): HostTensor {
  return { dtype: 'float32', shape: [], data: Float32Array.of(v) };
}

export function scalarI64(v: number): HostTensor {
  return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) };
}

/** What sessions of both onnxruntime-node and onnxruntime-web are (onnxruntime-common's InferenceSession), structurally. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}
export interface OrtSessionLike<T extends OrtTensorLike> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, T>, fetches: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  run(feeds: Record<string, T>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** A Session over an ORT session of either package; `tensor` makes that package's input tensors. */
export class OrtSession<T extends OrtTensorLike> implements Session {
  constructor(protected readonly s: OrtSessionLike<T>, private readonly tensor: (t: HostTensor) => T) {}
  get inputNames() {
    return this.s.inputNames;
  }
  get outputNames() {
    return this.s.outputNames;
  }
  async run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>> {
    const f: Record<string, T> = {};
    for (const name of this.s.inputNames) {
      const t = feeds[name];
      if (!t) throw new Error(`missing input "${name}" (have: ${Object.keys(feeds).join(', ')})`);
      f[name] = this.tensor(t);
    }
    const out = fetch ? await this.s.run(f, [...fetch]) : await this.s.run(f);
    const res: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { dtype: v.type as DType, shape: [...v.dims], data: v.data as HostTensor['data'] };
    return res;
  }
  release(): Promise<void> {
    return this.s.release();
  }
}

// What the runtime needs from an ONNX Runtime binding. onnxruntime-node implements it in node.ts; a browser
// build would implement it over onnxruntime-web. Nothing here imports Node.
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

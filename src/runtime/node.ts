// The onnxruntime-node backend. Sessions use every available core for intra-op parallelism and ORT's full graph
// optimisation (it fuses Transpose+MatMul into FusedMatMul, folds constant shapes, and so on).
import os from 'node:os';
import ort from 'onnxruntime-node';
import type { DType } from '../graph/index.js';
import { OrtSession, type Backend, type Session, type SessionOptions } from './backend.js';

const ortType: Record<DType, ort.Tensor.Type> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool',
};

class NodeSession extends OrtSession<ort.Tensor> {
  constructor(s: ort.InferenceSession) {
    super(s, (t) => new ort.Tensor(ortType[t.dtype], t.data as ort.Tensor.DataType, t.shape));
  }
  endProfiling(): string | undefined {
    // onnxruntime-node's typings lack endProfiling's return value; it writes the file and returns nothing.
    (this.s as unknown as { endProfiling(): void }).endProfiling();
    return undefined;
  }
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * The execution provider: 'cpu' unless PRETRAIN_EXECUTION_PROVIDER names another that this onnxruntime-node build
 * has (e.g. 'cuda' after installing the CUDA build; see the README). ORT falls back to the CPU for ops the provider
 * lacks.
 */
const provider = process.env.PRETRAIN_EXECUTION_PROVIDER ?? 'cpu';

/** Intra-op threads: PRETRAIN_INTRA_OP_THREADS, else every available core. */
export function intraOpThreads(): number {
  const n = Number(process.env.PRETRAIN_INTRA_OP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableCores();
}

/**
 * ORT's intra-op threads spin while waiting for work by default. Here they do not: `npm run bench -- threads`
 * measured no loss on a quiet machine (3070 and 3028 against 2876 and 2154 tokens/s with spinning) and 18% more
 * tokens/s beside a busy process (1950 against 1651), where a spinning thread takes time the other process wants.
 * PRETRAIN_ORT_SPINNING=1 turns spinning back on (session.intra_op.allow_spinning).
 */
const spinning = process.env.PRETRAIN_ORT_SPINNING === '1' ? '1' : '0';

export const nodeBackend: Backend = {
  name: `onnxruntime-node (${provider})`,
  async createSession(model: Uint8Array, opts: SessionOptions = {}): Promise<Session> {
    const s = await ort.InferenceSession.create(model, {
      executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
      intraOpNumThreads: intraOpThreads(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableCpuMemArena: process.env.PRETRAIN_ORT_ARENA !== '0',
      // ORT's memory pattern allocates later runs' tensors as one planned block while the arena keeps the first
      // run's chunks: about twice the peak memory (docs/engine.md, Memory). Off unless PRETRAIN_ORT_MEMPATTERN=1.
      enableMemPattern: process.env.PRETRAIN_ORT_MEMPATTERN === '1',
      enableProfiling: opts.profile ?? false,
      profileFilePrefix: opts.profile ? `${os.tmpdir()}/pretrain-ort-profile` : undefined,
      ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
      extra: { session: { intra_op: { allow_spinning: spinning } } },
    });
    return new NodeSession(s);
  },
};

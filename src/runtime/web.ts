// The onnxruntime-web backend: the same training and inference graphs as onnxruntime-node, run by ORT's WASM build
// (always available) or its WebGPU provider (where the browser offers a GPU adapter). Nothing here imports Node, so
// the browser bundle uses it; in Node, `onnxruntime-web` resolves to its own WASM build, which the tests use.
import * as ort from 'onnxruntime-web';
import { OrtSession, type Backend, type Session } from './backend.js';

export interface WebBackendOptions {
  /** 'wasm' (default) or 'webgpu' (ORT runs the ops WebGPU lacks on WASM). */
  executionProvider?: 'wasm' | 'webgpu';
  /** WASM threads; more than 1 needs a cross-origin isolated page (COOP same-origin, COEP require-corp). Default: ORT's choice. */
  threads?: number;
  /** Where ORT finds its .wasm/.mjs files (a URL prefix ending in '/'); default: next to the ORT module. */
  wasmPaths?: string;
}

/** A Backend over onnxruntime-web. ORT's global WASM settings are set from the options before the first session. */
export function webBackend(opts: WebBackendOptions = {}): Backend {
  const provider = opts.executionProvider ?? 'wasm';
  if (opts.threads !== undefined) {
    if (!(Number.isInteger(opts.threads) && opts.threads >= 1)) throw new Error(`webBackend: threads must be an integer >= 1, got ${opts.threads}`);
    ort.env.wasm.numThreads = opts.threads;
  }
  if (opts.wasmPaths !== undefined) ort.env.wasm.wasmPaths = opts.wasmPaths;
  return {
    name: `onnxruntime-web (${provider}${opts.threads ? `, ${opts.threads} threads` : ''})`,
    async createSession(model: Uint8Array): Promise<Session> {
      const s = await ort.InferenceSession.create(model, {
        executionProviders: provider === 'wasm' ? ['wasm'] : [provider, 'wasm'],
        graphOptimizationLevel: 'all',
      });
      return new OrtSession<ort.Tensor>(s, (t) => new ort.Tensor(t.dtype, t.data as ort.Tensor.DataType, t.shape));
    },
  };
}

// The onnxruntime-web backend: the same training and inference graphs as onnxruntime-node, run by ORT's WASM build
// (always available) or its WebGPU provider (where the browser offers a GPU adapter). Nothing here imports Node, so
// the browser bundle uses it; in Node, `onnxruntime-web` resolves to its own WASM build, which the tests use.
import * as ort from 'onnxruntime-web';
import type { DType } from '../graph/index.js';
import type { Backend, HostTensor, Session } from './backend.js';

export interface WebBackendOptions {
  /** 'wasm' (default) or 'webgpu' (ORT runs the ops WebGPU lacks on WASM). */
  executionProvider?: 'wasm' | 'webgpu';
  /** WASM threads; more than 1 needs a cross-origin isolated page (COOP same-origin, COEP require-corp). Default: ORT's choice. */
  threads?: number;
  /** Where ORT finds its .wasm/.mjs files (a URL prefix ending in '/'); default: next to the ORT module. */
  wasmPaths?: string;
}

function fromOrt(t: ort.Tensor): HostTensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as HostTensor['data'] };
}

class WebSession implements Session {
  constructor(private readonly s: ort.InferenceSession) {}
  get inputNames() {
    return this.s.inputNames;
  }
  get outputNames() {
    return this.s.outputNames;
  }
  async run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const name of this.s.inputNames) {
      const t = feeds[name];
      if (!t) throw new Error(`missing input "${name}" (have: ${Object.keys(feeds).join(', ')})`);
      f[name] = new ort.Tensor(t.dtype, t.data as ort.Tensor.DataType, t.shape);
    }
    const out = fetch ? await this.s.run(f, [...fetch]) : await this.s.run(f);
    const res: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
    return res;
  }
  release(): Promise<void> {
    return this.s.release();
  }
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
      return new WebSession(s);
    },
  };
}

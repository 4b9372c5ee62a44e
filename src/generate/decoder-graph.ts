// Inference graphs for causal decoders, with and without a KV cache, under the input/output names that
// transformers.js feeds (design.md, "Interoperability"): input_ids, attention_mask, position_ids,
// past_key_values.{i}.key|value -> logits, present.{i}.key|value. Portable: no Node imports.
import * as F from '../graph/index.js';
import { Graph, toOnnx, type Tensor } from '../graph/index.js';
import { ModelProto } from '../graph/onnx-proto.js';
import { Ctx } from '../nn/index.js';
import type { DecoderInputs, DecoderOutputs } from '../models/gpt2.js';
import type { ParameterStore } from '../runtime/store.js';

/** A decoder stack plus its LM head: what the graphs below are built from. */
export interface CausalLM {
  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs;
  logits(ctx: Ctx, hidden: Tensor): Tensor;
}

interface DecoderStack {
  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs;
}
type LMHead = { logits(ctx: Ctx, hidden: Tensor): Tensor };

/**
 * The model classes as they are written: GPT2LMHeadModel keeps its stack in `.transformer`, LlamaForCausalLM
 * in `.model` (HF's attribute names); a CausalLM is taken as is.
 */
export type DecoderModel = CausalLM | (LMHead & { transformer: DecoderStack }) | (LMHead & { model: DecoderStack });

export function asCausalLM(m: DecoderModel): CausalLM {
  const stack: DecoderStack | undefined =
    'transformer' in m ? m.transformer : 'model' in m && typeof m.model?.forward === 'function' ? m.model : undefined;
  if (!stack) return m as CausalLM;
  return { forward: (ctx, inp) => stack.forward(ctx, inp), logits: (ctx, h) => m.logits(ctx, h) };
}

/** The shape of the cache: one key and one value [batch, kvHeads, positions, headDim] per layer. */
export interface CacheLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
}

/** Reads the cache layout off a throwaway build of the model (so it works for any decoder, whatever its config). */
export function cacheLayout(model: DecoderModel): CacheLayout {
  const lm = asCausalLM(model);
  const g = new Graph('probe');
  const ctx = new Ctx(g);
  const inputIds = g.input('input_ids', 'int64', [1, 2]);
  const out = lm.forward(ctx, { inputIds, positionIds: g.input('position_ids', 'int64', [1, 2]) });
  const [, kvHeads, , headDim] = out.presents[0]?.key.shape ?? [];
  const vocab = lm.logits(ctx, out.hidden).shape.at(-1);
  if (typeof kvHeads !== 'number' || typeof headDim !== 'number' || typeof vocab !== 'number')
    throw new Error('cacheLayout: the model returned no presents, or their heads/head size are not numbers');
  return { layers: out.presents.length, kvHeads, headDim, vocab };
}

/** transformers.js's dimension names. */
export const DIMS = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'total_sequence_length',
} as const;

export const pastName = (layer: number, kind: 'key' | 'value') => `past_key_values.${layer}.${kind}`;
export const presentName = (layer: number, kind: 'key' | 'value') => `present.${layer}.${kind}`;

export interface DecoderGraphOptions {
  /** Declare past_key_values inputs and present outputs (default true). */
  cache?: boolean;
  /**
   * Only the last position's logits ([batch, 1, vocab]): all that generation reads, and it spares the LM head
   * for every prompt position. Exports keep every position, as transformers.js expects.
   */
  lastLogitsOnly?: boolean;
}

/**
 * Builds the inference graph into `g` and returns its outputs by name (an OutputsBuilder for Forward.compile).
 * With the cache, attention_mask spans past + new positions ("total_sequence_length"); without it, only the
 * input. position_ids are always fed: with left padding they are not 0..T-1.
 */
export function buildDecoderGraph(g: Graph, model: DecoderModel, opts: DecoderGraphOptions = {}): Record<string, Tensor> {
  const lm = asCausalLM(model);
  const cache = opts.cache ?? true;
  const layout = cache ? cacheLayout(model) : undefined;
  const ctx = new Ctx(g);
  const inputIds = g.input('input_ids', 'int64', [DIMS.batch, DIMS.seq]);
  const attentionMask = g.input('attention_mask', 'int64', [DIMS.batch, cache ? DIMS.total : DIMS.seq]);
  const positionIds = g.input('position_ids', 'int64', [DIMS.batch, DIMS.seq]);
  const past = layout
    ? Array.from({ length: layout.layers }, (_, i) => {
        const shape = [DIMS.batch, layout.kvHeads, DIMS.past, layout.headDim];
        return { key: g.input(pastName(i, 'key'), 'float32', shape), value: g.input(pastName(i, 'value'), 'float32', shape) };
      })
    : undefined;
  const out = lm.forward(ctx, { inputIds, attentionMask, positionIds, past });
  let hidden = out.hidden;
  if (opts.lastLogitsOnly) {
    const [b, , h] = hidden.shape;
    hidden = F.withShape(F.slice(hidden, 1, -1), [b, 1, h]);
  }
  const outputs: Record<string, Tensor> = { logits: lm.logits(ctx, hidden) };
  if (cache)
    out.presents.forEach((p, i) => {
      outputs[presentName(i, 'key')] = p.key;
      outputs[presentName(i, 'value')] = p.value;
    });
  return outputs;
}

export interface ExportOptions {
  /** Export the KV-cache graph (default true: transformers.js generates only through a cache). */
  cache?: boolean;
  /** Only the last position's logits (see DecoderGraphOptions); not for transformers.js. */
  lastLogitsOnly?: boolean;
  /** Written into the model's metadata_props. */
  metadata?: Record<string, string>;
}

/**
 * The inference graph as ONNX bytes with the parameters baked in as initializers under their HF names, ready to
 * be written as a folder's onnx/model.onnx. Our graphs take parameters as inputs (the store feeds them); here
 * they are moved from the inputs to the initializers after lowering, so the graph layer is untouched.
 */
export function exportDecoderOnnx(model: DecoderModel, store: ParameterStore, opts: ExportOptions = {}): Uint8Array {
  const g = new Graph(opts.cache === false ? 'decoder' : 'decoder_with_past');
  for (const [name, t] of Object.entries(buildDecoderGraph(g, model, { cache: opts.cache, lastLogitsOnly: opts.lastLogitsOnly }))) g.output(name, t);
  return bakeParameters(toOnnx(g, { metadata: opts.metadata }).bytes, store, [...g.params.keys()]);
}

interface TensorProtoLike {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}
interface ModelProtoLike {
  graph: { input: { name: string }[]; initializer: TensorProtoLike[] };
}

/** Moves the named graph inputs into the initializers, with the values held in `store`. */
export function bakeParameters(bytes: Uint8Array, store: ParameterStore, names: readonly string[]): Uint8Array {
  const model = ModelProto.decode(bytes) as unknown as ModelProtoLike;
  const bake = new Set(names);
  model.graph.input = model.graph.input.filter((i) => !bake.has(i.name));
  for (const name of names) {
    const v = store.get(name);
    const shape = store.shapes.get(name)!;
    // ONNX raw_data is little-endian float32, as our arrays are in memory.
    model.graph.initializer.push({ name, dims: shape, data_type: 1, raw_data: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) });
  }
  return ModelProto.encode(model as unknown as ReturnType<typeof ModelProto.create>).finish();
}

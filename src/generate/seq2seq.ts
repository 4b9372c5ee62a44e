// Generation for encoder-decoders (T5): the encoder runs once; the decoder then runs step by step from
// decoder_start_token_id. With the cache, each step feeds only the newest token plus the self-attention keys/values
// of the earlier steps, and the cross-attention keys/values, which are computed once from the encoder output (in
// the encoder graph). Without it, each step re-reads the whole decoder sequence against the encoder output (kept
// for comparison and tests). Greedy by default, or sampled (temperature, top-k, top-p, repetition penalty).
// Graph names follow transformers.js's T5 exports: past_key_values.{i}.decoder|encoder.key|value,
// present.{i}.decoder|encoder.key|value, encoder_hidden_states, encoder_attention_mask. Portable: no Node imports.
import * as F from '../graph/index.js';
import { Graph, toOnnx, type Tensor } from '../graph/index.js';
import { Ctx } from '../nn/index.js';
import type { KV, Seq2SeqLM, T5DecodeOutputs } from '../models/t5.js';
import type { Backend, HostTensor } from '../runtime/backend.js';
import { Forward } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import { sampleNextToken, seededRandom, type SamplingOptions } from './sampling.js';
import { ModelProto } from '../graph/onnx-proto.js';
import { bakeParameters } from './decoder-graph.js';
import { beamSearch, checkBeamOptions, gatherRows, repeatRows, type BeamSearchOptions } from './beam.js';

export type { Seq2SeqLM } from '../models/t5.js';

/** transformers.js's dimension names for T5. */
export const SEQ2SEQ_DIMS = {
  batch: 'batch_size',
  encoder: 'encoder_sequence_length',
  decoder: 'decoder_sequence_length',
  past: 'past_decoder_sequence_length',
} as const;

export const seq2seqPastName = (layer: number, side: 'decoder' | 'encoder', kind: 'key' | 'value') => `past_key_values.${layer}.${side}.${kind}`;
export const seq2seqPresentName = (layer: number, side: 'decoder' | 'encoder', kind: 'key' | 'value') => `present.${layer}.${side}.${kind}`;

/**
 * The encoder graph: input_ids, attention_mask [batch, encoder_sequence_length] -> last_hidden_state and, with
 * `crossKV`, every decoder layer's cross-attention keys/values as present.{i}.encoder.key|value.
 */
export function buildSeq2SeqEncoderGraph(g: Graph, model: Seq2SeqLM, opts: { crossKV?: boolean } = {}): Record<string, Tensor> {
  const ctx = new Ctx(g);
  const dims = [SEQ2SEQ_DIMS.batch, SEQ2SEQ_DIMS.encoder];
  const hidden = model.encode(ctx, { inputIds: g.input('input_ids', 'int64', dims), attentionMask: g.input('attention_mask', 'int64', dims) });
  const out: Record<string, Tensor> = { last_hidden_state: hidden };
  if (opts.crossKV)
    model.crossKeyValues(ctx, hidden).forEach((kv, i) => {
      out[seq2seqPresentName(i, 'encoder', 'key')] = kv.key;
      out[seq2seqPresentName(i, 'encoder', 'value')] = kv.value;
    });
  return out;
}

/**
 * One decoder step. With the cache: input_ids [batch, decoder_sequence_length] (the new positions),
 * encoder_attention_mask, past_key_values.{i}.decoder.* [batch, heads, past_decoder_sequence_length, head_dim] and
 * past_key_values.{i}.encoder.* [batch, heads, encoder_sequence_length, head_dim] -> logits, present.{i}.decoder.*.
 * Without it: input_ids (the whole decoder sequence), encoder_attention_mask and encoder_hidden_states -> logits.
 * `lastLogitsOnly` keeps only the last position's logits [batch, 1, vocab].
 */
export function buildSeq2SeqDecoderGraph(g: Graph, model: Seq2SeqLM, opts: { cache?: boolean; lastLogitsOnly?: boolean } = {}): Record<string, Tensor> {
  const cache = opts.cache ?? true;
  const { layers, heads, headDim } = model.cache;
  const D = SEQ2SEQ_DIMS;
  const ctx = new Ctx(g);
  const decoderInputIds = g.input('input_ids', 'int64', [D.batch, D.decoder]);
  const encoderAttentionMask = g.input('encoder_attention_mask', 'int64', [D.batch, D.encoder]);
  let out: T5DecodeOutputs;
  if (cache) {
    const kv = (i: number, side: 'decoder' | 'encoder', len: string): KV => ({
      key: g.input(seq2seqPastName(i, side, 'key'), 'float32', [D.batch, heads, len, headDim]),
      value: g.input(seq2seqPastName(i, side, 'value'), 'float32', [D.batch, heads, len, headDim]),
    });
    const past = Array.from({ length: layers }, (_, i) => kv(i, 'decoder', D.past));
    const crossKV = Array.from({ length: layers }, (_, i) => kv(i, 'encoder', D.encoder));
    out = model.decode(ctx, { decoderInputIds, encoderAttentionMask, past, crossKV });
  } else {
    const encoderHidden = g.input('encoder_hidden_states', 'float32', [D.batch, D.encoder, model.cache.hidden]);
    out = model.decode(ctx, { decoderInputIds, encoderAttentionMask, encoderHidden });
  }
  let hidden = out.hidden;
  if (opts.lastLogitsOnly) {
    const [b, , h] = hidden.shape;
    hidden = F.withShape(F.slice(hidden, 1, -1), [b, 1, h]);
  }
  const outputs: Record<string, Tensor> = { logits: model.lmLogits(ctx, hidden) };
  if (cache)
    out.presents.forEach((p, i) => {
      outputs[seq2seqPresentName(i, 'decoder', 'key')] = p.key;
      outputs[seq2seqPresentName(i, 'decoder', 'value')] = p.value;
    });
  return outputs;
}

/**
 * transformers.js's merged decoder (onnx/decoder_model_merged.onnx): input_ids (the new decoder positions),
 * encoder_attention_mask, encoder_hidden_states, use_cache_branch (bool [1]) and every layer's
 * past_key_values.{i}.decoder|encoder.key|value -> logits, present.{i}.decoder|encoder.key|value.
 *
 * No If op. What transformers.js 4.x feeds (models/modeling_utils.js): `encoder_hidden_states` on every step
 * (seq2seq_forward sets it each time); on the first step, use_cache_branch false and zero-size pasts made from the
 * declared shapes (every symbolic dimension but batch_size becomes 0); afterwards the previous `present.*.decoder`
 * outputs as pasts, and for `present.*.encoder` it keeps the first step's outputs (getPastKeyValues replaces later
 * ones by the previous pasts). So one graph serves both branches: it always computes the cross-attention
 * keys/values from encoder_hidden_states (they are what the first step must output, and later steps' copies are
 * discarded), and its self-attention concatenates the decoder pasts, which are empty on the first step.
 * use_cache_branch and the encoder pasts are declared, as in Optimum's merged export, but not read (the lowering
 * drops an unread input without symbolic dimensions, so exportSeq2SeqOnnx adds use_cache_branch back to the ONNX
 * inputs). The price is two matrix products per layer over the encoder length on each step, which an If would spare.
 */
export function buildSeq2SeqMergedDecoderGraph(g: Graph, model: Seq2SeqLM): Record<string, Tensor> {
  const { layers, heads, headDim, hidden } = model.cache;
  const D = SEQ2SEQ_DIMS;
  const ctx = new Ctx(g);
  const decoderInputIds = g.input('input_ids', 'int64', [D.batch, D.decoder]);
  const encoderAttentionMask = g.input('encoder_attention_mask', 'int64', [D.batch, D.encoder]);
  const encoderHidden = g.input('encoder_hidden_states', 'float32', [D.batch, D.encoder, hidden]);
  const past: KV[] = [];
  for (let i = 0; i < layers; i++) {
    const kv = (side: 'decoder' | 'encoder', len: string): KV => ({
      key: g.input(seq2seqPastName(i, side, 'key'), 'float32', [D.batch, heads, len, headDim]),
      value: g.input(seq2seqPastName(i, side, 'value'), 'float32', [D.batch, heads, len, headDim]),
    });
    past.push(kv('decoder', D.past));
    kv('encoder', 'past_encoder_sequence_length');
  }
  const crossKV = model.crossKeyValues(ctx, encoderHidden);
  const out = model.decode(ctx, { decoderInputIds, encoderAttentionMask, past, crossKV });
  const outputs: Record<string, Tensor> = { logits: model.lmLogits(ctx, out.hidden) };
  out.presents.forEach((p, i) => {
    outputs[seq2seqPresentName(i, 'decoder', 'key')] = p.key;
    outputs[seq2seqPresentName(i, 'decoder', 'value')] = p.value;
    outputs[seq2seqPresentName(i, 'encoder', 'key')] = crossKV[i].key;
    outputs[seq2seqPresentName(i, 'encoder', 'value')] = crossKV[i].value;
  });
  return outputs;
}

/**
 * The transformers.js export of an encoder-decoder: onnx/encoder_model.onnx (input_ids, attention_mask ->
 * last_hidden_state) and onnx/decoder_model_merged.onnx (buildSeq2SeqMergedDecoderGraph), with the parameters
 * baked in as initializers under their HF names. Written next to config.json (is_encoder_decoder,
 * decoder_start_token_id, eos/pad ids) and generation_config.json.
 */
export function exportSeq2SeqOnnx(model: Seq2SeqLM, store: ParameterStore, opts: { metadata?: Record<string, string> } = {}): Record<string, Uint8Array> {
  const bake = (name: string, build: (g: Graph) => Record<string, Tensor>): Uint8Array => {
    const g = new Graph(name);
    for (const [n, t] of Object.entries(build(g))) g.output(n, t);
    return bakeParameters(toOnnx(g, { metadata: opts.metadata }).bytes, store, [...g.params.keys()]);
  };
  return {
    'onnx/encoder_model.onnx': bake('encoder_model', (g) => buildSeq2SeqEncoderGraph(g, model)),
    'onnx/decoder_model_merged.onnx': withUseCacheBranch(bake('decoder_model_merged', (g) => buildSeq2SeqMergedDecoderGraph(g, model))),
  };
}

/** Declares the (unread) input use_cache_branch, bool [1], which transformers.js feeds to a merged decoder. */
function withUseCacheBranch(bytes: Uint8Array): Uint8Array {
  const m = ModelProto.decode(bytes) as unknown as { graph: { input: unknown[] } };
  const BOOL = 9;
  m.graph.input.push({ name: 'use_cache_branch', type: { tensor_type: { elem_type: BOOL, shape: { dim: [{ dim_value: 1 }] } } } });
  return ModelProto.encode(m as unknown as ReturnType<typeof ModelProto.create>).finish();
}

export interface Seq2SeqGeneratorOptions {
  /** Generate through the KV cache (default true). */
  cache?: boolean;
}

export interface Seq2SeqGenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** The decoder's first token (T5: the pad id, 0). */
  decoderStartTokenId: number;
  /** Stop a row when it produces one of these (kept in its tokens, as HF does). */
  eosTokenId?: number | readonly number[];
  /** Pads shorter prompts (on the right, masked) and the rows that have finished (default 0). */
  padTokenId?: number;
  /** Seeds the sampler (sampling only; default 0). */
  seed?: number;
  /** Return the raw last-position logits of every step. */
  returnLogits?: boolean;
}

export interface Seq2SeqResult {
  /** New tokens per prompt (decoder start excluded). */
  tokens: number[][];
  finishReason: ('eos' | 'length')[];
  /** logits[step][row], when returnLogits. */
  logits?: Float32Array[][];
  /** Decoder runs (the encoder runs once). */
  runs: number;
}

export interface Seq2SeqBeamOptions extends BeamSearchOptions {
  /** The decoder's first token (T5: the pad id, 0). */
  decoderStartTokenId: number;
  /** Pads shorter encoder inputs (on the right, masked) and the rows of finished prompts (default 0). */
  padTokenId?: number;
}

export interface Seq2SeqBeamResult {
  /** The best hypothesis per prompt: new tokens (EOS included when it ended on one, decoder start excluded). */
  tokens: number[][];
  /** HF's sequences_scores: sum of log-probs / generated_len ** lengthPenalty. */
  scores: number[];
  finishReason: ('eos' | 'length')[];
  /** Decoder runs (the encoder runs once, on the prompts, not on every beam). */
  runs: number;
}

const i64 = (shape: number[], values: readonly number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) });

export class Seq2SeqGenerator {
  private constructor(
    private readonly model: Seq2SeqLM,
    private readonly encoder: Forward,
    private readonly decoder: Forward,
    readonly cache: boolean,
  ) {}

  static async create(backend: Backend, model: Seq2SeqLM, store: ParameterStore, opts: Seq2SeqGeneratorOptions = {}): Promise<Seq2SeqGenerator> {
    const cache = opts.cache ?? true;
    const encoder = await Forward.compile(backend, (g) => buildSeq2SeqEncoderGraph(g, model, { crossKV: cache }), store, 'encoder');
    const decoder = await Forward.compile(
      backend, (g) => buildSeq2SeqDecoderGraph(g, model, { cache, lastLogitsOnly: true }), store, cache ? 'decoder_with_past' : 'decoder',
    );
    return new Seq2SeqGenerator(model, encoder, decoder, cache);
  }

  /** Generates from one encoder input (number[]) or several (number[][], right-padded and masked into one batch). */
  async generate(prompts: readonly number[] | readonly (readonly number[])[], opts: Seq2SeqGenerateOptions): Promise<Seq2SeqResult> {
    const list = (prompts.length > 0 && Array.isArray(prompts[0]) ? prompts : [prompts]) as readonly (readonly number[])[];
    if (list.length === 0 || list.some((p) => p.length === 0)) throw new Error('seq2seq generate: every input needs at least one token');
    if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0)) throw new Error(`maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
    const n = list.length;
    const pad = opts.padTokenId ?? 0;
    const eos = new Set(opts.eosTokenId === undefined ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId);
    const { layers, heads, headDim, vocab } = this.model.cache;
    const width = Math.max(...list.map((p) => p.length));
    const encIds = list.flatMap((p) => [...p, ...Array<number>(width - p.length).fill(pad)]);
    const encMask = i64([n, width], list.flatMap((p) => [...Array<number>(p.length).fill(1), ...Array<number>(width - p.length).fill(0)]));
    const enc = await this.encoder.run({ input_ids: i64([n, width], encIds), attention_mask: encMask });

    const tokens: number[][] = list.map(() => []);
    const finishReason: ('eos' | 'length')[] = list.map(() => 'length');
    const done = new Array<boolean>(n).fill(false);
    const rngs = list.map((_, r) => seededRandom(((opts.seed ?? 0) + 0x9e3779b9 * (r + 1)) >>> 0));
    const logits: Float32Array[][] = [];
    const seqs = list.map(() => [opts.decoderStartTokenId]);
    let past: Record<string, HostTensor> = {};
    const cross: Record<string, HostTensor> = {};
    if (this.cache) {
      const empty: HostTensor = { dtype: 'float32', shape: [n, heads, 0, headDim], data: new Float32Array(0) };
      for (let i = 0; i < layers; i++)
        for (const kind of ['key', 'value'] as const) {
          past[seq2seqPastName(i, 'decoder', kind)] = empty;
          cross[seq2seqPastName(i, 'encoder', kind)] = enc[seq2seqPresentName(i, 'encoder', kind)];
        }
    }
    let runs = 0;
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const feedIds = this.cache ? seqs.map((s) => [s[s.length - 1]]) : seqs;
      const t = feedIds[0].length;
      const res = await this.decoder.run({
        input_ids: i64([n, t], feedIds.flat()),
        encoder_attention_mask: encMask,
        ...(this.cache ? { ...past, ...cross } : { encoder_hidden_states: enc.last_hidden_state }),
      });
      runs++;
      const all = res.logits.data as Float32Array; // [n, 1, vocab]
      const stepLogits: Float32Array[] = [];
      for (let r = 0; r < n; r++) {
        const row = all.subarray(r * vocab, (r + 1) * vocab);
        if (opts.returnLogits) stepLogits.push(row.slice());
        if (done[r]) continue;
        const token = sampleNextToken(row, { doSample: false, ...opts }, rngs[r], [opts.decoderStartTokenId, ...tokens[r]]);
        tokens[r].push(token);
        if (eos.has(token)) {
          finishReason[r] = 'eos';
          done[r] = true;
        }
      }
      if (opts.returnLogits) logits.push(stepLogits);
      if (done.every(Boolean)) break;
      // Finished rows keep running on padding, which nothing reads.
      for (let r = 0; r < n; r++) seqs[r].push(tokens[r].length === step + 1 ? tokens[r][step] : pad);
      if (this.cache) {
        past = {};
        for (let i = 0; i < layers; i++)
          for (const kind of ['key', 'value'] as const) past[seq2seqPastName(i, 'decoder', kind)] = res[seq2seqPresentName(i, 'decoder', kind)];
      }
    }
    return { tokens, finishReason, logits: opts.returnLogits ? logits : undefined, runs };
  }

  /**
   * Beam search with HF generate(num_beams=N)'s semantics (see beam.ts). The encoder runs once per prompt; its
   * output (the cross-attention keys/values with the cache, the hidden states without) and mask are repeated for
   * each of the prompt's beams, and the decoder's self-attention cache is reordered by beam every step.
   */
  async beamSearch(prompts: readonly number[] | readonly (readonly number[])[], opts: Seq2SeqBeamOptions): Promise<Seq2SeqBeamResult> {
    checkBeamOptions(opts);
    const list = (prompts.length > 0 && Array.isArray(prompts[0]) ? prompts : [prompts]) as readonly (readonly number[])[];
    if (list.length === 0 || list.some((p) => p.length === 0)) throw new Error('seq2seq beamSearch: every input needs at least one token');
    const B = opts.numBeams;
    const np = list.length;
    const n = np * B;
    const pad = opts.padTokenId ?? 0;
    const { layers, heads, headDim, vocab } = this.model.cache;
    const width = Math.max(...list.map((p) => p.length));
    const encIds = list.flatMap((p) => [...p, ...Array<number>(width - p.length).fill(pad)]);
    const encMask1 = i64([np, width], list.flatMap((p) => [...Array<number>(p.length).fill(1), ...Array<number>(width - p.length).fill(0)]));
    const enc = await this.encoder.run({ input_ids: i64([np, width], encIds), attention_mask: encMask1 });
    const encMask = repeatRows(encMask1, B);
    const cross: Record<string, HostTensor> = {};
    let past: Record<string, HostTensor> = {};
    if (this.cache) {
      const empty: HostTensor = { dtype: 'float32', shape: [n, heads, 0, headDim], data: new Float32Array(0) };
      for (let i = 0; i < layers; i++)
        for (const kind of ['key', 'value'] as const) {
          past[seq2seqPastName(i, 'decoder', kind)] = empty;
          cross[seq2seqPastName(i, 'encoder', kind)] = repeatRows(enc[seq2seqPresentName(i, 'encoder', kind)], B);
        }
    }
    const encoderHidden = this.cache ? undefined : repeatRows(enc.last_hidden_state, B);
    let seqs = Array.from({ length: n }, () => [opts.decoderStartTokenId]);
    const r = await beamSearch(np, vocab, { ...opts, padTokenId: pad }, async (feed) => {
      if (feed) {
        seqs = feed.parents.map((p, i) => [...seqs[p], feed.tokens[i]]);
        if (this.cache) {
          const next: Record<string, HostTensor> = {};
          for (const [name, t] of Object.entries(past)) next[name] = gatherRows(t, feed.parents);
          past = next;
        }
      }
      const feedIds = this.cache ? seqs.map((s) => [s[s.length - 1]]) : seqs;
      const res = await this.decoder.run({
        input_ids: i64([n, feedIds[0].length], feedIds.flat()),
        encoder_attention_mask: encMask,
        ...(this.cache ? { ...past, ...cross } : { encoder_hidden_states: encoderHidden! }),
      });
      if (this.cache) {
        past = {};
        for (let i = 0; i < layers; i++)
          for (const kind of ['key', 'value'] as const) past[seq2seqPastName(i, 'decoder', kind)] = res[seq2seqPresentName(i, 'decoder', kind)];
      }
      return res.logits.data as Float32Array;
    });
    return { tokens: r.best.map((h) => h.tokens), scores: r.best.map((h) => h.score), finishReason: r.best.map((h) => h.finishReason), runs: r.runs };
  }
}

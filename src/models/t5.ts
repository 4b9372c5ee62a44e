// T5 as Hugging Face's T5ForConditionalGeneration defines it (transformers 4.35): one embedding `shared` read by
// both stacks; encoder and decoder stacks of PRE-norm blocks with T5LayerNorm (RMS: no mean, no bias, eps 1e-6);
// attention without biases and WITHOUT the 1/sqrt(d) score scaling; a relative position bias (buckets of
// key - query, bidirectional in the encoder, causal in the decoder) whose table `relative_attention_bias` lives in
// block 0 of each stack, computed once there and added by every layer of that stack; in the decoder a
// cross-attention `layer.1.EncDecAttention` (no position bias) over the encoder output; the feed-forward
// `DenseReluDense` wo(act(wi(x))) (v1.0, ReLU) or wo(act(wi_0(x)) * wi_1(x)) (v1.1, gated-gelu = gelu_new); a
// final_layer_norm per stack; dropout at dropout_rate in training. With tied embeddings the decoder output is
// scaled by d_model^-0.5 before the LM head (shared^T); untied, a separate `lm_head.weight` reads it unscaled.
// T5ForTokenClassification is the encoder alone (under HF's base_model_prefix `transformer`) with a linear classifier;
// T5ForQuestionAnswering is the whole model with a span head on the decoder, which reads the input shifted right.
//
// Relative positions: the bucket function is a pure TypeScript function (relativePositionBucket, float32 as torch
// computes it). The graph does not compute logarithms: it looks the bucket up in a constant table indexed by the
// relative position clipped to [-max_distance, max_distance] (beyond max_distance every bucket is the last of its
// direction, so clipping is exact). The lookup is in-graph from query and key positions, so it works for symbolic
// lengths and for a generation step whose query sits at position `past` of a KV cache.
import type { Dim, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { parseT5Config, type HfConfig, type HfT5Config } from '../io/hf-config.js';
import { Ctx, Embedding, Linear, Module, RMSNorm, activate, attention, mergeHeads, paddingMask, splitHeads, type Activation } from '../nn/index.js';
import { spanTaskModel } from './qa-loss.js';
import { headLoss, registerModel, type HeadName, type HeadOutputs, type PretrainingModel, type TaskHead, type TaskModel } from './registry.js';

export interface T5Config {
  vocabSize: number;
  dModel: number;
  /** Size of one attention head (heads * dKv need not equal dModel). */
  dKv: number;
  dFf: number;
  numLayers: number;
  numDecoderLayers: number;
  numHeads: number;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  /** HF's dropout_rate: embeddings, residual branches, inside the FFN, attention probabilities, after the final norm. */
  dropoutRate: number;
  layerNormEpsilon: number;
  initializerFactor: number;
  /** "relu" (T5 v1.0), "gated-gelu" (v1.1), or "<act>" / "gated-<act>" with act in relu, gelu, gelu_new, silu. */
  feedForwardProj: string;
  tieWordEmbeddings: boolean;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
}

export function t5Config(c: Partial<T5Config> & Pick<T5Config, 'vocabSize' | 'dModel' | 'numLayers' | 'numHeads'>): T5Config {
  return {
    dKv: c.dModel / c.numHeads,
    dFf: 4 * c.dModel,
    numDecoderLayers: c.numLayers,
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    dropoutRate: 0.1,
    layerNormEpsilon: 1e-6,
    initializerFactor: 1,
    feedForwardProj: 'relu',
    tieWordEmbeddings: true,
    padTokenId: 0,
    eosTokenId: 1,
    decoderStartTokenId: 0,
    ...c,
  };
}

/** The activation and gating of a feed_forward_proj, as HF's T5Config derives them ("gated-gelu" means gelu_new). */
export function feedForwardActivation(proj: string): { act: Activation; gated: boolean } {
  const parts = proj.split('-');
  const gated = parts.length === 2 && parts[0] === 'gated';
  if (parts.length > 2 || (parts.length === 2 && !gated)) throw new Error(`t5: feed_forward_proj "${proj}" must be "<act>" or "gated-<act>"`);
  const name = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1];
  const acts: readonly Activation[] = ['relu', 'gelu', 'gelu_new', 'silu'];
  if (!(acts as readonly string[]).includes(name)) throw new Error(`t5: activation "${name}" is not supported (${acts.join(', ')})`);
  return { act: name as Activation, gated };
}

// ---- relative positions ----

/**
 * HF's T5Attention._relative_position_bucket for one relative position (key - query), computed in float32 as torch
 * does (`relative_position.float()`): half the buckets are exact small distances, the other half logarithmic up
 * to max_distance. Bidirectional: buckets [0, n/2) for keys before the query (and at it), [n/2, n) after it.
 * Causal: only keys at or before the query have distinct buckets; every future key is bucket 0.
 */
export function relativePositionBucket(relativePosition: number, bidirectional: boolean, numBuckets = 32, maxDistance = 128): number {
  const f = Math.fround;
  let bucket = 0;
  let n = numBuckets;
  let rp: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relativePosition > 0) bucket += n;
    rp = Math.abs(relativePosition);
  } else {
    rp = -Math.min(relativePosition, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (rp < maxExact) return bucket + rp;
  const scaled = f(f(f(Math.log(f(rp / maxExact))) / f(Math.log(maxDistance / maxExact))) * (n - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), n - 1);
}

/** The bucket of every relative position in [-maxDistance, maxDistance] (index = relative position + maxDistance). */
export function relativePositionBucketTable(bidirectional: boolean, numBuckets = 32, maxDistance = 128): BigInt64Array {
  return BigInt64Array.from({ length: 2 * maxDistance + 1 }, (_, i) => BigInt(relativePositionBucket(i - maxDistance, bidirectional, numBuckets, maxDistance)));
}

/** Positions 0..len-1, shifted by `offset` (a dim, e.g. the cache's past length) when given: int64 [len]. */
function positions(ctx: Ctx, len: Dim, offset?: Dim): Tensor {
  const p = F.arange(ctx.g, len);
  return offset === undefined || offset === 0 ? p : F.add(p, F.dimValue(ctx.g, offset, 'int64'));
}

/** Causal mask [1, 1, Tq, Tk] from query and key positions: a key at or before the query may be attended. */
function causalFromPositions(queryPos: Tensor, keyPos: Tensor): Tensor {
  return F.unsqueeze(F.not(F.greater(F.unsqueeze(keyPos, 0), F.unsqueeze(queryPos, 1))), [0, 1]);
}

// ---- modules ----

export interface KV {
  key: Tensor;
  value: Tensor;
}

/** T5Attention: q, k, v, o without biases, no score scaling; block 0 of a stack also owns relative_attention_bias. */
class T5Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relative_attention_bias?: Embedding;
  constructor(prefix: string, readonly c: T5Config, hasRelativeAttentionBias: boolean, readonly bidirectional: boolean) {
    super(prefix);
    const f = c.initializerFactor;
    const inner = c.numHeads * c.dKv;
    // HF's _init_weights: q ~ N(0, (d_model * d_kv)^-0.5), k and v ~ N(0, d_model^-0.5), o ~ N(0, inner^-0.5).
    this.q = this.child(new Linear(`${prefix}.q`, c.dModel, inner, { bias: false, std: f * (c.dModel * c.dKv) ** -0.5 }));
    this.k = this.child(new Linear(`${prefix}.k`, c.dModel, inner, { bias: false, std: f * c.dModel ** -0.5 }));
    this.v = this.child(new Linear(`${prefix}.v`, c.dModel, inner, { bias: false, std: f * c.dModel ** -0.5 }));
    this.o = this.child(new Linear(`${prefix}.o`, inner, c.dModel, { bias: false, std: f * inner ** -0.5 }));
    if (hasRelativeAttentionBias)
      this.relative_attention_bias = this.child(
        new Embedding(`${prefix}.relative_attention_bias`, c.relativeAttentionNumBuckets, c.numHeads, { std: f * c.dModel ** -0.5 }),
      );
  }

  /** The position bias [1, heads, Tq, Tk] for int64 query positions [Tq] and key positions [Tk]. */
  computeBias(ctx: Ctx, queryPos: Tensor, keyPos: Tensor): Tensor {
    if (!this.relative_attention_bias) throw new Error('t5: only block 0 of a stack has relative_attention_bias');
    const g = ctx.g;
    const max = this.c.relativeAttentionMaxDistance;
    const table = g.constant(relativePositionBucketTable(this.bidirectional, this.c.relativeAttentionNumBuckets, max), 'int64', [2 * max + 1]);
    const rel = F.sub(F.unsqueeze(keyPos, 0), F.unsqueeze(queryPos, 1)); // [Tq, Tk]: key - query
    const buckets = F.gather(table, F.add(F.minimum(F.maximum(rel, -max), max), max), 0);
    const values = this.relative_attention_bias.forward(ctx, buckets); // [Tq, Tk, heads]
    return F.unsqueeze(F.transpose(values, [2, 0, 1]), 0);
  }

  /** Keys and values [B, heads, Tk, dKv] of `src`: what cross-attention caches once per encoder output. */
  keyValue(ctx: Ctx, src: Tensor): KV {
    return ctx.g.scope('attention', this.prefix, () => ({
      key: splitHeads(this.k.forward(ctx, src), this.c.numHeads),
      value: splitHeads(this.v.forward(ctx, src), this.c.numHeads),
    }));
  }

  /**
   * Attention of x over itself (with `past` prepended), over `kvInput` (cross-attention), or over precomputed
   * `kv`; returns the output [B, T, d_model] and the keys/values used (the present of a cache).
   */
  forward(ctx: Ctx, x: Tensor, call: { mask?: Tensor; bias?: Tensor; kvInput?: Tensor; kv?: KV; past?: KV }): { out: Tensor; key: Tensor; value: Tensor } {
    return ctx.g.scope('attention', this.prefix, () => this.attend(ctx, x, call));
  }

  private attend(ctx: Ctx, x: Tensor, call: { mask?: Tensor; bias?: Tensor; kvInput?: Tensor; kv?: KV; past?: KV }): { out: Tensor; key: Tensor; value: Tensor } {
    const q = splitHeads(this.q.forward(ctx, x), this.c.numHeads);
    let { key, value } = call.kv ?? this.keyValue(ctx, call.kvInput ?? x);
    if (call.past) {
      key = F.concat([call.past.key, key], 2);
      value = F.concat([call.past.value, value], 2);
    }
    const p = this.c.dropoutRate;
    const y = attention(q, key, value, { scale: 1, mask: call.mask, bias: call.bias, dropProbs: (probs) => ctx.dropout(probs, p) });
    return { out: this.o.forward(ctx, mergeHeads(y)), key, value };
  }
}

/** DenseReluDense: wo(dropout(act(wi(x)))), or gated: wo(dropout(act(wi_0(x)) * wi_1(x))). */
class T5DenseActDense extends Module {
  readonly wi?: Linear;
  readonly wi_0?: Linear;
  readonly wi_1?: Linear;
  readonly wo: Linear;
  readonly act: Activation;
  constructor(prefix: string, readonly c: T5Config) {
    super(prefix);
    const f = c.initializerFactor;
    const { act, gated } = feedForwardActivation(c.feedForwardProj);
    this.act = act;
    const inStd = f * c.dModel ** -0.5;
    if (gated) {
      this.wi_0 = this.child(new Linear(`${prefix}.wi_0`, c.dModel, c.dFf, { bias: false, std: inStd }));
      this.wi_1 = this.child(new Linear(`${prefix}.wi_1`, c.dModel, c.dFf, { bias: false, std: inStd }));
    } else {
      this.wi = this.child(new Linear(`${prefix}.wi`, c.dModel, c.dFf, { bias: false, std: inStd }));
    }
    this.wo = this.child(new Linear(`${prefix}.wo`, c.dFf, c.dModel, { bias: false, std: f * c.dFf ** -0.5 }));
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.g.scope('mlp', this.prefix, () => {
      const h = this.wi
        ? activate(this.wi.forward(ctx, x), this.act)
        : F.mul(activate(this.wi_0!.forward(ctx, x), this.act), this.wi_1!.forward(ctx, x));
      return this.wo.forward(ctx, ctx.dropout(h, this.c.dropoutRate));
    });
  }
}

/** layer.0 of a block: x + dropout(SelfAttention(layer_norm(x))). */
class T5LayerSelfAttention extends Module {
  readonly SelfAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  constructor(prefix: string, readonly c: T5Config, hasRelativeAttentionBias: boolean, bidirectional: boolean) {
    super(prefix);
    this.SelfAttention = this.child(new T5Attention(`${prefix}.SelfAttention`, c, hasRelativeAttentionBias, bidirectional));
    this.layer_norm = this.child(new RMSNorm(`${prefix}.layer_norm`, c.dModel, c.layerNormEpsilon));
  }

  forward(ctx: Ctx, x: Tensor, mask: Tensor | undefined, bias: Tensor, past?: KV): { x: Tensor; present: KV } {
    const a = this.SelfAttention.forward(ctx, this.layer_norm.forward(ctx, x), { mask, bias, past });
    return { x: F.add(x, ctx.dropout(a.out, this.c.dropoutRate)), present: { key: a.key, value: a.value } };
  }
}

/** layer.1 of a decoder block: x + dropout(EncDecAttention(layer_norm(x), encoder output)); no position bias. */
class T5LayerCrossAttention extends Module {
  readonly EncDecAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  constructor(prefix: string, readonly c: T5Config) {
    super(prefix);
    this.EncDecAttention = this.child(new T5Attention(`${prefix}.EncDecAttention`, c, false, true));
    this.layer_norm = this.child(new RMSNorm(`${prefix}.layer_norm`, c.dModel, c.layerNormEpsilon));
  }

  forward(ctx: Ctx, x: Tensor, kv: KV, mask: Tensor | undefined): Tensor {
    const a = this.EncDecAttention.forward(ctx, this.layer_norm.forward(ctx, x), { mask, kv });
    return F.add(x, ctx.dropout(a.out, this.c.dropoutRate));
  }
}

/** The last layer of a block: x + dropout(DenseReluDense(layer_norm(x))). */
class T5LayerFF extends Module {
  readonly DenseReluDense: T5DenseActDense;
  readonly layer_norm: RMSNorm;
  constructor(prefix: string, readonly c: T5Config) {
    super(prefix);
    this.DenseReluDense = this.child(new T5DenseActDense(`${prefix}.DenseReluDense`, c));
    this.layer_norm = this.child(new RMSNorm(`${prefix}.layer_norm`, c.dModel, c.layerNormEpsilon));
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return F.add(x, ctx.dropout(this.DenseReluDense.forward(ctx, this.layer_norm.forward(ctx, x)), this.c.dropoutRate));
  }
}

/** T5Block: encoder [SelfAttention, FF]; decoder [SelfAttention, EncDecAttention, FF]. */
class T5Block extends Module {
  readonly selfAttention: T5LayerSelfAttention;
  readonly crossAttention?: T5LayerCrossAttention;
  readonly ff: T5LayerFF;
  constructor(prefix: string, c: T5Config, isDecoder: boolean, hasRelativeAttentionBias: boolean) {
    super(prefix);
    this.selfAttention = this.child(new T5LayerSelfAttention(`${prefix}.layer.0`, c, hasRelativeAttentionBias, !isDecoder));
    if (isDecoder) this.crossAttention = this.child(new T5LayerCrossAttention(`${prefix}.layer.1`, c));
    this.ff = this.child(new T5LayerFF(`${prefix}.layer.${isDecoder ? 2 : 1}`, c));
  }
}

/** T5Stack: the shared embedding, blocks, final_layer_norm (the encoder and the decoder). */
class T5Stack extends Module {
  readonly block: T5Block[];
  readonly final_layer_norm: RMSNorm;
  constructor(prefix: string, readonly c: T5Config, readonly embed_tokens: Embedding, readonly isDecoder: boolean) {
    super(prefix);
    const n = isDecoder ? c.numDecoderLayers : c.numLayers;
    this.block = Array.from({ length: n }, (_, i) => this.child(new T5Block(`${prefix}.block.${i}`, c, isDecoder, i === 0)));
    this.final_layer_norm = this.child(new RMSNorm(`${prefix}.final_layer_norm`, c.dModel, c.layerNormEpsilon));
  }

  /** The position bias of this stack, from block 0's table (every block adds the same one). */
  positionBias(ctx: Ctx, queryPos: Tensor, keyPos: Tensor): Tensor {
    return this.block[0].selfAttention.SelfAttention.computeBias(ctx, queryPos, keyPos);
  }
}

/** An encoder stack over token ids: the shared embedding, the bidirectional position bias, the blocks, final_layer_norm. */
function encodeStack(ctx: Ctx, enc: T5Stack, inp: T5EncodeInputs, p: number): Tensor {
  let x = ctx.dropout(enc.embed_tokens.forward(ctx, inp.inputIds), p);
  const pos = positions(ctx, inp.inputIds.shape[1]);
  const bias = enc.positionBias(ctx, pos, pos);
  const mask = inp.attentionMask ? paddingMask(inp.attentionMask) : undefined;
  for (const block of enc.block)
    x = ctx.block(block.prefix, () => block.ff.forward(ctx, block.selfAttention.forward(ctx, x, mask, bias).x));
  return ctx.dropout(enc.final_layer_norm.forward(ctx, x), p);
}

export interface T5EncodeInputs {
  /** int64 [B, Te]. */
  inputIds: Tensor;
  /** int64 [B, Te] of 1 (real) and 0 (padding); absent = every position real. */
  attentionMask?: Tensor;
}

export interface T5DecodeInputs {
  /** int64 [B, Td]: the new decoder positions (after `past`, when given). */
  decoderInputIds: Tensor;
  /** The encoder output [B, Te, d_model]; not needed when `crossKV` is given. */
  encoderHidden?: Tensor;
  /** int64 [B, Te]: masks padded encoder positions in cross-attention. */
  encoderAttentionMask?: Tensor;
  /** int64 [B, Td] (or [B, past + Td] with a cache): masks padded decoder keys on top of the causal mask. */
  decoderAttentionMask?: Tensor;
  /** Cached self-attention keys/values per layer, [B, heads, Tpast, dKv] each. */
  past?: KV[];
  /** Cross-attention keys/values per layer, computed once from the encoder output (see crossKeyValues). */
  crossKV?: KV[];
}

export interface T5DecodeOutputs {
  /** After the decoder's final_layer_norm, before the d_model^-0.5 rescale: [B, Td, d_model]. */
  hidden: Tensor;
  /** Self-attention keys/values per layer, past included: the next step's `past`. */
  presents: KV[];
  /** Cross-attention keys/values per layer (the ones given, or computed from encoderHidden). */
  crossKV: KV[];
}

/** What generation needs of an encoder-decoder (T5ForConditionalGeneration): src/generate/seq2seq.ts builds its graphs from it. */
export interface Seq2SeqLM {
  encode(ctx: Ctx, inp: T5EncodeInputs): Tensor;
  crossKeyValues(ctx: Ctx, encoderHidden: Tensor): KV[];
  decode(ctx: Ctx, inp: T5DecodeInputs): T5DecodeOutputs;
  lmLogits(ctx: Ctx, hidden: Tensor): Tensor;
  readonly cache: { layers: number; heads: number; headDim: number; vocab: number; hidden: number };
}

/** T5Model (HF): the shared embedding, the encoder and the decoder, with no head. */
export class T5Model extends Module {
  readonly shared: Embedding;
  readonly encoder: T5Stack;
  readonly decoder: T5Stack;
  constructor(readonly config: T5Config) {
    super('');
    const c = config;
    if (!Number.isInteger(c.dKv) || c.dKv <= 0) throw new Error(`t5: d_kv must be a positive integer, got ${c.dKv}`);
    feedForwardActivation(c.feedForwardProj);
    this.shared = this.child(new Embedding('shared', c.vocabSize, c.dModel, { std: c.initializerFactor }));
    this.encoder = this.child(new T5Stack('encoder', c, this.shared, false));
    this.decoder = this.child(new T5Stack('decoder', c, this.shared, true));
  }

  /** The encoder's output after its final_layer_norm (and dropout in training): [B, Te, d_model]. */
  encode(ctx: Ctx, inp: T5EncodeInputs): Tensor {
    return encodeStack(ctx, this.encoder, inp, this.config.dropoutRate);
  }

  /** Cross-attention keys/values of every decoder layer for an encoder output: computed once per generation. */
  crossKeyValues(ctx: Ctx, encoderHidden: Tensor): KV[] {
    return this.decoder.block.map((b) => b.crossAttention!.EncDecAttention.keyValue(ctx, encoderHidden));
  }

  /**
   * The decoder over new positions (after `past`): causal self-attention with the causal position bias for
   * queries at positions past..past+Td-1, cross-attention over the encoder output.
   */
  decode(ctx: Ctx, inp: T5DecodeInputs): T5DecodeOutputs {
    const dec = this.decoder;
    const p = this.config.dropoutRate;
    const t = inp.decoderInputIds.shape[1];
    const pastLen = inp.past?.[0]?.key.shape[2];
    const queryPos = positions(ctx, t, pastLen);
    const keyPos = pastLen === undefined ? queryPos : F.concat([positions(ctx, pastLen), queryPos], 0);
    const bias = dec.positionBias(ctx, queryPos, keyPos);
    let selfMask = causalFromPositions(queryPos, keyPos);
    if (inp.decoderAttentionMask) selfMask = F.and(selfMask, paddingMask(inp.decoderAttentionMask));
    const crossMask = inp.encoderAttentionMask ? paddingMask(inp.encoderAttentionMask) : undefined;
    let crossKV = inp.crossKV;
    if (!crossKV) {
      if (!inp.encoderHidden) throw new Error('t5 decode: give encoderHidden or crossKV');
      crossKV = this.crossKeyValues(ctx, inp.encoderHidden);
    }
    let x = ctx.dropout(this.shared.forward(ctx, inp.decoderInputIds), p);
    const presents: KV[] = [];
    dec.block.forEach((block, i) =>
      ctx.block(block.prefix, () => {
        const r = block.selfAttention.forward(ctx, x, selfMask, bias, inp.past?.[i]);
        presents.push(r.present);
        x = block.crossAttention!.forward(ctx, r.x, crossKV[i], crossMask);
        x = block.ff.forward(ctx, x);
      }),
    );
    return { hidden: ctx.dropout(dec.final_layer_norm.forward(ctx, x), p), presents, crossKV };
  }
}

/** T5ForConditionalGeneration: T5Model and the LM head (the shared embedding, rescaled, when tied). */
export class T5ForConditionalGeneration extends T5Model implements PretrainingModel {
  readonly modelType = 't5' as const;
  readonly lm_head?: Linear;
  constructor(config: T5Config) {
    super(config);
    const c = config;
    if (!c.tieWordEmbeddings)
      this.lm_head = this.child(new Linear('lm_head', c.dModel, c.vocabSize, { bias: false, std: c.initializerFactor }));
  }

  /** LM logits [.., vocab] of decoder hidden states: shared^T after the d_model^-0.5 rescale when tied, else lm_head. */
  lmLogits(ctx: Ctx, hidden: Tensor): Tensor {
    if (this.lm_head) return ctx.g.scope('lm_head', 'lm_head', () => this.lm_head!.forward(ctx, hidden));
    return this.shared.attend(ctx, F.mul(hidden, this.config.dModel ** -0.5));
  }

  /** Cache geometry: per decoder layer, self and cross keys/values of [B, heads, T, dKv]; the vocabulary and width. */
  get cache(): { layers: number; heads: number; headDim: number; vocab: number; hidden: number } {
    const c = this.config;
    return { layers: c.numDecoderLayers, heads: c.numHeads, headDim: c.dKv, vocab: c.vocabSize, hidden: c.dModel };
  }

  /**
   * The pretraining pipeline's entry: the `seq2seq` head, mean cross-entropy of the decoder logits against
   * `labels` [B, Td] (not shifted: `decoder_input_ids` are the labels shifted right, computed from the labels
   * in-graph when not fed). Reads `input_ids`, `attention_mask` (optional), `decoder_input_ids` (optional),
   * `decoder_attention_mask` (optional), `labels`.
   */
  pretrainingLoss(ctx: Ctx, inputs: Readonly<Record<string, Tensor>>, heads: readonly HeadName[] = ['seq2seq']): HeadOutputs {
    const other = heads.filter((h) => h !== 'seq2seq');
    if (other.length || heads.length === 0) throw new Error(`t5 has only the seq2seq head (asked for ${heads.join(', ') || 'none'})`);
    const labels = inputs.labels;
    if (!inputs.input_ids || !labels) throw new Error('t5: the seq2seq head needs input_ids and labels');
    const encoderHidden = this.encode(ctx, { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask });
    const { hidden } = this.decode(ctx, {
      decoderInputIds: inputs.decoder_input_ids ?? shiftRightGraph(labels, this.config.decoderStartTokenId, this.config.padTokenId),
      encoderHidden, encoderAttentionMask: inputs.attention_mask, decoderAttentionMask: inputs.decoder_attention_mask,
    });
    const logits = this.lmLogits(ctx, hidden);
    const vocab = logits.shape[logits.rank - 1];
    return headLoss('seq2seq', F.reshape(logits, [-1, vocab]), F.reshape(labels, [-1]));
  }
}

/** HF's T5PreTrainedModel.base_model_prefix: where the task models other than T5ForConditionalGeneration keep the body. */
export const T5_BASE_PREFIX = 'transformer';

/**
 * T5ForTokenClassification (HF): the encoder alone (T5EncoderModel, under `transformer`), dropout at
 * classifier_dropout, and a linear `classifier` on every encoder state. The classifier starts at std
 * initializer_factor, as HF initialises it. A T5ForConditionalGeneration checkpoint loads into it through HF's
 * base_model_prefix: its `shared.*` and `encoder.*` are this model's `transformer.shared.*` and `transformer.encoder.*`.
 */
export class T5ForTokenClassification extends Module {
  readonly shared: Embedding;
  readonly encoder: T5Stack;
  readonly classifier: Linear;
  constructor(readonly config: T5Config, readonly numLabels: number, readonly classifierDropout: number) {
    super('');
    const c = config;
    this.shared = this.child(new Embedding(`${T5_BASE_PREFIX}.shared`, c.vocabSize, c.dModel, { std: c.initializerFactor }));
    this.encoder = this.child(new T5Stack(`${T5_BASE_PREFIX}.encoder`, c, this.shared, false));
    this.classifier = this.child(new Linear('classifier', c.dModel, numLabels, { std: c.initializerFactor }));
  }

  /** Tag logits [B, T, numLabels]. */
  forward(ctx: Ctx, inp: T5EncodeInputs): Tensor {
    const hidden = encodeStack(ctx, this.encoder, inp, this.config.dropoutRate);
    return this.classifier.forward(ctx, ctx.dropout(hidden, this.classifierDropout));
  }

  /** Mean cross-entropy against labels [B, T] (-100 = ignored). */
  loss(ctx: Ctx, inp: T5EncodeInputs, labels: Tensor): Tensor {
    return F.crossEntropy(F.reshape(this.forward(ctx, inp), [-1, this.numLabels]), F.reshape(labels, [-1]));
  }
}

/**
 * T5ForQuestionAnswering (HF): the whole encoder-decoder and `qa_outputs` Linear(d_model, 2) on the decoder's
 * states -> start and end logits [B, T]. As in HF, the decoder reads the input itself shifted right (unless given
 * decoder_input_ids), so decoder position t has seen the input up to t - 1 and, through cross-attention, all of
 * it. Parameter names are T5ForConditionalGeneration's without lm_head, so a pretrained checkpoint loads as is;
 * qa_outputs starts at std initializer_factor * d_model^-0.5 with a zero bias, as HF initialises it.
 */
export class T5ForQuestionAnswering extends T5Model {
  readonly qa_outputs: Linear;
  constructor(config: T5Config) {
    super(config);
    this.qa_outputs = this.child(new Linear('qa_outputs', config.dModel, 2, { std: config.initializerFactor * config.dModel ** -0.5 }));
  }

  /** Span logits [B, T, 2] (start, end) at the decoder's positions. */
  logits(ctx: Ctx, inp: T5EncodeInputs & { decoderInputIds?: Tensor }): Tensor {
    const c = this.config;
    const encoderHidden = this.encode(ctx, inp);
    const { hidden } = this.decode(ctx, {
      decoderInputIds: inp.decoderInputIds ?? shiftRightGraph(inp.inputIds, c.decoderStartTokenId, c.padTokenId),
      encoderHidden, encoderAttentionMask: inp.attentionMask,
    });
    return this.qa_outputs.forward(ctx, hidden);
  }
}

/** HF's _shift_right: decoder_start_token_id first, the labels without their last position, -100 -> pad. */
export function shiftRight(labels: readonly (readonly number[])[], decoderStartTokenId: number, padTokenId: number): number[][] {
  return labels.map((row) => [decoderStartTokenId, ...row.slice(0, -1)].map((v) => (v === -100 ? padTokenId : v)));
}

/** shiftRight in-graph, for int64 labels [B, T]. */
export function shiftRightGraph(labels: Tensor, decoderStartTokenId: number, padTokenId: number): Tensor {
  const [b] = labels.shape;
  const start = F.fill(labels.graph, 'int64', [b, 1], decoderStartTokenId);
  const shifted = F.withShape(F.concat([start, F.slice(labels, 1, 0, -1)], 1), [...labels.shape]);
  return F.where(F.equal(shifted, -100), padTokenId, shifted);
}

// ---- config conversion ----

/** Our config from a Hugging Face config.json (model_type t5). */
export function t5ConfigFromHf(hf: HfT5Config): T5Config {
  feedForwardActivation(hf.feed_forward_proj);
  const eos = Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id;
  return t5Config({
    vocabSize: hf.vocab_size, dModel: hf.d_model, dKv: hf.d_kv, dFf: hf.d_ff, numLayers: hf.num_layers,
    numDecoderLayers: hf.num_decoder_layers, numHeads: hf.num_heads,
    relativeAttentionNumBuckets: hf.relative_attention_num_buckets, relativeAttentionMaxDistance: hf.relative_attention_max_distance,
    dropoutRate: hf.dropout_rate, layerNormEpsilon: hf.layer_norm_epsilon, initializerFactor: hf.initializer_factor,
    feedForwardProj: hf.feed_forward_proj, tieWordEmbeddings: hf.tie_word_embeddings, padTokenId: hf.pad_token_id ?? 0,
    eosTokenId: eos ?? 1, decoderStartTokenId: hf.decoder_start_token_id,
  });
}

/** The Hugging Face config.json fields for our config. */
export function t5ConfigToHf(c: T5Config, extra: Record<string, unknown> = {}): HfT5Config {
  return parseT5Config({
    model_type: 't5', vocab_size: c.vocabSize, d_model: c.dModel, d_kv: c.dKv, d_ff: c.dFf, num_layers: c.numLayers,
    num_decoder_layers: c.numDecoderLayers, num_heads: c.numHeads, relative_attention_num_buckets: c.relativeAttentionNumBuckets,
    relative_attention_max_distance: c.relativeAttentionMaxDistance, dropout_rate: c.dropoutRate,
    layer_norm_epsilon: c.layerNormEpsilon, initializer_factor: c.initializerFactor, feed_forward_proj: c.feedForwardProj,
    tie_word_embeddings: c.tieWordEmbeddings, pad_token_id: c.padTokenId, eos_token_id: c.eosTokenId,
    decoder_start_token_id: c.decoderStartTokenId, is_encoder_decoder: true, ...extra,
  }, 't5 config');
}

/** The config a registry build makes a model from: a t5 config.json, `dropout` (when given) replacing dropout_rate. */
function t5BuildConfig(hf: HfConfig, dropout: number | undefined): T5Config {
  if (hf.model_type !== 't5') throw new Error(`t5: got a ${hf.model_type} config`);
  const c = t5ConfigFromHf(hf);
  if (dropout !== undefined) c.dropoutRate = dropout;
  return c;
}

/**
 * Text-to-text fine-tuning (T5's framing of every task, classification included): the whole
 * T5ForConditionalGeneration, the input text then EOS into the encoder, the target text then EOS as the decoder's
 * labels; the checkpoint stays a T5ForConditionalGeneration, which `predict` and `generate` decode from.
 */
export const t5Text2TextHead: TaskHead = {
  architecture: 'T5ForConditionalGeneration',
  framing: 'seq2seq',
  tokenTypes: false,
  build: (hf, _numLabels, o = {}): TaskModel => {
    const c = t5BuildConfig(hf, o.dropout);
    const m = new T5ForConditionalGeneration(c);
    return {
      parameters: () => m.parameters(),
      forward: (ctx, inp) => {
        if (!inp.decoderInputIds) throw new Error('t5 text2text: forward needs decoderInputIds');
        const encoderHidden = m.encode(ctx, { inputIds: inp.inputIds, attentionMask: inp.attentionMask });
        const { hidden } = m.decode(ctx, { decoderInputIds: inp.decoderInputIds, encoderHidden, encoderAttentionMask: inp.attentionMask });
        return m.lmLogits(ctx, hidden);
      },
      loss: (ctx, inp, labels) => {
        const inputs: Record<string, Tensor> = { input_ids: inp.inputIds, attention_mask: inp.attentionMask, labels };
        if (inp.decoderInputIds) inputs['decoder_input_ids'] = inp.decoderInputIds;
        return m.pretrainingLoss(ctx, inputs, ['seq2seq']).loss;
      },
      seq2seq: m,
    };
  },
};

/**
 * Token classification (HF's T5ForTokenClassification): the encoder tags every token, as BERT's head does; the
 * decoder is not used, so a pretrained checkpoint gives only its `shared` and `encoder` weights.
 */
export const t5TagHead: TaskHead = {
  architecture: 'T5ForTokenClassification',
  framing: 'template',
  tokenTypes: false,
  basePrefix: T5_BASE_PREFIX,
  build: (hf, numLabels, o = {}): TaskModel => {
    const c = t5BuildConfig(hf, o.dropout);
    // HF's T5Config.classifier_dropout defaults to 0.
    const configured = (hf as unknown as Record<string, unknown>)['classifier_dropout'];
    const m = new T5ForTokenClassification(c, numLabels, o.dropout ?? (typeof configured === 'number' ? configured : 0));
    return {
      parameters: () => m.parameters(),
      forward: (ctx, inp) => m.forward(ctx, inp),
      loss: (ctx, inp, labels) => m.loss(ctx, inp, labels),
    };
  },
};

/**
 * Extractive QA (HF's T5ForQuestionAnswering): start and end logits over "question </s> context </s>" (the
 * tokenizer's pair template), trained and answered as BERT's span head is.
 */
export const t5QaHead: TaskHead = {
  architecture: 'T5ForQuestionAnswering',
  framing: 'template',
  tokenTypes: false,
  build: (hf, _numLabels, o = {}): TaskModel =>
    spanTaskModel(new T5ForQuestionAnswering(t5BuildConfig(hf, o.dropout)), (m, ctx, inp) => m.logits(ctx, inp)),
};

registerModel({
  modelType: 't5',
  family: 'encoder-decoder',
  objectives: ['span-corruption', 'prefix-lm'],
  tokenizer: 'unigram',
  newConfig: (size, tok) => {
    if (size.kvHeads !== undefined) throw new Error('t5 has no grouped-query attention (--kv-heads is for llama)');
    if (size.hidden % size.heads !== 0) throw new Error(`t5: heads (${size.heads}) must divide hidden (${size.hidden})`);
    const pad = tok.specialIds.pad ?? 0;
    return t5ConfigToHf(t5Config({
      vocabSize: tok.vocabSize, dModel: size.hidden, numLayers: size.layers, numDecoderLayers: size.layers, numHeads: size.heads,
      dKv: size.hidden / size.heads, dFf: size.intermediate ?? 4 * size.hidden, dropoutRate: size.dropout,
      padTokenId: pad, eosTokenId: tok.specialIds.eos ?? 1, decoderStartTokenId: pad,
      relativeAttentionNumBuckets: 32, relativeAttentionMaxDistance: 128, feedForwardProj: 'relu', tieWordEmbeddings: true,
    }));
  },
  build: (hf, o = {}) => new T5ForConditionalGeneration(t5BuildConfig(hf, o.dropout)),
  architecture: () => 'T5ForConditionalGeneration',
  tasks: { text2text: t5Text2TextHead, tag: t5TagHead, qa: t5QaHead },
});

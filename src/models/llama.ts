// LLaMA as Hugging Face's LlamaForCausalLM defines it (transformers 4.35): PRE-norm blocks with RMSNorm
// (x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x))), rotary position embeddings with the
// halves rotated (dimension i pairs with i + d/2) and no learned positions, grouped-query attention (query head h
// reads key/value head h // (heads / kvHeads)), a SwiGLU MLP down(silu(gate(x)) * up(x)), no biases anywhere, a
// final RMSNorm `model.norm`, and a separate `lm_head` (tied to `model.embed_tokens` only if asked). Weights are
// torch.nn.Linear's [out, in] under HF's names (model.layers.{i}.self_attn.q_proj, ...).
import type { Dim, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { causalLmOutputs, shiftedLmLoss } from './lm-loss.js';
import { registerModel, type HeadOutputs } from './registry.js';
import {
  Ctx, Embedding, Linear, MLP, Module, MultiHeadAttention, RMSNorm, applyRope, causalMask4d, paddingMask, prefixLmMask, ropeCosSin,
} from '../nn/index.js';
import { parseLlamaConfig, type HfLlamaConfig } from '../io/hf-config.js';
import type { DecoderInputs, DecoderOutputs } from './gpt2.js';

export type { DecoderInputs, DecoderOutputs } from './gpt2.js';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  /** SwiGLU width (gate_proj / up_proj outputs). */
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Key/value heads; fewer than numAttentionHeads is grouped-query attention. */
  numKeyValueHeads: number;
  /** Kept for HF's config.json; positions are rotary and computed in-graph, so no table is sized by it. */
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  initializerRange: number;
  /** lm_head reuses model.embed_tokens.weight (HF's default for LLaMA is false). */
  tieWordEmbeddings: boolean;
  bosTokenId: number;
  eosTokenId: number;
  /** None by default, as LLaMA's config; batches are then padded with any id and masked. */
  padTokenId?: number;
  /** Dropout on the residual branches in training (our addition: HF's LLaMA has none, so 0 matches it). */
  dropout: number;
}

/** SwiGLU's usual width: 8/3 of the hidden size (2/3 of GPT's 4x, paying for the third matrix), to a multiple of 64. */
function defaultIntermediate(hidden: number): number {
  return Math.max(64, Math.round((8 * hidden) / 3 / 64) * 64);
}

export function llamaConfig(
  c: Partial<LlamaConfig> & Pick<LlamaConfig, 'vocabSize' | 'hiddenSize' | 'numHiddenLayers' | 'numAttentionHeads'>,
): LlamaConfig {
  return {
    intermediateSize: defaultIntermediate(c.hiddenSize),
    numKeyValueHeads: c.numAttentionHeads,
    maxPositionEmbeddings: 2048,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    initializerRange: 0.02,
    tieWordEmbeddings: false,
    bosTokenId: 1,
    eosTokenId: 2,
    dropout: 0,
    ...c,
  };
}

function validate(c: LlamaConfig): void {
  const { hiddenSize: h, numAttentionHeads: heads, numKeyValueHeads: kv } = c;
  if (h % heads !== 0) throw new Error(`llama: hiddenSize ${h} is not divisible by numAttentionHeads ${heads}`);
  if (heads % kv !== 0) throw new Error(`llama: numAttentionHeads ${heads} is not a multiple of numKeyValueHeads ${kv}`);
  if ((h / heads) % 2 !== 0) throw new Error(`llama: RoPE needs an even head size, got ${h / heads}`);
}

class LlamaDecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: MultiHeadAttention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: MLP;
  constructor(prefix: string, c: LlamaConfig) {
    super(prefix);
    const std = c.initializerRange;
    this.input_layernorm = this.child(new RMSNorm(`${prefix}.input_layernorm`, c.hiddenSize, c.rmsNormEps));
    this.self_attn = this.child(
      new MultiHeadAttention(`${prefix}.self_attn`, {
        hidden: c.hiddenSize, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, bias: false, std,
        names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'o_proj' },
      }),
    );
    this.post_attention_layernorm = this.child(new RMSNorm(`${prefix}.post_attention_layernorm`, c.hiddenSize, c.rmsNormEps));
    this.mlp = this.child(
      new MLP(`${prefix}.mlp`, {
        hidden: c.hiddenSize, inner: c.intermediateSize, act: 'silu', bias: false, std,
        names: { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' },
      }),
    );
  }

  forward(
    ctx: Ctx, x: Tensor, mask: Tensor, rope: { cos: Tensor; sin: Tensor },
    past?: { key: Tensor; value: Tensor }, totalLength?: Dim,
  ): { x: Tensor; key: Tensor; value: Tensor } {
    // Queries and keys are rotated before the cache, so cached keys already carry their positions.
    const rotate = (q: Tensor, k: Tensor): [Tensor, Tensor] => [applyRope(q, rope.cos, rope.sin), applyRope(k, rope.cos, rope.sin)];
    const a = this.self_attn.forward(ctx, this.input_layernorm.forward(ctx, x), { mask, rotate, past, totalLength });
    x = F.add(x, ctx.dropout(a.out));
    x = F.add(x, ctx.dropout(this.mlp.forward(ctx, this.post_attention_layernorm.forward(ctx, x))));
    return { x, key: a.key, value: a.value };
  }
}

export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: RMSNorm;
  constructor(readonly config: LlamaConfig, prefix = 'model') {
    super(prefix);
    validate(config);
    const c = config;
    this.embed_tokens = this.child(new Embedding(`${prefix}.embed_tokens`, c.vocabSize, c.hiddenSize, { std: c.initializerRange }));
    this.layers = Array.from({ length: c.numHiddenLayers }, (_, i) => this.child(new LlamaDecoderLayer(`${prefix}.layers.${i}`, c)));
    this.norm = this.child(new RMSNorm(`${prefix}.norm`, c.hiddenSize, c.rmsNormEps));
  }

  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs {
    const g = ctx.g;
    const c = this.config;
    const t = inp.inputIds.shape[1];
    const pastLen = inp.past ? inp.past[0].key.shape[2] : 0;
    // With a cache, the mask's width names past + new positions; without one it is the input length.
    const total = inp.past ? (inp.attentionMask?.shape[1] ?? `${pastLen}+${t}`) : t;
    const positions =
      inp.positionIds ?? F.unsqueeze(inp.past ? F.add(F.arange(g, t), F.dimValue(g, pastLen, 'int64')) : F.arange(g, t), 0);
    // One rotation table per forward, shared by every layer.
    const rope = ropeCosSin(positions, c.hiddenSize / c.numAttentionHeads, c.ropeTheta, ctx.dtype);
    let x = this.embed_tokens.forward(ctx, inp.inputIds);
    if (inp.prefixLength && inp.past) throw new Error('llama: a prefix-LM mask (prefixLength) cannot be used with a key/value cache');
    let mask = inp.prefixLength ? prefixLmMask(g, t, inp.prefixLength) : causalMask4d(g, t, total);
    if (inp.attentionMask) mask = F.and(mask, paddingMask(inp.attentionMask));
    const presents: { key: Tensor; value: Tensor }[] = [];
    this.layers.forEach((layer, i) => {
      const r = ctx.block(layer.prefix, () => layer.forward(ctx, x, mask, rope, inp.past?.[i], total));
      x = r.x;
      presents.push({ key: r.key, value: r.value });
    });
    return { hidden: this.norm.forward(ctx, x), presents };
  }
}

/** LlamaForCausalLM: the base model plus an lm_head without bias, separate unless tieWordEmbeddings. */
export class LlamaForCausalLM extends Module {
  readonly modelType = 'llama' as const;
  readonly model: LlamaModel;
  readonly lm_head?: Linear;
  constructor(readonly config: LlamaConfig) {
    super('');
    this.model = this.child(new LlamaModel(config));
    if (!config.tieWordEmbeddings)
      this.lm_head = this.child(new Linear('lm_head', config.hiddenSize, config.vocabSize, { bias: false, std: config.initializerRange }));
  }

  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs {
    return this.model.forward(ctx, inp);
  }

  /** Key/value cache geometry, per layer: keys are cached per kv head, already rotated. */
  get cache(): { layers: number; kvHeads: number; headDim: number } {
    const c = this.config;
    return { layers: c.numHiddenLayers, kvHeads: c.numKeyValueHeads, headDim: c.hiddenSize / c.numAttentionHeads };
  }

  logits(ctx: Ctx, hidden: Tensor): Tensor {
    if (this.lm_head) return ctx.g.scope('lm_head', 'lm_head', () => this.lm_head!.forward(ctx, hidden));
    return this.model.embed_tokens.attend(ctx, hidden);
  }

  /** Causal-LM loss (HF semantics: shifted labels, -100 ignored). */
  loss(ctx: Ctx, inputIds: Tensor, labels: Tensor, attentionMask?: Tensor): Tensor {
    const { hidden } = this.model.forward(ctx, { inputIds, attentionMask });
    return shiftedLmLoss(hidden, labels, (h) => this.logits(ctx, h));
  }

  /**
   * The pretraining pipeline's entry: the `lm` head over `input_ids` / `labels` (and `attention_mask` if fed); with
   * `prefix_length` (prefix-lm) the first prefix_length[b] positions of row b attend to each other bidirectionally.
   */
  pretrainingLoss(ctx: Ctx, inputs: Readonly<Record<string, Tensor>>): HeadOutputs {
    const { hidden } = this.forward(ctx, { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask, prefixLength: inputs.prefix_length });
    return causalLmOutputs(hidden, inputs.labels, (h) => this.logits(ctx, h));
  }
}

/** Our config from a Hugging Face config.json (model_type llama); refuses the variants this file does not build. */
export function llamaConfigFromHf(hf: HfLlamaConfig): LlamaConfig {
  const unsupported = [
    hf.hidden_act !== 'silu' && `hidden_act "${hf.hidden_act}" (silu is)`,
    hf.rope_scaling !== null && 'rope_scaling',
    hf.attention_bias && 'attention_bias',
    hf.mlp_bias && 'mlp_bias',
    hf.head_dim !== hf.hidden_size / hf.num_attention_heads && `head_dim ${hf.head_dim} != hidden_size / num_attention_heads`,
  ].filter((x): x is string => typeof x === 'string');
  if (unsupported.length) throw new Error(`llama: not supported: ${unsupported.join(', ')}`);
  const eos = Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id;
  return llamaConfig({
    vocabSize: hf.vocab_size, hiddenSize: hf.hidden_size, intermediateSize: hf.intermediate_size,
    numHiddenLayers: hf.num_hidden_layers, numAttentionHeads: hf.num_attention_heads,
    numKeyValueHeads: hf.num_key_value_heads, maxPositionEmbeddings: hf.max_position_embeddings,
    rmsNormEps: hf.rms_norm_eps, ropeTheta: hf.rope_theta, initializerRange: hf.initializer_range,
    tieWordEmbeddings: hf.tie_word_embeddings, bosTokenId: hf.bos_token_id ?? 1, eosTokenId: eos ?? 2,
    ...(hf.pad_token_id !== null ? { padTokenId: hf.pad_token_id } : {}),
    // HF's only LLaMA dropout is on attention probabilities; ours is on residual branches, so the two do not map.
    dropout: 0,
  });
}

/** The Hugging Face config.json fields for our config. */
export function llamaConfigToHf(c: LlamaConfig, extra: Record<string, unknown> = {}): HfLlamaConfig {
  return parseLlamaConfig({
    model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers, num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads, hidden_act: 'silu', max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, initializer_range: c.initializerRange,
    tie_word_embeddings: c.tieWordEmbeddings, bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId,
    pad_token_id: c.padTokenId ?? null, ...extra,
  }, 'llama config');
}

registerModel({
  modelType: 'llama',
  family: 'decoder',
  objectives: ['clm', 'prefix-lm'],
  tokenizer: 'bpe',
  newConfig: (size, tok) => {
    const eos = tok.specialIds.eos ?? tok.specialIds.sep ?? tok.vocabSize - 1;
    return parseLlamaConfig({
      model_type: 'llama', vocab_size: tok.vocabSize, hidden_size: size.hidden,
      intermediate_size: size.intermediate ?? Math.max(64, Math.round((8 * size.hidden) / 3 / 64) * 64),
      num_hidden_layers: size.layers, num_attention_heads: size.heads, num_key_value_heads: size.kvHeads ?? size.heads,
      max_position_embeddings: size.positions, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false,
      bos_token_id: tok.specialIds.bos ?? eos, eos_token_id: eos, initializer_range: 0.02, hidden_act: 'silu',
    }, 'llama config');
  },
  build: (hf, o = {}) => {
    const c = llamaConfigFromHf(hf as HfLlamaConfig);
    if (o.dropout !== undefined) c.dropout = o.dropout;
    return new LlamaForCausalLM(c);
  },
  architecture: () => 'LlamaForCausalLM',
});

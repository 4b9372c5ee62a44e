// GPT-2 as Hugging Face's GPT2LMHeadModel defines it: learned absolute positions, PRE-LayerNorm blocks
// (x + attn(ln_1(x)), then x + mlp(ln_2(x))), gelu_new (tanh form), a final ln_f, and an lm_head tied to the token
// embedding wte. Weights keep HF's Conv1D layout [in, out] and HF's names (transformer.h.{i}.attn.c_attn, ...).
import type { Dim, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { causalLmOutputs, shiftedLmLoss } from './lm-loss.js';
import { registerModel, type HeadOutputs } from './registry.js';
import { parseGpt2Config, type HfGpt2Config } from '../io/hf-config.js';
import { Ctx, Embedding, LayerNorm, MLP, Module, MultiHeadAttention, causalMask4d, paddingMask, prefixLmMask } from '../nn/index.js';

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP width; 4 * nEmbd when undefined (HF's n_inner = null). */
  nInner?: number;
  layerNormEpsilon: number;
  initializerRange: number;
  /** Dropout on embeddings, residual branches and attention probabilities (HF's embd/resid/attn_pdrop), in training. */
  dropout: number;
  bosTokenId: number;
  eosTokenId: number;
}

export function gpt2Config(c: Partial<Gpt2Config> & Pick<Gpt2Config, 'vocabSize' | 'nEmbd' | 'nLayer' | 'nHead'>): Gpt2Config {
  return {
    nPositions: 1024,
    layerNormEpsilon: 1e-5,
    initializerRange: 0.02,
    dropout: 0,
    bosTokenId: c.vocabSize - 1,
    eosTokenId: c.vocabSize - 1,
    ...c,
  };
}

class Gpt2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;
  constructor(prefix: string, c: Gpt2Config) {
    super(prefix);
    const std = c.initializerRange;
    // HF rescales the residual projections' init by 1/sqrt(2 * n_layer) (GPT-2 paper, section 2.3).
    const outStd = std / Math.sqrt(2 * c.nLayer);
    this.ln_1 = this.child(new LayerNorm(`${prefix}.ln_1`, c.nEmbd, c.layerNormEpsilon));
    this.attn = this.child(
      new MultiHeadAttention(`${prefix}.attn`, {
        hidden: c.nEmbd, heads: c.nHead, layout: 'in_out', names: { qkv: 'c_attn', out: 'c_proj' }, std, outStd, attnDropout: true,
      }),
    );
    this.ln_2 = this.child(new LayerNorm(`${prefix}.ln_2`, c.nEmbd, c.layerNormEpsilon));
    this.mlp = this.child(
      new MLP(`${prefix}.mlp`, {
        hidden: c.nEmbd, inner: c.nInner ?? 4 * c.nEmbd, act: 'gelu_new', layout: 'in_out',
        names: { up: 'c_fc', down: 'c_proj' }, std, outStd,
      }),
    );
  }

  forward(ctx: Ctx, x: Tensor, mask: Tensor, past?: { key: Tensor; value: Tensor }, totalLength?: Dim): { x: Tensor; key: Tensor; value: Tensor } {
    const a = this.attn.forward(ctx, this.ln_1.forward(ctx, x), { mask, past, totalLength });
    x = F.add(x, ctx.dropout(a.out));
    x = F.add(x, ctx.dropout(this.mlp.forward(ctx, this.ln_2.forward(ctx, x))));
    return { x, key: a.key, value: a.value };
  }
}

export interface DecoderInputs {
  inputIds: Tensor;
  /** int64 [B, Tk] of 1 (real) and 0 (padding) over past + current positions. */
  attentionMask?: Tensor;
  /** int64 [B, T]; 0..T-1 (after the past) when omitted, as HF's default. */
  positionIds?: Tensor;
  past?: { key: Tensor; value: Tensor }[];
  /** int64 [B]: prefix-LM (no cache): the first prefixLength[b] positions of row b attend bidirectionally. */
  prefixLength?: Tensor;
}

export interface DecoderOutputs {
  /** After the final norm, [B, T, H]. */
  hidden: Tensor;
  presents: { key: Tensor; value: Tensor }[];
}

export class Gpt2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: Gpt2Block[];
  readonly ln_f: LayerNorm;
  constructor(readonly config: Gpt2Config, prefix = 'transformer') {
    super(prefix);
    const c = config;
    this.wte = this.child(new Embedding(`${prefix}.wte`, c.vocabSize, c.nEmbd, { std: c.initializerRange }));
    this.wpe = this.child(new Embedding(`${prefix}.wpe`, c.nPositions, c.nEmbd, { std: c.initializerRange }));
    this.h = Array.from({ length: c.nLayer }, (_, i) => this.child(new Gpt2Block(`${prefix}.h.${i}`, c)));
    this.ln_f = this.child(new LayerNorm(`${prefix}.ln_f`, c.nEmbd, c.layerNormEpsilon));
  }

  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs {
    const g = ctx.g;
    const t = inp.inputIds.shape[1];
    const pastLen = inp.past ? inp.past[0].key.shape[2] : 0;
    // With a cache, the mask's width names past + new positions; without one it is the input length.
    const total = inp.past ? (inp.attentionMask?.shape[1] ?? `${pastLen}+${t}`) : t;
    const positions =
      inp.positionIds ?? F.unsqueeze(inp.past ? F.add(F.arange(g, t), F.dimValue(g, pastLen, 'int64')) : F.arange(g, t), 0);
    let x = F.add(this.wte.forward(ctx, inp.inputIds), this.wpe.forward(ctx, positions));
    x = ctx.dropout(x);
    if (inp.prefixLength && inp.past) throw new Error('gpt2: a prefix-LM mask (prefixLength) cannot be used with a key/value cache');
    let mask = inp.prefixLength ? prefixLmMask(g, t, inp.prefixLength) : causalMask4d(g, t, total);
    if (inp.attentionMask) mask = F.and(mask, paddingMask(inp.attentionMask));
    const presents: { key: Tensor; value: Tensor }[] = [];
    this.h.forEach((block, i) => {
      const r = ctx.block(block.prefix, () => block.forward(ctx, x, mask, inp.past?.[i], total));
      x = r.x;
      presents.push({ key: r.key, value: r.value });
    });
    return { hidden: this.ln_f.forward(ctx, x), presents };
  }
}

/** GPT2LMHeadModel: the base model plus an lm_head tied to wte (no bias). */
export class Gpt2LMHeadModel extends Module {
  readonly modelType = 'gpt2' as const;
  readonly transformer: Gpt2Model;
  constructor(readonly config: Gpt2Config) {
    super('');
    this.transformer = this.child(new Gpt2Model(config));
  }

  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs {
    return this.transformer.forward(ctx, inp);
  }

  /** Key/value cache geometry, per layer. */
  get cache(): { layers: number; kvHeads: number; headDim: number } {
    return { layers: this.config.nLayer, kvHeads: this.config.nHead, headDim: this.config.nEmbd / this.config.nHead };
  }

  logits(ctx: Ctx, hidden: Tensor): Tensor {
    return this.transformer.wte.attend(ctx, hidden);
  }

  /** Causal-LM loss (HF semantics: shifted labels, -100 ignored). */
  loss(ctx: Ctx, inputIds: Tensor, labels: Tensor, attentionMask?: Tensor): Tensor {
    const { hidden } = this.transformer.forward(ctx, { inputIds, attentionMask });
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

/** Our config from a Hugging Face config.json (model_type gpt2). */
export function gpt2ConfigFromHf(hf: HfGpt2Config): Gpt2Config {
  if (hf.activation_function !== 'gelu_new') throw new Error(`gpt2: activation_function "${hf.activation_function}" is not supported (gelu_new is)`);
  const eos = Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id;
  return gpt2Config({
    vocabSize: hf.vocab_size, nPositions: hf.n_positions, nEmbd: hf.n_embd, nLayer: hf.n_layer, nHead: hf.n_head,
    nInner: hf.n_inner ?? undefined, layerNormEpsilon: hf.layer_norm_epsilon, initializerRange: hf.initializer_range,
    dropout: hf.resid_pdrop, bosTokenId: hf.bos_token_id ?? eos ?? hf.vocab_size - 1, eosTokenId: eos ?? hf.vocab_size - 1,
  });
}

/** The Hugging Face config.json fields for our config. */
export function gpt2ConfigToHf(c: Gpt2Config, extra: Record<string, unknown> = {}): HfGpt2Config {
  return parseGpt2Config({
    model_type: 'gpt2', vocab_size: c.vocabSize, n_positions: c.nPositions, n_embd: c.nEmbd, n_layer: c.nLayer,
    n_head: c.nHead, n_inner: c.nInner ?? null, activation_function: 'gelu_new', layer_norm_epsilon: c.layerNormEpsilon,
    initializer_range: c.initializerRange, resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout,
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, tie_word_embeddings: true, ...extra,
  }, 'gpt2 config');
}

registerModel({
  modelType: 'gpt2',
  family: 'decoder',
  objectives: ['clm', 'prefix-lm'],
  tokenizer: 'bpe',
  newConfig: (size, tok) => {
    const eos = tok.specialIds.eos ?? tok.specialIds.sep ?? tok.vocabSize - 1;
    if (size.kvHeads !== undefined) throw new Error('gpt2 has no grouped-query attention (--kv-heads is for llama)');
    return gpt2ConfigToHf(gpt2Config({
      vocabSize: tok.vocabSize, nEmbd: size.hidden, nLayer: size.layers, nHead: size.heads, nInner: size.intermediate,
      nPositions: size.positions, dropout: size.dropout, bosTokenId: tok.specialIds.bos ?? eos, eosTokenId: eos,
    }));
  },
  build: (hf, o = {}) => {
    const c = gpt2ConfigFromHf(hf as HfGpt2Config);
    if (o.dropout !== undefined) c.dropout = o.dropout;
    return new Gpt2LMHeadModel(c);
  },
  architecture: () => 'GPT2LMHeadModel',
});

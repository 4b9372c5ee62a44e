// Attention and MLP blocks, configurable to each architecture's parameter names and layouts.
import type { Dim, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { attention, mergeHeads, repeatKv, splitHeads } from './attention.js';
import { activate, Linear, type Activation } from './layers.js';
import { Ctx, Module, join } from './module.js';

export interface MultiHeadAttentionOptions {
  hidden: number;
  heads: number;
  /** Key/value heads for grouped-query attention (defaults to heads). */
  kvHeads?: number;
  headDim?: number;
  bias?: boolean;
  layout?: 'out_in' | 'in_out';
  /** Projection names: one fused q|k|v projection (GPT-2's c_attn) or four separate ones. */
  names: { qkv: string; out: string } | { q: string; k: string; v: string; out: string };
  /** Score scale; 1/sqrt(headDim) by default (T5 uses 1). */
  scale?: number;
  std?: number;
  outStd?: number;
  /**
   * Dropout on the attention probabilities in training: true = at the Ctx's rate (GPT-2's attn_pdrop), a number =
   * at that rate (BERT's attention_probs_dropout_prob).
   */
  attnDropout?: boolean | number;
}

export interface AttentionCall {
  /** true = may attend; broadcast against [B, heads, Tq, Tk]. */
  mask?: Tensor;
  /** Additive score bias (T5's relative positions). */
  bias?: Tensor;
  /** Rotates queries and keys ([B, heads, T, d]) before the scores (RoPE). */
  rotate?: (q: Tensor, k: Tensor) => [Tensor, Tensor];
  /** Keys and values to attend over instead of x's own (cross-attention). */
  kvInput?: Tensor;
  /** Cached keys/values [B, kvHeads, Tpast, d] to prepend (generation). */
  past?: { key: Tensor; value: Tensor };
  /** The name of past + new positions (e.g. the attention mask's "total_sequence_length"). */
  totalLength?: Dim;
}

export class MultiHeadAttention extends Module {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  private readonly qkv?: Linear;
  private readonly q?: Linear;
  private readonly k?: Linear;
  private readonly v?: Linear;
  readonly out: Linear;
  constructor(prefix: string, readonly opts: MultiHeadAttentionOptions) {
    super(prefix);
    this.heads = opts.heads;
    this.kvHeads = opts.kvHeads ?? opts.heads;
    this.headDim = opts.headDim ?? opts.hidden / opts.heads;
    const lin = { bias: opts.bias ?? true, layout: opts.layout, std: opts.std };
    const n = opts.names;
    const qDim = this.heads * this.headDim;
    const kvDim = this.kvHeads * this.headDim;
    if ('qkv' in n) this.qkv = this.child(new Linear(join(prefix, n.qkv), opts.hidden, qDim + 2 * kvDim, lin));
    else {
      this.q = this.child(new Linear(join(prefix, n.q), opts.hidden, qDim, lin));
      this.k = this.child(new Linear(join(prefix, n.k), opts.hidden, kvDim, lin));
      this.v = this.child(new Linear(join(prefix, n.v), opts.hidden, kvDim, lin));
    }
    this.out = this.child(new Linear(join(prefix, n.out), qDim, opts.hidden, { ...lin, std: opts.outStd ?? opts.std }));
  }

  /** Returns the output [B, T, hidden] and this call's keys/values [B, kvHeads, Tk, d] (for a KV cache). */
  forward(ctx: Ctx, x: Tensor, call: AttentionCall = {}): { out: Tensor; key: Tensor; value: Tensor } {
    return ctx.g.scope('attention', this.prefix, () => this.attend(ctx, x, call));
  }

  private attend(ctx: Ctx, x: Tensor, call: AttentionCall): { out: Tensor; key: Tensor; value: Tensor } {
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    const qDim = this.heads * this.headDim;
    const kvDim = this.kvHeads * this.headDim;
    if (this.qkv) [q, k, v] = F.split(this.qkv.forward(ctx, x), -1, [qDim, kvDim, kvDim]);
    else {
      const src = call.kvInput ?? x;
      [q, k, v] = [this.q!.forward(ctx, x), this.k!.forward(ctx, src), this.v!.forward(ctx, src)];
    }
    q = splitHeads(q, this.heads);
    k = splitHeads(k, this.kvHeads);
    v = splitHeads(v, this.kvHeads);
    if (call.rotate) [q, k] = call.rotate(q, k);
    if (call.past) {
      k = F.concat([call.past.key, k], 2);
      v = F.concat([call.past.value, v], 2);
      if (call.totalLength !== undefined) {
        k = F.withShape(k, [k.shape[0], k.shape[1], call.totalLength, k.shape[3]]);
        v = F.withShape(v, [v.shape[0], v.shape[1], call.totalLength, v.shape[3]]);
      }
    }
    const rep = this.heads / this.kvHeads;
    const scale = this.opts.scale ?? 1 / Math.sqrt(this.headDim);
    const rate = this.opts.attnDropout;
    const dropProbs = rate === true ? (p: Tensor) => ctx.dropout(p) : typeof rate === 'number' && rate > 0 ? (p: Tensor) => ctx.dropout(p, rate) : undefined;
    let y = attention(q, repeatKv(k, rep), repeatKv(v, rep), { scale, mask: call.mask, bias: call.bias, dropProbs });
    y = mergeHeads(y);
    return { out: this.out.forward(ctx, y), key: k, value: v };
  }
}

export interface MlpOptions {
  hidden: number;
  inner: number;
  act: Activation;
  names: { up: string; down: string; gate?: string };
  bias?: boolean;
  layout?: 'out_in' | 'in_out';
  std?: number;
  outStd?: number;
}

/** down(act(up(x))), or with a gate (SwiGLU): down(act(gate(x)) * up(x)). */
export class MLP extends Module {
  private readonly up: Linear;
  private readonly down: Linear;
  private readonly gate?: Linear;
  constructor(prefix: string, readonly opts: MlpOptions) {
    super(prefix);
    const lin = { bias: opts.bias ?? true, layout: opts.layout, std: opts.std };
    if (opts.names.gate) this.gate = this.child(new Linear(join(prefix, opts.names.gate), opts.hidden, opts.inner, lin));
    this.up = this.child(new Linear(join(prefix, opts.names.up), opts.hidden, opts.inner, lin));
    this.down = this.child(new Linear(join(prefix, opts.names.down), opts.inner, opts.hidden, { ...lin, std: opts.outStd ?? opts.std }));
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.g.scope('mlp', this.prefix, () => {
      const h = this.gate
        ? F.mul(activate(this.gate.forward(ctx, x), this.opts.act), this.up.forward(ctx, x))
        : activate(this.up.forward(ctx, x), this.opts.act);
      return this.down.forward(ctx, h);
    });
  }
}

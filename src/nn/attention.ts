// Multi-head attention pieces shared by the models: head splitting, masks, and scaled dot-product attention.
import type { Graph, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';

/** [B, T, heads*d] -> [B, heads, T, d] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, h] = x.shape;
  const d = (h as number) / heads;
  return F.transpose(F.reshape(x, [b, t, heads, d]), [0, 2, 1, 3]);
}

/** [B, heads, T, d] -> [B, T, heads*d] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, heads, t, d] = x.shape;
  return F.reshape(F.transpose(x, [0, 2, 1, 3]), [b, t, (heads as number) * (d as number)]);
}

/** Repeat each key/value head n times ([B, kvHeads, T, d] -> [B, kvHeads*n, T, d]): query head h uses kv head h // n. */
export function repeatKv(x: Tensor, n: number): Tensor {
  if (n === 1) return x;
  const [b, kv, t, d] = x.shape;
  const e = F.expand(F.unsqueeze(x, 2), [b, kv, n, t, d]);
  return F.reshape(e, [b, (kv as number) * n, t, d]);
}

/** Key-padding mask [B, 1, 1, Tk] (true = attend) from an int64 attention_mask [B, Tk] of 1s and 0s. */
export function paddingMask(attentionMask: Tensor): Tensor {
  return F.unsqueeze(F.equal(attentionMask, 1), [1, 2]);
}

/** Causal mask [1, 1, Tq, Tk]: the last Tq of Tk positions attend to themselves and the past. */
export function causalMask4d(g: Graph, tq: Tensor['shape'][number], tk: Tensor['shape'][number]): Tensor {
  return F.unsqueeze(F.causalMask(g, tq, tk), [0, 1]);
}

/**
 * Prefix-LM mask [B, 1, T, T] (true = attend): causal, and in row b also full (bidirectional) attention among the
 * first prefixLength[b] positions, i.e. causal OR (query < p AND key < p). `prefixLength` is int64 [B]; a prefix
 * of 0 or 1 gives the causal mask.
 */
export function prefixLmMask(g: Graph, t: Tensor['shape'][number], prefixLength: Tensor): Tensor {
  const p = F.unsqueeze(prefixLength, [1, 2, 3]);
  const query = F.unsqueeze(F.arange(g, t), [0, 1, 3]);
  const key = F.unsqueeze(F.arange(g, t), [0, 1, 2]);
  return F.or(causalMask4d(g, t, t), F.and(F.less(query, p), F.less(key, p)));
}

/** The most negative float32, as Hugging Face fills masked scores (finfo(float32).min). */
export const MASKED = -3.4028234663852886e38;

/**
 * softmax(q k^T * scale + bias, masked) v over [B, heads, T, d] tensors, with optional dropout on the probabilities. `mask` is true where attention is
 * allowed and broadcasts against the scores [B, heads, Tq, Tk].
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { scale?: number; mask?: Tensor; bias?: Tensor; dropProbs?: (p: Tensor) => Tensor } = {},
): Tensor {
  let scores = F.matmul(q, F.transposeLast2(k));
  if (opts.scale !== undefined && opts.scale !== 1) scores = F.mul(scores, opts.scale);
  if (opts.bias) scores = F.add(scores, opts.bias);
  if (opts.mask) scores = F.where(opts.mask, scores, MASKED);
  let probs = F.softmax(scores, -1);
  if (opts.dropProbs) probs = opts.dropProbs(probs);
  return F.matmul(probs, v);
}

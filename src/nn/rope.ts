// Rotary position embeddings (RoPE) as LLaMA and GPT-NeoX apply them in Hugging Face: a head of size d is split
// into two halves and dimension i is rotated together with dimension i + d/2 (not the interleaved pairs 2i, 2i+1
// of the RoPE paper). Pair i turns by the angle position * theta^(-2i/d).
import type { DType, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';

/** 1 / theta^(2i/d) for i = 0..d/2-1, rounded step by step to float32 as HF computes its `inv_freq` buffer. */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  if (headDim % 2 !== 0) throw new Error(`rope: the head size must be even, got ${headDim}`);
  return Float32Array.from({ length: headDim / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim))));
}

/**
 * cos and sin of the rotation angles for int64 position ids [B, T], as [B, 1, T, d] so that they broadcast over the
 * heads of [B, heads, T, d] queries and keys. Computed in-graph, so any position works (no table to outgrow).
 */
export function ropeCosSin(positionIds: Tensor, headDim: number, theta: number, dtype: DType = 'float32'): { cos: Tensor; sin: Tensor } {
  const g = positionIds.graph;
  const invFreq = ropeInvFreq(headDim, theta);
  const freq = g.constant(dtype === 'float64' ? Float64Array.from(invFreq) : invFreq, dtype, [headDim / 2]);
  const angles = F.mul(F.unsqueeze(F.cast(positionIds, dtype), -1), freq); // [B, T, d/2]
  // Both halves of a head turn by the same angles.
  const emb = F.unsqueeze(F.concat([angles, angles], -1), 1); // [B, 1, T, d]
  return { cos: F.cos(emb), sin: F.sin(emb) };
}

/** [x1, x2] -> [-x2, x1] over the last axis: the 90-degree turn of each (i, i + d/2) pair. */
export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1] as number;
  const [x1, x2] = F.split(x, -1, [d / 2, d / 2]);
  return F.concat([F.neg(x2), x1], -1);
}

/** x * cos + rotateHalf(x) * sin, for x [B, heads, T, d] and cos/sin from ropeCosSin. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return F.add(F.mul(x, cos), F.mul(rotateHalf(x), sin));
}

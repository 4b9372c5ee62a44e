// Neural-network ops: matmul, softmax, normalisation, the loss, dropout.
import { isFloat } from '../dtype.js';
import { broadcastShapes, dimEq, numel, shapeStr, type Dim } from '../shape.js';
import type { Attrs, Node, OpDef, Tensor } from '../tensor.js';
import {
  add, bitwiseXor, cast, div, equal, exp, greaterOrEqual, maximum, mod, mul, neg, not, rsqrt, sub, where,
} from './elementwise.js';
import { reduceMean, reduceSum } from './reduce.js';
import { arange, reshape, scatterElementsAdd, sumTo, transposeLast2, unsqueeze } from './shape.js';
import { scalar } from './util.js';

// ---- matmul ----
export const MatMul: OpDef = {
  type: 'matmul',
  infer: ([a, b]) => {
    if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must have rank >= 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
    if (!dimEq(a.shape[a.rank - 1], b.shape[b.rank - 2]))
      throw new Error(`matmul: inner dims differ: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`);
    if (a.dtype !== b.dtype) throw new Error(`matmul: dtypes differ (${a.dtype}, ${b.dtype})`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
    return [{ dtype: a.dtype, shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]] }];
  },
  lower: (l, n) => l.add('MatMul', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])]),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [a, b] = n.inputs;
    let da: Tensor | undefined;
    let db: Tensor | undefined;
    if (a.requiresGrad) {
      if (b.rank === 2 && a.rank > 2) {
        // Fold the batch into rows here too: one 2-D GEMM, which MLAS runs faster than a loop of small ones.
        const n = b.shape[1];
        da = reshape(matmul(reshape(dy, [-1, n]), transposeLast2(b)), [...a.shape]);
      } else da = sumTo(matmul(dy, transposeLast2(b)), a.shape);
    }
    if (b.requiresGrad) {
      if (b.rank === 2 && a.rank > 2) {
        // A weight shared across the batch: fold the batch into rows, one GEMM instead of a batched one + sum.
        const k = a.shape[a.rank - 1];
        const m = b.shape[1];
        db = matmul(transposeLast2(reshape(a, [-1, k])), reshape(dy, [-1, m]));
      } else db = sumTo(matmul(transposeLast2(a), dy), b.shape);
    }
    return [da, db];
  },
};
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.graph.apply(MatMul, [a, b], {})[0];
}

// ---- softmax ----
type AxisAttrs = Attrs & { axis: number };
export const Softmax: OpDef<AxisAttrs> = {
  type: 'softmax',
  infer: ([x]) => [{ dtype: x.dtype, shape: [...x.shape] }],
  lower: (l, n) => l.add('Softmax', [l.name(n.inputs[0])], [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const y = n.outputs[0];
    return [mul(y, sub(dy, reduceSum(mul(dy, y), n.attrs.axis, true)))];
  },
};
export const LogSoftmax: OpDef<AxisAttrs> = {
  type: 'log_softmax',
  infer: ([x]) => [{ dtype: x.dtype, shape: [...x.shape] }],
  lower: (l, n) => l.add('LogSoftmax', [l.name(n.inputs[0])], [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis] }),
  grad: (n, [dy]) => (dy ? [sub(dy, mul(exp(n.outputs[0]), reduceSum(dy, n.attrs.axis, true)))] : []),
};
export function softmax(x: Tensor, axis = -1): Tensor {
  return x.graph.apply(Softmax, [x], { axis })[0];
}
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.graph.apply(LogSoftmax, [x], { axis })[0];
}

// ---- layer norm (last axis) ----
type EpsAttrs = Attrs & { eps: number };
/** Outputs [y, mean, invStdDev]; the statistics (float32, as ORT keeps them) serve the backward. */
export const LayerNorm: OpDef<EpsAttrs> = {
  type: 'layer_norm',
  infer: ([x, w, b]) => {
    const h = x.shape[x.rank - 1];
    if (!dimEq(w.shape[0], h) || !dimEq(b.shape[0], h) || w.rank !== 1 || b.rank !== 1)
      throw new Error(`layer_norm: weight ${shapeStr(w.shape)} and bias ${shapeStr(b.shape)} must be [${h}]`);
    const stat = [...x.shape.slice(0, -1), 1];
    return [
      { dtype: x.dtype, shape: [...x.shape] },
      { dtype: 'float32', shape: stat },
      { dtype: 'float32', shape: stat },
    ];
  },
  lower: (l, n) =>
    l.add('LayerNormalization', n.inputs.map((t) => l.name(t)), n.outputs.map((t) => l.name(t)), {
      axis: ['int', -1],
      epsilon: ['float', n.attrs.eps],
    }),
  grad: (n: Node<EpsAttrs>, [dy]) => {
    if (!dy) return [];
    const [x, w, b] = n.inputs;
    let mean: Tensor;
    let invStd: Tensor;
    if (x.dtype === 'float32') [, mean, invStd] = n.outputs;
    else {
      // ORT keeps the statistics in float32 only; recompute them at full precision for float64.
      mean = reduceMean(x, -1, true);
      const xc = sub(x, mean);
      invStd = rsqrt(add(reduceMean(mul(xc, xc), -1, true), n.attrs.eps));
    }
    const xhat = mul(sub(x, mean), invStd);
    const dxhat = mul(dy, w);
    const dx = x.requiresGrad
      ? mul(invStd, sub(sub(dxhat, reduceMean(dxhat, -1, true)), mul(xhat, reduceMean(mul(dxhat, xhat), -1, true))))
      : undefined;
    return [dx, w.requiresGrad ? sumTo(mul(dy, xhat), w.shape) : undefined, b.requiresGrad ? sumTo(dy, b.shape) : undefined];
  },
};
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return x.graph.apply(LayerNorm, [x, weight, bias], { eps })[0];
}

/** RMSNorm (LLaMA, T5): x / sqrt(mean(x^2) + eps) * weight. Built from primitives, so its gradient is automatic. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  return mul(mul(x, rsqrt(add(reduceMean(mul(x, x), -1, true), eps))), weight);
}

// ---- cross-entropy ----
type CeAttrs = Attrs & { ignoreIndex: number };
/**
 * Mean softmax cross-entropy of logits [N, C] against int64 labels [N], skipping labels equal to ignoreIndex
 * (-100, as PyTorch and Hugging Face). Outputs [loss, logProb]; logProb serves the backward.
 */
export const CrossEntropy: OpDef<CeAttrs> = {
  type: 'cross_entropy',
  infer: ([logits, labels]) => {
    if (logits.rank !== 2 || labels.rank !== 1 || !dimEq(logits.shape[0], labels.shape[0]))
      throw new Error(`cross_entropy: expects logits [N, C] and labels [N], got ${shapeStr(logits.shape)} and ${shapeStr(labels.shape)}`);
    if (labels.dtype !== 'int64') throw new Error(`cross_entropy: labels must be int64, got ${labels.dtype}`);
    return [
      { dtype: logits.dtype, shape: [] },
      { dtype: logits.dtype, shape: [...logits.shape] },
    ];
  },
  lower: (l, n) =>
    l.add('SoftmaxCrossEntropyLoss', n.inputs.map((t) => l.name(t)), n.outputs.map((t) => l.name(t)), {
      reduction: ['string', 'mean'],
      ignore_index: ['int', n.attrs.ignoreIndex],
    }),
  grad: (n, [dLoss]) => {
    if (!dLoss) return [];
    const [logits, labels] = n.inputs;
    const logProb = n.outputs[1];
    // d/dlogits = (softmax - onehot(label)) * valid / count: scale the softmax, then subtract the scale at each
    // row's label with a scatter, never building the [N, C] one-hot. Ignored rows point at column 0 with weight 0.
    const isValid = not(equal(labels, n.attrs.ignoreIndex));
    const valid = cast(isValid, logits.dtype);
    // A batch with every label ignored has no loss to follow: its gradient is 0, not 0/0.
    const weight = unsqueeze(mul(div(valid, maximum(reduceSum(valid, 0), 1)), dLoss), 1);
    const target = unsqueeze(where(isValid, labels, 0), 1);
    return [scatterElementsAdd(mul(exp(logProb), weight), target, neg(weight), 1)];
  },
};
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  return logits.graph.apply(CrossEntropy, [logits, labels], { ignoreIndex })[0];
}

// ---- dropout ----
const TWO_32 = 2 ** 32;
/** A 32-bit integer mix (the "lowbias32"-style xorshift-multiply), on int64 values in [0, 2^32). */
function mix32(x: Tensor): Tensor {
  const shift16 = (v: Tensor) => bitwiseXor(v, div(v, 65536));
  let h = shift16(x);
  h = mod(mul(h, 0x45d9f3b), TWO_32);
  h = shift16(h);
  h = mod(mul(h, 0x45d9f3b), TWO_32);
  return shift16(h);
}

/**
 * Inverted dropout whose mask is a counter-based hash of (seed, step, salt, position): the same inputs give the
 * same mask on every run and after a resume, with no generator state to save. `seed` and `step` are int64
 * scalar graph inputs; `salt` tells dropout sites apart. The gradient is the same mask (through `mul`).
 */
export function dropout(x: Tensor, p: number, seed: Tensor, step: Tensor, salt: number): Tensor {
  if (p <= 0) return x;
  if (p >= 1) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!isFloat(x.dtype)) throw new Error(`dropout: expects a float tensor, got ${x.dtype}`);
  const g = x.graph;
  const key = mix32(mod(add(mix32(mod(add(mul(seed, 7919), step), TWO_32)), salt * 2654435761), TWO_32));
  const n: Dim = numel(x.shape);
  const pos = reshape(arange(g, n), [...x.shape]);
  const h = mix32(mod(add(mul(pos, 2), key), TWO_32));
  const u = div(cast(h, x.dtype), TWO_32);
  const keep = cast(greaterOrEqual(u, scalar(g, p, x.dtype)), x.dtype);
  return mul(x, mul(keep, 1 / (1 - p)));
}

// Reductions over a set of axes, with or without keeping them as size-1 axes.
import { normAxis, type Dim } from '../shape.js';
import type { Attrs, Node, OpDef, OutputSpec, Tensor } from '../tensor.js';
import { div, equal, mul, where } from './elementwise.js';
import { dimValue, expand, reshape } from './shape.js';

type ReduceAttrs = Attrs & { axes: readonly number[]; keepdims: boolean };

function reduceInfer(type: string) {
  return ([x]: readonly Tensor[], { axes, keepdims }: ReduceAttrs): OutputSpec[] => {
    const norm = axes.map((a) => normAxis(a, x.rank, type));
    const shape: Dim[] = [];
    x.shape.forEach((d, i) => {
      if (!norm.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    return [{ dtype: x.dtype, shape }];
  };
}

function lowerReduce(onnx: string) {
  return (l: Parameters<OpDef['lower']>[0], n: Node<ReduceAttrs>) =>
    l.add(onnx, [l.name(n.inputs[0]), l.constI64(n.attrs.axes)], [l.name(n.outputs[0])], {
      keepdims: ['int', n.attrs.keepdims ? 1 : 0],
    });
}

/** The reduced gradient (or output) broadcast back over the input's shape. */
function spread(t: Tensor, n: Node<ReduceAttrs>): Tensor {
  const x = n.inputs[0];
  const kept = n.attrs.keepdims ? t : reshape(t, x.shape.map((d, i) => (n.attrs.axes.map((a) => normAxis(a, x.rank, 'reduce')).includes(i) ? 1 : d)));
  return expand(kept, [...x.shape]);
}

export const ReduceSum: OpDef<ReduceAttrs> = {
  type: 'reduce_sum',
  infer: reduceInfer('reduce_sum'),
  lower: lowerReduce('ReduceSum'),
  grad: (n, [dy]) => (dy ? [spread(dy, n)] : []),
};
export const ReduceMean: OpDef<ReduceAttrs> = {
  type: 'reduce_mean',
  infer: reduceInfer('reduce_mean'),
  lower: lowerReduce('ReduceMean'),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const x = n.inputs[0];
    const count = n.attrs.axes.map((a) => x.shape[normAxis(a, x.rank, 'reduce_mean')]).reduce<Tensor | number>(
      (acc, d) => (typeof d === 'number' && typeof acc === 'number' ? acc * d : mul(dimValue(x.graph, d, x.dtype), acc)),
      1,
    );
    return [div(spread(dy, n), count)];
  },
};
/** Max; tied maxima each receive the full gradient. */
export const ReduceMax: OpDef<ReduceAttrs> = {
  type: 'reduce_max',
  infer: reduceInfer('reduce_max'),
  lower: lowerReduce('ReduceMax'),
  grad: (n, [dy]) => (dy ? [where(equal(n.inputs[0], spread(n.outputs[0], n)), spread(dy, n), 0)] : []),
};

const norm = (axes: number | number[]) => (typeof axes === 'number' ? [axes] : axes);
export function reduceSum(x: Tensor, axes: number | number[], keepdims = false): Tensor {
  return x.graph.apply(ReduceSum, [x], { axes: norm(axes), keepdims })[0];
}
export function reduceMean(x: Tensor, axes: number | number[], keepdims = false): Tensor {
  return x.graph.apply(ReduceMean, [x], { axes: norm(axes), keepdims })[0];
}
export function reduceMax(x: Tensor, axes: number | number[], keepdims = false): Tensor {
  return x.graph.apply(ReduceMax, [x], { axes: norm(axes), keepdims })[0];
}
// ---- cumulative sum ----
type CumSumAttrs = Attrs & { axis: number; reverse: boolean };
/**
 * Running sum along one axis (ONNX CumSum, inclusive). Its own op rather than a matmul with a triangle of ones: O(T)
 * instead of O(T^2), exact on int64, and one node in exported graphs (RoBERTa's position ids). The gradient of a
 * running sum is the running sum of dy taken from the other end.
 */
export const CumSum: OpDef<CumSumAttrs> = {
  type: 'cumsum',
  infer: ([x], { axis }) => {
    normAxis(axis, x.rank, 'cumsum');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  lower: (l, n) =>
    l.add('CumSum', [l.name(n.inputs[0]), l.constI64([n.attrs.axis], true)], [l.name(n.outputs[0])], {
      reverse: ['int', n.attrs.reverse ? 1 : 0],
    }),
  grad: (n, [dy]) => (dy ? [cumsum(dy, n.attrs.axis, !n.attrs.reverse)] : []),
};
export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  return x.graph.apply(CumSum, [x], { axis, reverse })[0];
}

/** Sum over every axis, to a scalar. */
export function sumAll(x: Tensor): Tensor {
  return reduceSum(x, [...Array(x.rank).keys()]);
}

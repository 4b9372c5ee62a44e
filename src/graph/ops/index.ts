// Every op, registered in one place. Each file keeps an op's builder, shape rule and gradient rule together.
import * as E from './elementwise.js';
import * as N from './nn.js';
import * as R from './reduce.js';
import * as S from './shape.js';
import type { OpDef } from '../tensor.js';

export {
  add, sub, mul, div, pow, maximum, minimum, mod, bitwiseXor, equal, less, greater, greaterOrEqual, and, or, not,
  neg, sqrt, rsqrt, exp, log, tanh, erf, sigmoid, sin, cos, relu, silu, gelu, where, cast, scalar,
} from './elementwise.js';
export { reduceSum, reduceMean, reduceMax, sumAll, cumsum } from './reduce.js';
export {
  sumTo, transpose, transposeLast2, reshape, expand, unsqueeze, squeeze, concat, split, slice, pad, gather,
  scatterNdAdd, fill, zeros, arange, dimValue, trilu, causalMask, withShape, scatterElementsAdd, nonZero,
} from './shape.js';
export { matmul, softmax, logSoftmax, layerNorm, rmsNorm, crossEntropy, dropout } from './nn.js';
export type { TensorLike } from './util.js';

/** The op registry: type name -> definition. */
export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [
    E.Add, E.Sub, E.Mul, E.Div, E.Pow, E.Maximum, E.Minimum, E.Mod, E.BitwiseXor, E.Equal, E.Less, E.Greater,
    E.GreaterOrEqual, E.And, E.Or, E.Not, E.Neg, E.Sqrt, E.Rsqrt, E.Exp, E.Log, E.Tanh, E.Erf, E.Sigmoid, E.Relu,
    E.Sin, E.Cos, E.Silu, E.Gelu, E.Where, E.Cast,
    R.ReduceSum, R.ReduceMean, R.ReduceMax, R.CumSum,
    S.Transpose, S.Reshape, S.Expand, S.Unsqueeze, S.Squeeze, S.Concat, S.Split, S.Slice, S.Pad, S.Gather,
    S.ScatterNdAdd, S.Fill, S.Arange, S.DimValue, S.Trilu, S.WithShape, S.ScatterElementsAdd, S.NonZero,
    N.MatMul, N.Softmax, N.LogSoftmax, N.LayerNorm, N.CrossEntropy,
  ].map((op) => [op.type, op as unknown as OpDef]),
);

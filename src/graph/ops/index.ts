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
  scatterNdAdd, fill, zeros, arange, dimValue, trilu, causalMask, withShape, scatterElementsAdd, gatherElements, nonZero,
} from './shape.js';
export { matmul, softmax, logSoftmax, layerNorm, rmsNorm, crossEntropy, dropout } from './nn.js';
export type { TensorLike } from './util.js';

function isOpDef(v: unknown): v is OpDef {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Partial<OpDef>;
  return typeof o.type === 'string' && typeof o.infer === 'function' && typeof o.lower === 'function';
}

/**
 * The op registry: type name -> definition, collected from every OpDef the op modules export (so an op cannot be
 * defined and left out). Two definitions of one type name are an error.
 */
export const OPS: ReadonlyMap<string, OpDef> = (() => {
  const out = new Map<string, OpDef>();
  for (const mod of [E, R, S, N] as Record<string, unknown>[]) {
    for (const [exportName, v] of Object.entries(mod)) {
      if (!isOpDef(v)) continue;
      const seen = out.get(v.type);
      if (seen && seen !== v) throw new Error(`op registry: two definitions of op "${v.type}" (the second exported as ${exportName})`);
      out.set(v.type, v);
    }
  }
  return out;
})();

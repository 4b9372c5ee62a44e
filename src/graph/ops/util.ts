// Helpers shared by the op files: lifting numbers to constants, and undoing broadcasting in gradients.
import { scalarArray, type DType } from '../dtype.js';
import { dimEq, type Shape } from '../shape.js';
import type { Graph, Tensor } from '../tensor.js';

const scalarCache = new WeakMap<Graph, Map<string, Tensor>>();

/** A scalar constant of the given dtype, shared within a graph. */
export function scalar(g: Graph, value: number, dtype: DType): Tensor {
  let m = scalarCache.get(g);
  if (!m) scalarCache.set(g, (m = new Map()));
  const key = `${dtype}:${value}`;
  let t = m.get(key);
  if (!t) {
    t = g.constant(scalarArray(value, dtype), dtype, []);
    m.set(key, t);
  }
  return t;
}

export type TensorLike = Tensor | number;

/** Numbers become scalars of the other operand's dtype. */
export function lift(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a tensor`);
  const ta = typeof a === 'number' ? scalar((b as Tensor).graph, a, (b as Tensor).dtype) : a;
  const tb = typeof b === 'number' ? scalar(ta.graph, b, ta.dtype) : b;
  return [ta, tb];
}

/** The axes of a gradient of shape `from` that must be summed to give shape `to` (undoing broadcasting). */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i);
    else if (to[i - lead] === 1 && !dimEq(from[i], 1)) axes.push(i);
  }
  return axes;
}

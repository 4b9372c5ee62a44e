// Ops that move data without arithmetic: layout, indexing, and constants made at run time.
import { scalarArray, type DType } from '../dtype.js';
import { dimDiv, dimEq, dimMul, normAxis, numel, shapeStr, type Dim, type Shape } from '../shape.js';
import type { Attrs, Graph, OpDef, Tensor } from '../tensor.js';
import { broadcastAxes, scalar } from './util.js';
import { reduceSum } from './reduce.js';
import { add, cast, greater, mul, not } from './elementwise.js';

/** Sum a broadcast gradient back to the shape of the operand it came from. */
export function sumTo(dy: Tensor, shape: Shape): Tensor {
  const axes = broadcastAxes(dy.shape, shape);
  let out = axes.length ? reduceSum(dy, axes, true) : dy;
  if (out.rank !== shape.length) out = reshape(out, [...shape]);
  return out;
}

// ---- transpose ----
type PermAttrs = Attrs & { perm: readonly number[] };
export const Transpose: OpDef<PermAttrs> = {
  type: 'transpose',
  infer: ([x], { perm }) => {
    if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i))
      throw new Error(`transpose: perm [${perm}] is not a permutation of rank ${x.rank}`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  lower: (l, n) => l.add('Transpose', [l.name(n.inputs[0])], [l.name(n.outputs[0])], { perm: ['ints', n.attrs.perm] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const inv = new Array<number>(n.attrs.perm.length);
    n.attrs.perm.forEach((p, i) => (inv[p] = i));
    return [transpose(dy, inv)];
  },
};
export function transpose(x: Tensor, perm?: number[]): Tensor {
  return x.graph.apply(Transpose, [x], { perm: perm ?? [...Array(x.rank).keys()].reverse() })[0];
}
/** Swap the last two axes. */
export function transposeLast2(x: Tensor): Tensor {
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

// ---- reshape ----
type ShapeAttrs = Attrs & { shape: readonly Dim[] };
export const Reshape: OpDef<ShapeAttrs> = {
  type: 'reshape',
  infer: ([x], { shape }) => {
    const free = shape.filter((d) => d === -1).length;
    if (free > 1) throw new Error(`reshape: at most one -1 in ${shapeStr(shape)}`);
    const total = numel(x.shape);
    const known = shape.filter((d) => d !== -1).reduce<Dim>((a, d) => dimMul(a, d), 1);
    const out = [...shape];
    if (free) {
      const rest = dimDiv(total, known);
      if (rest === undefined) throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
      out[out.indexOf(-1)] = rest;
    } else if (!dimEq(total, known)) throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    return [{ dtype: x.dtype, shape: out }];
  },
  lower: (l, n) => {
    const x = n.inputs[0];
    const out = n.outputs[0].shape;
    // Copy (0) the axes that keep their input dim and let one symbolic axis be inferred (-1): the shape is then a
    // constant and ORT can fold it; otherwise compute it from the symbols at run time.
    const spec: Dim[] = out.map((d, i) => (typeof d === 'string' && i < x.rank && d === x.shape[i] ? 0 : d));
    const symbolic = spec.filter((d) => typeof d === 'string');
    if (symbolic.length === 1) spec[spec.indexOf(symbolic[0])] = -1;
    const shapeName = symbolic.length <= 1 ? l.constI64(spec as number[]) : l.shape(out);
    l.add('Reshape', [l.name(x), shapeName], [l.name(n.outputs[0])]);
  },
  grad: (n, [dy]) => (dy ? [reshape(dy, [...n.inputs[0].shape])] : []),
};
export function reshape(x: Tensor, shape: Dim[]): Tensor {
  if (shape.length === x.rank && shape.every((d, i) => d !== -1 && dimEq(d, x.shape[i]))) return x;
  return x.graph.apply(Reshape, [x], { shape })[0];
}

// ---- expand ----
export const Expand: OpDef<ShapeAttrs> = {
  type: 'expand',
  infer: ([x], { shape }) => {
    if (shape.length < x.rank) throw new Error(`expand: target ${shapeStr(shape)} has lower rank than ${shapeStr(x.shape)}`);
    const lead = shape.length - x.rank;
    x.shape.forEach((d, i) => {
      if (d !== 1 && !dimEq(d, shape[i + lead])) throw new Error(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    });
    return [{ dtype: x.dtype, shape: [...shape] }];
  },
  lower: (l, n) => l.add('Expand', [l.name(n.inputs[0]), l.shape(n.attrs.shape)], [l.name(n.outputs[0])]),
  grad: (n, [dy]) => (dy ? [sumTo(dy, n.inputs[0].shape)] : []),
};
export function expand(x: Tensor, shape: Dim[]): Tensor {
  return x.graph.apply(Expand, [x], { shape })[0];
}

// ---- unsqueeze / squeeze ----
type AxesAttrs = Attrs & { axes: readonly number[] };
export const Unsqueeze: OpDef<AxesAttrs> = {
  type: 'unsqueeze',
  infer: ([x], { axes }) => {
    const rank = x.rank + axes.length;
    const norm = axes.map((a) => normAxis(a, rank, 'unsqueeze')).sort((a, b) => a - b);
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape: out }];
  },
  lower: (l, n) => l.add('Unsqueeze', [l.name(n.inputs[0]), l.constI64(n.attrs.axes)], [l.name(n.outputs[0])]),
  grad: (n, [dy]) => (dy ? [reshape(dy, [...n.inputs[0].shape])] : []),
};
export function unsqueeze(x: Tensor, axes: number | number[]): Tensor {
  return x.graph.apply(Unsqueeze, [x], { axes: typeof axes === 'number' ? [axes] : axes })[0];
}
export const Squeeze: OpDef<AxesAttrs> = {
  type: 'squeeze',
  infer: ([x], { axes }) => {
    const norm = axes.map((a) => normAxis(a, x.rank, 'squeeze'));
    for (const a of norm) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${shapeStr(x.shape)} is not 1`);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !norm.includes(i)) }];
  },
  lower: (l, n) => l.add('Squeeze', [l.name(n.inputs[0]), l.constI64(n.attrs.axes)], [l.name(n.outputs[0])]),
  grad: (n, [dy]) => (dy ? [reshape(dy, [...n.inputs[0].shape])] : []),
};
export function squeeze(x: Tensor, axes: number | number[]): Tensor {
  return x.graph.apply(Squeeze, [x], { axes: typeof axes === 'number' ? [axes] : axes })[0];
}

// ---- concat / split ----
type AxisAttrs = Attrs & { axis: number };
export const Concat: OpDef<AxisAttrs> = {
  type: 'concat',
  infer: (xs, { axis }) => {
    const a = normAxis(axis, xs[0].rank, 'concat');
    const out = [...xs[0].shape];
    for (const x of xs.slice(1)) {
      if (x.rank !== out.length || x.dtype !== xs[0].dtype) throw new Error('concat: inputs differ in rank or dtype');
      x.shape.forEach((d, i) => {
        if (i !== a && !dimEq(d, out[i])) throw new Error(`concat: shapes ${shapeStr(xs[0].shape)} and ${shapeStr(x.shape)} differ off axis ${a}`);
      });
      const [p, q] = [out[a], x.shape[a]];
      out[a] = typeof p === 'number' && typeof q === 'number' ? p + q : `${p}+${q}`;
    }
    return [{ dtype: xs[0].dtype, shape: out }];
  },
  lower: (l, n) => l.add('Concat', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis] }),
  grad: (n, [dy]) => (dy ? split(dy, n.attrs.axis, n.inputs.map((x) => x.shape[normAxis(n.attrs.axis, x.rank, 'concat')])) : []),
};
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 1) return xs[0];
  return xs[0].graph.apply(Concat, xs, { axis })[0];
}

type SplitAttrs = Attrs & { axis: number; sizes: readonly Dim[] };
export const Split: OpDef<SplitAttrs> = {
  type: 'split',
  infer: ([x], { axis, sizes }) => {
    const a = normAxis(axis, x.rank, 'split');
    if (sizes.every((s) => typeof s === 'number') && typeof x.shape[a] === 'number') {
      const total = (sizes as number[]).reduce((p, q) => p + q, 0);
      if (total !== x.shape[a]) throw new Error(`split: sizes [${sizes}] do not add up to ${x.shape[a]}`);
    }
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? s : d)) }));
  },
  lower: (l, n) =>
    l.add('Split', [l.name(n.inputs[0]), l.shape(n.attrs.sizes)], n.outputs.map((t) => l.name(t)), { axis: ['int', n.attrs.axis] }),
  grad: (n, dys) => [concat(n.outputs.map((y, i) => dys[i] ?? zeros(y.graph, y.dtype, [...y.shape])), n.attrs.axis)],
};
export function split(x: Tensor, axis: number, sizes: readonly Dim[]): Tensor[] {
  return x.graph.apply(Split, [x], { axis, sizes });
}

// ---- slice (one axis, unit step) ----
type SliceAttrs = Attrs & { axis: number; start: number; end?: number };
export const Slice: OpDef<SliceAttrs> = {
  type: 'slice',
  infer: ([x], { axis, start, end }) => {
    const a = normAxis(axis, x.rank, 'slice');
    const d = x.shape[a];
    let len: Dim;
    if (typeof d === 'number') {
      const s = Math.min(Math.max(start < 0 ? start + d : start, 0), d);
      const e = end === undefined ? d : Math.min(Math.max(end < 0 ? end + d : end, 0), d);
      len = Math.max(e - s, 0);
    } else if (start >= 0 && end !== undefined && end >= 0) len = end - start;
    else if (start >= 0 && (end === undefined || end < 0)) len = `${d}-${start - (end ?? 0)}`.replace(/-0$/, '');
    else len = `${d}[${start}:${end ?? ''}]`;
    return [{ dtype: x.dtype, shape: x.shape.map((v, i) => (i === a ? len : v)) }];
  },
  lower: (l, n) => {
    const { axis, start, end } = n.attrs;
    l.add(
      'Slice',
      [l.name(n.inputs[0]), l.constI64([start]), l.constI64([end ?? Number.MAX_SAFE_INTEGER]), l.constI64([axis])],
      [l.name(n.outputs[0])],
    );
  },
  grad: (n, [dy]) => {
    if (!dy) return [];
    const x = n.inputs[0];
    const a = normAxis(n.attrs.axis, x.rank, 'slice');
    const d = x.shape[a];
    const { start, end } = n.attrs;
    let before: number;
    let after: number;
    if (typeof d === 'number') {
      before = Math.min(Math.max(start < 0 ? start + d : start, 0), d);
      after = d - (before + (dy.shape[a] as number));
    } else {
      if (start < 0) throw new Error('slice: gradient of a negative start on a symbolic axis is not supported');
      before = start;
      if (end === undefined) after = 0;
      else if (end < 0) after = -end;
      else throw new Error('slice: gradient of a positive end on a symbolic axis is not supported');
    }
    return [pad(dy, a, before, after)];
  },
};
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  return x.graph.apply(Slice, [x], { axis, start, end })[0];
}

type PadAttrs = Attrs & { axis: number; before: number; after: number };
/** Zero padding along one axis (the gradient of slice). */
export const Pad: OpDef<PadAttrs> = {
  type: 'pad',
  infer: ([x], { axis, before, after }) => [
    { dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? (typeof d === 'number' ? d + before + after : `${d}+${before + after}`) : d)) },
  ],
  lower: (l, n) => {
    const r = n.inputs[0].rank;
    const pads = new Array<number>(2 * r).fill(0);
    pads[n.attrs.axis] = n.attrs.before;
    pads[r + n.attrs.axis] = n.attrs.after;
    l.add('Pad', [l.name(n.inputs[0]), l.constI64(pads)], [l.name(n.outputs[0])]);
  },
  grad: (n, [dy]) => {
    if (!dy) return [];
    const { axis, before, after } = n.attrs;
    return [slice(dy, axis, before, after === 0 ? undefined : -after)];
  },
};
export function pad(x: Tensor, axis: number, before: number, after: number): Tensor {
  return x.graph.apply(Pad, [x], { axis, before, after })[0];
}

// ---- gather / scatter ----
export const Gather: OpDef<AxisAttrs> = {
  type: 'gather',
  infer: ([data, idx], { axis }) => {
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error(`gather: indices must be int64 or int32, got ${idx.dtype}`);
    const a = normAxis(axis, data.rank, 'gather');
    return [{ dtype: data.dtype, shape: [...data.shape.slice(0, a), ...idx.shape, ...data.shape.slice(a + 1)] }];
  },
  lower: (l, n) => l.add('Gather', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [data, idx] = n.inputs;
    if (normAxis(n.attrs.axis, data.rank, 'gather') !== 0)
      throw new Error('gather: the gradient is implemented for axis 0 (embedding lookup, row select); move the axis first');
    return [scatterNdAdd(zeros(data.graph, data.dtype, [...data.shape]), unsqueeze(cast(idx, 'int64'), -1), dy)];
  },
};
/** Gather along `axis` (embedding lookup when axis = 0). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  return data.graph.apply(Gather, [data, indices], { axis })[0];
}

/** data with `updates` added at `indices` (duplicates accumulate): the gradient of gather. */
export const ScatterNdAdd: OpDef = {
  type: 'scatter_nd_add',
  infer: ([data]) => [{ dtype: data.dtype, shape: [...data.shape] }],
  lower: (l, n) => l.add('ScatterND', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])], { reduction: ['string', 'add'] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [, idx] = n.inputs;
    return [dy, undefined, gather(dy, squeeze(idx, -1), 0)];
  },
};
export function scatterNdAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return data.graph.apply(ScatterNdAdd, [data, indices, updates], {})[0];
}

// ---- data-dependent shapes ----
type NonZeroAttrs = Attrs & { symbol: string };
/** Positions (int64 [n]) of the true entries of a 1-D bool tensor; n is a fresh symbol, read at run time. */
export const NonZero: OpDef<NonZeroAttrs> = {
  type: 'nonzero',
  infer: ([x], { symbol }) => {
    if (x.rank !== 1 || x.dtype !== 'bool') throw new Error(`nonZero: expects a 1-D bool tensor, got ${x.dtype} ${shapeStr(x.shape)}`);
    return [{ dtype: 'int64', shape: [symbol] }];
  },
  lower: (l, n) => {
    const out = l.name(n.outputs[0]);
    l.add('Reshape', [l.emit('NonZero', [l.name(n.inputs[0])]), l.constI64([-1])], [out]); // [1, n] -> [n]
    l.declareSymbol(n.attrs.symbol, out, 0);
  },
};
/** Positions of the true entries of a 1-D bool mask, e.g. the rows to gather before a costly per-row op. */
export function nonZero(mask: Tensor): Tensor {
  return mask.graph.apply(NonZero, [mask], { symbol: `nonzero_${mask.graph.nodes.length}` })[0];
}

// ---- tensors made at run time ----
type FillAttrs = Attrs & { shape: readonly Dim[]; value: number; dtype: DType };
export const Fill: OpDef<FillAttrs> = {
  type: 'fill',
  infer: (_x, a) => [{ dtype: a.dtype, shape: [...a.shape] }],
  lower: (l, n) => {
    const { dtype, value } = n.attrs;
    const arr = scalarArray(value, dtype);
    l.add('ConstantOfShape', [l.shape(n.attrs.shape)], [l.name(n.outputs[0])], { value: ['tensor', { dtype, value: arr }] });
  },
};
export function fill(g: Graph, dtype: DType, shape: Dim[], value: number): Tensor {
  return g.apply(Fill, [], { shape, value, dtype })[0];
}
export function zeros(g: Graph, dtype: DType, shape: Dim[]): Tensor {
  return fill(g, dtype, shape, 0);
}

type ArangeAttrs = Attrs & { n: Dim; dtype: DType };
/** 0, 1, ..., n-1; n may be symbolic. */
export const Arange: OpDef<ArangeAttrs> = {
  type: 'arange',
  infer: (_x, a) => [{ dtype: a.dtype, shape: [a.n] }],
  lower: (l, n) => {
    const { dtype } = n.attrs;
    const limit = typeof n.attrs.n === 'number' ? l.constScalar(n.attrs.n, dtype) : l.emit('Squeeze', [castName(l, l.shape([n.attrs.n]), dtype), l.constI64([0])]);
    l.add('Range', [l.constScalar(0, dtype), limit, l.constScalar(1, dtype)], [l.name(n.outputs[0])]);
  },
};
function castName(l: Parameters<OpDef['lower']>[0], name: string, dtype: DType): string {
  if (dtype === 'int64') return name;
  const code: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
  return l.emit('Cast', [name], { to: ['int', code[dtype]] });
}
export function arange(g: Graph, n: Dim, dtype: DType = 'int64'): Tensor {
  return g.apply(Arange, [], { n, dtype })[0];
}

/** A dim's run-time value as a scalar tensor (e.g. a count for a mean over a symbolic axis). */
export const DimValue: OpDef<Attrs & { dim: Dim; dtype: DType }> = {
  type: 'dim_value',
  infer: (_x, a) => [{ dtype: a.dtype, shape: [] }],
  lower: (l, n) =>
    l.add('Squeeze', [castName(l, l.shape([n.attrs.dim]), n.attrs.dtype), l.constI64([0])], [l.name(n.outputs[0])]),
};
export function dimValue(g: Graph, dim: Dim, dtype: DType): Tensor {
  if (typeof dim === 'number') return scalar(g, dim, dtype);
  return g.apply(DimValue, [], { dim, dtype })[0];
}

type TriluAttrs = Attrs & { upper: boolean; k: number };
/** Keep the upper (or lower) triangle of the last two axes, zero the rest. */
export const Trilu: OpDef<TriluAttrs> = {
  type: 'trilu',
  infer: ([x]) => [{ dtype: x.dtype, shape: [...x.shape] }],
  lower: (l, n) =>
    l.add('Trilu', [l.name(n.inputs[0]), l.constI64([n.attrs.k], true)], [l.name(n.outputs[0])], { upper: ['int', n.attrs.upper ? 1 : 0] }),
  grad: (n, [dy]) => (dy ? [trilu(dy, n.attrs.upper, n.attrs.k)] : []),
};
export function trilu(x: Tensor, upper: boolean, k = 0): Tensor {
  return x.graph.apply(Trilu, [x], { upper, k })[0];
}

/**
 * Causal mask [q, k]: true where query i (the last q of k positions) may attend key j, i.e. j <= i + (k - q).
 * With a KV cache q is the new positions and k the past plus the new.
 */
export function causalMask(g: Graph, q: Dim, k: Dim): Tensor {
  const i = unsqueeze(arange(g, q), 1);
  const j = unsqueeze(arange(g, k), 0);
  const offset = dimEq(q, k) ? undefined : add(dimValue(g, k, 'int64'), mul(dimValue(g, q, 'int64'), -1));
  return not(greater(j, offset ? add(i, offset) : i));
}

// ---- naming dims ----
/**
 * Identity that renames dims: asserts that `x` has `shape` at run time, e.g. that past + new key positions equal
 * the attention mask's "total_sequence_length". Numeric dims must agree.
 */
export const WithShape: OpDef<ShapeAttrs> = {
  type: 'with_shape',
  infer: ([x], { shape }) => {
    if (shape.length !== x.rank || shape.some((d, i) => typeof d === 'number' && typeof x.shape[i] === 'number' && d !== x.shape[i]))
      throw new Error(`with_shape: ${shapeStr(x.shape)} cannot be renamed ${shapeStr(shape)}`);
    return [{ dtype: x.dtype, shape: [...shape] }];
  },
  lower: (l, n) => l.add('Identity', [l.name(n.inputs[0])], [l.name(n.outputs[0])]),
  grad: (n, [dy]) => (dy ? [withShape(dy, [...n.inputs[0].shape])] : []),
};
export function withShape(x: Tensor, shape: Dim[]): Tensor {
  if (shape.length === x.rank && shape.every((d, i) => dimEq(d, x.shape[i]))) return x;
  return x.graph.apply(WithShape, [x], { shape })[0];
}

// ---- scatter along an axis ----
/**
 * data with `updates` added at `indices` along `axis` (ONNX ScatterElements, reduction add). Used by the
 * cross-entropy gradient to subtract the one-hot target without materialising it. Differentiable in `data` and
 * `updates` (whose gradient gathers dY back at the indices).
 */
export const ScatterElementsAdd: OpDef<AxisAttrs> = {
  type: 'scatter_elements_add',
  infer: ([data, idx, upd]) => {
    if (idx.rank !== data.rank || upd.rank !== data.rank) throw new Error('scatter_elements_add: data, indices and updates must have one rank');
    return [{ dtype: data.dtype, shape: [...data.shape] }];
  },
  lower: (l, n) =>
    l.add('ScatterElements', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis], reduction: ['string', 'add'] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [, idx, upd] = n.inputs;
    return [dy, undefined, upd.requiresGrad ? gatherElements(dy, idx, n.attrs.axis) : undefined];
  },
};
export function scatterElementsAdd(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  return data.graph.apply(ScatterElementsAdd, [data, indices, updates], { axis })[0];
}

/**
 * out[..., i, ...] = data[..., indices[..., i, ...], ...] along `axis` (ONNX GatherElements): the output has the
 * indices' shape. Its gradient scatters dY back (duplicates accumulate); scatter_elements_add's for `updates` is this.
 */
export const GatherElements: OpDef<AxisAttrs> = {
  type: 'gather_elements',
  infer: ([data, idx], { axis }) => {
    if (idx.rank !== data.rank) throw new Error(`gather_elements: data ${shapeStr(data.shape)} and indices ${shapeStr(idx.shape)} must have one rank`);
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error(`gather_elements: indices must be int32 or int64, got ${idx.dtype}`);
    normAxis(axis, data.rank, 'gather_elements');
    return [{ dtype: data.dtype, shape: [...idx.shape] }];
  },
  lower: (l, n) => l.add('GatherElements', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])], { axis: ['int', n.attrs.axis] }),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [data, idx] = n.inputs;
    return [scatterElementsAdd(zeros(data.graph, data.dtype, [...data.shape]), idx, dy, n.attrs.axis), undefined];
  },
};
export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  return data.graph.apply(GatherElements, [data, indices], { axis })[0];
}

// Elementwise ops. Each op: builder, shape rule (numpy broadcasting) and gradient rule, side by side.
import { isFloat, type DType } from '../dtype.js';
import type { Lowering } from '../lower.js';
import { broadcastShapes } from '../shape.js';
import type { Attrs, Node, OpDef, OutputSpec, Tensor } from '../tensor.js';
import { lift, scalar, type TensorLike } from './util.js';
import { sumTo } from './shape.js';

type Grad = (node: Node, dy: Tensor) => (Tensor | undefined)[];

function binaryInfer(type: string, out?: DType) {
  return (inputs: readonly Tensor[]): OutputSpec[] => {
    const [a, b] = inputs;
    if (a.dtype !== b.dtype) throw new Error(`${type}: dtypes differ (${a.dtype} and ${b.dtype})`);
    return [{ dtype: out ?? a.dtype, shape: broadcastShapes(a.shape, b.shape, type) }];
  };
}

function binaryOp(type: string, onnx: string, grad?: Grad, out?: DType): OpDef {
  return {
    type,
    infer: binaryInfer(type, out),
    lower: (l, n) => l.add(onnx, n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])]),
    grad: grad && ((n, d) => (d[0] ? grad(n, d[0]) : [])),
  };
}

function unaryOp(type: string, lower: (l: Lowering, x: string, n: Node) => string, grad?: Grad, floatOnly = true): OpDef {
  return {
    type,
    infer: ([x]) => {
      if (floatOnly && !isFloat(x.dtype)) throw new Error(`${type}: expects a float tensor, got ${x.dtype}`);
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
    lower: (l, n) => {
      const y = lower(l, l.name(n.inputs[0]), n);
      l.add('Identity', [y], [l.name(n.outputs[0])]);
    },
    grad: grad && ((n, d) => (d[0] ? grad(n, d[0]) : [])),
  };
}

/** Unary op that maps to a single ONNX node of the same name. */
const simple = (onnx: string, attrs: (n: Node) => Parameters<Lowering['emit']>[2] = () => ({})) =>
  (l: Lowering, x: string, n: Node) => l.emit(onnx, [x], attrs(n));

const bin = (op: OpDef) => (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = lift(a, b, op.type);
  return x.graph.apply(op, [x, y], {})[0];
};
const un = (op: OpDef) => (x: Tensor): Tensor => x.graph.apply(op, [x], {})[0];

// ---- arithmetic ----
export const Add = binaryOp('add', 'Add', (n, dy) => [sumTo(dy, n.inputs[0].shape), sumTo(dy, n.inputs[1].shape)]);
export const Sub = binaryOp('sub', 'Sub', (n, dy) => [sumTo(dy, n.inputs[0].shape), sumTo(neg(dy), n.inputs[1].shape)]);
export const Mul = binaryOp('mul', 'Mul', (n, dy) => {
  const [a, b] = n.inputs;
  return [a.requiresGrad ? sumTo(mul(dy, b), a.shape) : undefined, b.requiresGrad ? sumTo(mul(dy, a), b.shape) : undefined];
});
export const Div = binaryOp('div', 'Div', (n, dy) => {
  const [a, b] = n.inputs;
  const y = n.outputs[0];
  return [
    a.requiresGrad ? sumTo(div(dy, b), a.shape) : undefined,
    b.requiresGrad ? sumTo(neg(div(mul(dy, y), b)), b.shape) : undefined,
  ];
});
export const Pow = binaryOp('pow', 'Pow', (n, dy) => {
  const [a, b] = n.inputs;
  const y = n.outputs[0];
  return [
    a.requiresGrad ? sumTo(mul(dy, mul(b, pow(a, sub(b, 1)))), a.shape) : undefined,
    b.requiresGrad ? sumTo(mul(dy, mul(y, log(a))), b.shape) : undefined,
  ];
});
// Ties send the gradient to the first operand, as PyTorch's clamp does for its input.
export const Maximum = binaryOp('maximum', 'Max', (n, dy) => {
  const [a, b] = n.inputs;
  const bWins = less(a, b);
  return [sumTo(where(bWins, 0, dy), a.shape), sumTo(where(bWins, dy, 0), b.shape)];
});
export const Minimum = binaryOp('minimum', 'Min', (n, dy) => {
  const [a, b] = n.inputs;
  const bWins = less(b, a);
  return [sumTo(where(bWins, 0, dy), a.shape), sumTo(where(bWins, dy, 0), b.shape)];
});
export const Mod = binaryOp('mod', 'Mod');
export const BitwiseXor = binaryOp('bitwise_xor', 'BitwiseXor');

export const add = bin(Add);
export const sub = bin(Sub);
export const mul = bin(Mul);
export const div = bin(Div);
export const pow = bin(Pow);
export const maximum = bin(Maximum);
export const minimum = bin(Minimum);
/** Integer remainder (same sign as the divisor for integers, as Python's %). */
export const mod = bin(Mod);
export const bitwiseXor = bin(BitwiseXor);

// ---- comparisons and logic (not differentiable) ----
export const Equal = binaryOp('equal', 'Equal', undefined, 'bool');
export const Less = binaryOp('less', 'Less', undefined, 'bool');
export const Greater = binaryOp('greater', 'Greater', undefined, 'bool');
export const GreaterOrEqual = binaryOp('greater_or_equal', 'GreaterOrEqual', undefined, 'bool');
export const And = binaryOp('and', 'And', undefined, 'bool');
export const Or = binaryOp('or', 'Or', undefined, 'bool');
export const equal = bin(Equal);
export const less = bin(Less);
export const greater = bin(Greater);
export const greaterOrEqual = bin(GreaterOrEqual);
export const and = bin(And);
export const or = bin(Or);
export const Not = unaryOp('not', simple('Not'), undefined, false);
export const not = un(Not);

// ---- unary math ----
export const Neg = unaryOp('neg', simple('Neg'), (_n, dy) => [neg(dy)], false);
export const Sqrt = unaryOp('sqrt', simple('Sqrt'), (n, dy) => [div(mul(dy, 0.5), n.outputs[0])]);
export const Rsqrt = unaryOp('rsqrt', (l, x) => l.emit('Reciprocal', [l.emit('Sqrt', [x])]), (n, dy) => {
  const y = n.outputs[0];
  return [mul(mul(dy, -0.5), mul(y, mul(y, y)))];
});
export const Exp = unaryOp('exp', simple('Exp'), (n, dy) => [mul(dy, n.outputs[0])]);
export const Log = unaryOp('log', simple('Log'), (n, dy) => [div(dy, n.inputs[0])]);
export const Tanh = unaryOp('tanh', simple('Tanh'), (n, dy) => {
  const y = n.outputs[0];
  return [mul(dy, sub(1, mul(y, y)))];
});
export const Sigmoid = unaryOp('sigmoid', simple('Sigmoid'), (n, dy) => {
  const y = n.outputs[0];
  return [mul(dy, mul(y, sub(1, y)))];
});
export const Relu = unaryOp('relu', simple('Relu'), (n, dy) => [where(greater(n.inputs[0], 0), dy, 0)]);
export const Sin = unaryOp('sin', simple('Sin'), (n, dy) => [mul(dy, cos(n.inputs[0]))]);
export const Cos = unaryOp('cos', simple('Cos'), (n, dy) => [neg(mul(dy, sin(n.inputs[0])))]);
// In float64 as x / (1 + e^-x): ORT fuses x * Sigmoid(x) into QuickGelu, which has only a float32 kernel.
export const Silu = unaryOp('silu', (l, x, n) => n.inputs[0].dtype === 'float64'
  ? l.emit('Div', [x, l.emit('Add', [l.constScalar(1, 'float64'), l.emit('Exp', [l.emit('Neg', [x])])])])
  : l.emit('Mul', [x, l.emit('Sigmoid', [x])]), (n, dy) => {
  const x = n.inputs[0];
  const s = sigmoid(x);
  return [mul(dy, mul(s, add(1, mul(x, sub(1, s)))))];
});

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
/**
 * float64 erf for the CPU build, which has no double Erf kernel, to about 1e-15 (so that float64 gradient checks
 * through GELU can be tight). Only float64 graphs take this path. For |x| < 4 the series
 * erf(a) = 2/sqrt(pi) e^(-a^2) sum_n a (2a^2)^n / (2n+1)!!, whose terms are all positive (75 terms); beyond, the
 * asymptotic erfc(b) = e^(-b^2) / (b sqrt(pi)) sum_n (-1)^n (2n-1)!! / (2b^2)^n (16 terms, error < 3e-15 at 4).
 */
function erf64(l: Lowering, x: string): string {
  const c = (v: number) => l.constScalar(v, 'float64');
  const ax = l.emit('Abs', [x]);
  const a = l.emit('Min', [ax, c(4)]);
  const b = l.emit('Max', [ax, c(4)]);
  const z = l.emit('Mul', [c(2), l.emit('Mul', [a, a])]);
  let p = c(1);
  for (let n = 75; n >= 1; n--) p = l.emit('Add', [c(1), l.emit('Mul', [l.emit('Mul', [z, p]), c(1 / (2 * n + 1))])]);
  const series = l.emit('Mul', [l.emit('Mul', [c(TWO_OVER_SQRT_PI), l.emit('Exp', [l.emit('Neg', [l.emit('Mul', [a, a])])])]), l.emit('Mul', [a, p])]);
  const w = l.emit('Reciprocal', [l.emit('Mul', [c(2), l.emit('Mul', [b, b])])]);
  let q = c(1);
  for (let n = 16; n >= 1; n--) q = l.emit('Sub', [c(1), l.emit('Mul', [l.emit('Mul', [w, q]), c(2 * n - 1)])]);
  const erfc = l.emit('Mul', [l.emit('Div', [l.emit('Exp', [l.emit('Neg', [l.emit('Mul', [b, b])])]), l.emit('Mul', [b, c(Math.sqrt(Math.PI))])]), q]);
  const r = l.emit('Where', [l.emit('Less', [ax, c(4)]), series, l.emit('Sub', [c(1), erfc])]);
  return l.emit('Mul', [l.emit('Sign', [x]), r]);
}

export const Erf = unaryOp(
  'erf',
  (l, x, n) => (n.inputs[0].dtype === 'float64' ? erf64(l, x) : l.emit('Erf', [x])),
  (n, dy) => {
    const x = n.inputs[0];
    return [mul(dy, mul(TWO_OVER_SQRT_PI, exp(neg(mul(x, x)))))];
  },
);

type GeluAttrs = Attrs & { approximate: 'none' | 'tanh' };
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** GELU: 'none' is the exact erf form (BERT), 'tanh' the approximation (GPT-2's gelu_new). */
export const Gelu: OpDef<GeluAttrs> = {
  type: 'gelu',
  infer: ([x]) => [{ dtype: x.dtype, shape: [...x.shape] }],
  lower: (l, n) => {
    const x = l.name(n.inputs[0]);
    const out = l.name(n.outputs[0]);
    if (n.inputs[0].dtype === 'float64' && n.attrs.approximate === 'none') {
      const c = (v: number) => l.constScalar(v, 'float64');
      const cdf = l.emit('Mul', [c(0.5), l.emit('Add', [c(1), erf64(l, l.emit('Mul', [x, c(Math.SQRT1_2)]))])]);
      l.add('Mul', [x, cdf], [out]);
    } else l.add('Gelu', [x], [out], { approximate: ['string', n.attrs.approximate] });
  },
  grad: (n, [dy]) => {
    if (!dy) return [];
    const x = n.inputs[0];
    if (n.attrs.approximate === 'none') {
      const cdf = mul(0.5, add(1, erf(mul(x, Math.SQRT1_2))));
      const pdf = mul(1 / Math.sqrt(2 * Math.PI), exp(mul(mul(x, x), -0.5)));
      return [mul(dy, add(cdf, mul(x, pdf)))];
    }
    // 0.5 (1 + tanh u) = sigmoid(2u), so gelu = x s with s = sigmoid(2u), u = a x + b x^3, and
    // gelu' = s + x s (1 - s) 2u' = s (1 + (1 - s) x (2a + 6b x^2)): 13 elementwise passes, against 18 for the tanh form.
    const a = SQRT_2_OVER_PI;
    const b = SQRT_2_OVER_PI * 0.044715;
    const x2 = mul(x, x);
    const s = sigmoid(mul(x, add(mul(x2, 2 * b), 2 * a)));
    const v = mul(x, add(mul(x2, 6 * b), 2 * a));
    return [mul(dy, mul(s, add(mul(sub(1, s), v), 1)))];
  },
};

export const neg = un(Neg);
export const sqrt = un(Sqrt);
export const rsqrt = un(Rsqrt);
export const exp = un(Exp);
export const log = un(Log);
export const tanh = un(Tanh);
export const erf = un(Erf);
export const sigmoid = un(Sigmoid);
export const sin = un(Sin);
export const cos = un(Cos);
export const relu = un(Relu);
export const silu = un(Silu);
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return x.graph.apply(Gelu, [x], { approximate })[0];
}

// ---- where and cast ----
export const Where: OpDef = {
  type: 'where',
  infer: ([c, a, b]) => {
    if (c.dtype !== 'bool') throw new Error(`where: condition must be bool, got ${c.dtype}`);
    if (a.dtype !== b.dtype) throw new Error(`where: branches differ in dtype (${a.dtype}, ${b.dtype})`);
    return [{ dtype: a.dtype, shape: broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where') }];
  },
  lower: (l, n) => l.add('Where', n.inputs.map((t) => l.name(t)), [l.name(n.outputs[0])]),
  grad: (n, [dy]) => {
    if (!dy) return [];
    const [c, a, b] = n.inputs;
    return [
      undefined,
      a.requiresGrad ? sumTo(where(c, dy, 0), a.shape) : undefined,
      b.requiresGrad ? sumTo(where(c, 0, dy), b.shape) : undefined,
    ];
  },
};
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b, 'where');
  return cond.graph.apply(Where, [cond, x, y], {})[0];
}

type CastAttrs = Attrs & { to: DType };
const onnxCode: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
export const Cast: OpDef<CastAttrs> = {
  type: 'cast',
  infer: ([x], a) => [{ dtype: a.to, shape: [...x.shape] }],
  lower: (l, n) => l.add('Cast', [l.name(n.inputs[0])], [l.name(n.outputs[0])], { to: ['int', onnxCode[n.attrs.to]] }),
  grad: (n, [dy]) => (dy && isFloat(n.inputs[0].dtype) ? [cast(dy, n.inputs[0].dtype)] : []),
};
export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.apply(Cast, [x], { to })[0];
}

export { scalar };

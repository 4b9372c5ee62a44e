// Dimensions are numbers or named symbols ("batch", "seq"). A symbol may be a product of symbols and a number
// ("batch*seq", "4*seq"), so reshapes that merge symbolic axes keep an exact shape. Symbols are resolved at run
// time from the graph inputs that declare them (see lower.ts).
export type Dim = number | string;
export type Shape = readonly Dim[];

interface Monomial {
  coef: number;
  syms: string[];
}

function parse(d: Dim): Monomial {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const f of d.split('*')) {
    if (/^\d+$/.test(f)) coef *= Number(f);
    else syms.push(f);
  }
  return { coef, syms: syms.sort() };
}

function format(m: Monomial): Dim {
  if (m.syms.length === 0) return m.coef;
  return (m.coef === 1 ? [] : [String(m.coef)]).concat(m.syms).join('*');
}

export function dimMul(a: Dim, b: Dim): Dim {
  const x = parse(a);
  const y = parse(b);
  return format({ coef: x.coef * y.coef, syms: [...x.syms, ...y.syms].sort() });
}

/** Exact division of dims; undefined when it does not divide. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const x = parse(a);
  const y = parse(b);
  if (y.coef === 0 || x.coef % y.coef !== 0) return undefined;
  const syms = [...x.syms];
  for (const s of y.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return format({ coef: x.coef / y.coef, syms });
}

export function dimEq(a: Dim, b: Dim): boolean {
  return format(parse(a)) === format(parse(b));
}

export function numel(shape: Shape): Dim {
  return shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

/** The symbols a dim is made of (for run-time resolution). */
export function dimSymbols(d: Dim): { coef: number; syms: string[] } {
  return parse(d);
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Numpy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (dimEq(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
  }
  return out;
}

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

// Gradient checking: our gradient rules against central finite differences of the same ONNX forward, in float64.
import { Graph, gradients, mul, sumAll, toOnnx, type Tensor } from '../../src/graph/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { mulberry32 } from '../../src/nn/init.js';
import type { HostTensor } from '../../src/runtime/backend.js';

export interface GradInput {
  shape: number[];
  /** Values; random in [-1, 1] (seeded) when omitted. */
  values?: number[];
}

/** The seeded generator the engine uses for initial weights. */
export const seeded = mulberry32;

/**
 * Builds f over float64 parameters, then compares d(sum(f * r))/d(input) with central differences, where r is a
 * fixed random weighting (so every output element matters differently). Returns the worst relative error.
 */
export async function gradCheck(
  inputs: GradInput[],
  f: (xs: Tensor[], g: Graph) => Tensor,
  opts: { seed?: number; h?: number; extraFeeds?: Record<string, HostTensor> } = {},
): Promise<{ maxRelErr: number; maxAbsErr: number; forwardOps: Set<string>; backwardOps: Set<string> }> {
  const rand = seeded(opts.seed ?? 1);
  const g = new Graph('gradcheck');
  const xs = inputs.map((inp, i) => g.param(`x${i}`, inp.shape, { dtype: 'float64' }));
  const y = f(xs, g);
  const nForward = g.nodes.length;
  const n = y.shape.reduce<number>((a, d) => a * (d as number), 1);
  const r = g.constant(Float64Array.from({ length: n }, () => rand() * 2 - 1), 'float64', y.shape as number[]);
  const loss = sumAll(mul(y, r));
  const nLoss = g.nodes.length;
  const grads = gradients(loss, xs);
  // The op types of the function under test, and of the backward nodes autodiff appended for it.
  const forwardOps = new Set(g.nodes.slice(0, nForward).map((nd) => nd.op.type));
  const backwardOps = new Set(g.nodes.slice(nLoss).map((nd) => nd.op.type));
  g.output('loss', loss);
  grads.forEach((d, i) => g.output(`grad${i}`, d));
  const model = toOnnx(g);
  const session = await nodeBackend.createSession(model.bytes);

  const values = inputs.map((inp) =>
    Float64Array.from(inp.values ?? Array.from({ length: inp.shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1)),
  );
  const feeds = (): Record<string, HostTensor> => {
    const fd: Record<string, HostTensor> = { ...(opts.extraFeeds ?? {}) };
    values.forEach((v, i) => (fd[`x${i}`] = { dtype: 'float64', shape: inputs[i].shape, data: v }));
    return fd;
  };
  const out = await session.run(feeds());
  const h = opts.h ?? 1e-6;
  let maxRelErr = 0;
  let maxAbsErr = 0;
  for (let i = 0; i < values.length; i++) {
    const analytic = out[`grad${i}`].data as Float64Array;
    for (let j = 0; j < values[i].length; j++) {
      const orig = values[i][j];
      values[i][j] = orig + h;
      const lp = ((await session.run(feeds(), ['loss'])).loss.data as Float64Array)[0];
      values[i][j] = orig - h;
      const lm = ((await session.run(feeds(), ['loss'])).loss.data as Float64Array)[0];
      values[i][j] = orig;
      const numeric = (lp - lm) / (2 * h);
      const abs = Math.abs(numeric - analytic[j]);
      maxAbsErr = Math.max(maxAbsErr, abs);
      maxRelErr = Math.max(maxRelErr, abs / Math.max(1, Math.abs(numeric), Math.abs(analytic[j])));
    }
  }
  await session.release();
  return { maxRelErr, maxAbsErr, forwardOps, backwardOps };
}

/**
 * For ops whose float32 backward differs from the float64 one (LayerNorm's uses ORT's saved Mean and InvStdDev):
 * the gradients of sum(f * r) computed in float32 against those computed in float64 (which `gradCheck` checks by
 * finite differences), on the same float32-representable inputs. Returns the worst error relative to
 * max(1, |float64 gradient|).
 */
export async function gradCompareF32(
  inputs: GradInput[],
  f: (xs: Tensor[], g: Graph) => Tensor,
  opts: { seed?: number } = {},
): Promise<{ maxRelErr: number; ops32: Set<string> }> {
  const rand = seeded(opts.seed ?? 1);
  const values = inputs.map((inp) =>
    Float64Array.from(inp.values ?? Array.from({ length: inp.shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), Math.fround),
  );
  let weights: Float64Array | undefined;
  const run = async (dtype: 'float32' | 'float64') => {
    const g = new Graph(`gradcompare-${dtype}`);
    const xs = inputs.map((inp, i) => g.param(`x${i}`, inp.shape, { dtype }));
    const y = f(xs, g);
    const n = y.shape.reduce<number>((a, d) => a * (d as number), 1);
    weights ??= Float64Array.from({ length: n }, () => Math.fround(rand() * 2 - 1));
    const r = dtype === 'float32' ? g.constant(Float32Array.from(weights), 'float32', y.shape as number[]) : g.constant(weights, 'float64', y.shape as number[]);
    const loss = sumAll(mul(y, r));
    const nLoss = g.nodes.length;
    const grads = gradients(loss, xs);
    grads.forEach((d, i) => g.output(`grad${i}`, d));
    const ops = new Set(g.nodes.slice(nLoss).map((nd) => nd.op.type));
    const session = await nodeBackend.createSession(toOnnx(g).bytes);
    const feeds: Record<string, HostTensor> = {};
    values.forEach((v, i) => (feeds[`x${i}`] = { dtype, shape: inputs[i].shape, data: dtype === 'float32' ? Float32Array.from(v) : v }));
    const out = await session.run(feeds);
    await session.release();
    return { grads: grads.map((_, i) => Float64Array.from(out[`grad${i}`].data as Float32Array | Float64Array)), ops };
  };
  const g64 = await run('float64');
  const g32 = await run('float32');
  let maxRelErr = 0;
  g64.grads.forEach((a, i) => {
    const b = g32.grads[i];
    for (let j = 0; j < a.length; j++) maxRelErr = Math.max(maxRelErr, Math.abs(a[j] - b[j]) / Math.max(1, Math.abs(a[j])));
  });
  return { maxRelErr, ops32: g32.ops };
}

// Every differentiable op's gradient rule against central finite differences in float64, broadcasting included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { gradCheck, gradCompareF32, type GradInput } from '../helpers/gradcheck.js';

// Central differences in float64 with h = 1e-6 agree with our rules to ~1e-9 on these sizes; 1e-6 leaves room.
const TOL = 1e-6;
// float64 erf is lowered to a series (|x| < 4) and an asymptotic expansion (beyond), accurate to ~1e-15, so its
// derivative is the exp(-x^2) our rule uses and the erf cases take the common tolerance.
const TOL_ERF = TOL;
interface CaseOpts { tol?: number; h?: number; backward?: string[] }
type Case = [name: string, inputs: GradInput[], f: (x: F.Tensor[], g: F.Graph) => F.Tensor, opts?: CaseOpts];
const ids = (g: F.Graph, values: bigint[], shape: number[]) => g.constant(BigInt64Array.from(values), 'int64', shape);

const pos = (shape: number[]): GradInput => ({
  shape,
  values: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.5 + ((i * 37) % 11) / 7),
});

const cases: Case[] = [
  ['add (broadcast)', [{ shape: [2, 3, 4] }, { shape: [3, 1] }], ([a, b]) => F.add(a, b)],
  ['sub (broadcast)', [{ shape: [2, 3] }, { shape: [3] }], ([a, b]) => F.sub(a, b)],
  ['mul (broadcast)', [{ shape: [2, 1, 4] }, { shape: [3, 4] }], ([a, b]) => F.mul(a, b)],
  ['div (broadcast)', [{ shape: [2, 3] }, pos([2, 1])], ([a, b]) => F.div(a, b)],
  ['pow (tensor exponent)', [pos([2, 3]), { shape: [3] }], ([a, b]) => F.pow(a, b)],
  ['pow (constant exponent)', [pos([4])], ([a]) => F.pow(a, 3)],
  ['maximum', [{ shape: [2, 3] }, { shape: [3] }], ([a, b]) => F.maximum(a, b)],
  ['minimum', [{ shape: [2, 3] }, { shape: [2, 3] }], ([a, b]) => F.minimum(a, b)],
  ['neg', [{ shape: [3] }], ([a]) => F.neg(a)],
  ['sqrt', [pos([2, 3])], ([a]) => F.sqrt(a)],
  ['rsqrt', [pos([2, 3])], ([a]) => F.rsqrt(a)],
  ['exp', [{ shape: [2, 3] }], ([a]) => F.exp(a)],
  ['log', [pos([2, 3])], ([a]) => F.log(a)],
  ['tanh', [{ shape: [2, 3] }], ([a]) => F.tanh(a)],
  ['erf', [{ shape: [2, 3] }], ([a]) => F.erf(a), { tol: TOL_ERF }],
  ['sigmoid', [{ shape: [2, 3] }], ([a]) => F.sigmoid(a)],
  ['sin', [{ shape: [2, 3], values: [-3, -1.2, -0.4, 0.3, 1.5, 2.8] }], ([a]) => F.sin(a)],
  ['cos', [{ shape: [2, 3], values: [-3, -1.2, -0.4, 0.3, 1.5, 2.8] }], ([a]) => F.cos(a)],
  ['relu', [{ shape: [2, 5], values: [-0.9, -0.5, -0.2, 0.1, 0.3, 0.7, -0.3, 0.8, 0.25, -0.6] }], ([a]) => F.relu(a)],
  ['gelu (erf)', [{ shape: [2, 4] }], ([a]) => F.gelu(a, 'none'), { tol: TOL_ERF }],
  ['gelu (tanh)', [{ shape: [2, 4] }], ([a]) => F.gelu(a, 'tanh')],
  ['silu', [{ shape: [2, 4] }], ([a]) => F.silu(a)],
  ['matmul 2d', [{ shape: [3, 4] }, { shape: [4, 2] }], ([a, b]) => F.matmul(a, b)],
  ['matmul batched x weight', [{ shape: [2, 3, 4] }, { shape: [4, 5] }], ([a, b]) => F.matmul(a, b)],
  ['matmul batched broadcast', [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], ([a, b]) => F.matmul(a, b)],
  ['transpose', [{ shape: [2, 3, 4] }], ([a]) => F.transpose(a, [2, 0, 1])],
  ['reshape', [{ shape: [2, 3, 4] }], ([a]) => F.reshape(a, [6, -1])],
  ['expand', [{ shape: [3, 1] }], ([a]) => F.expand(a, [2, 3, 4])],
  ['unsqueeze/squeeze', [{ shape: [3, 4] }], ([a]) => F.squeeze(F.mul(F.unsqueeze(a, 1), 2), 1)],
  ['concat', [{ shape: [2, 3] }, { shape: [2, 2] }], ([a, b]) => F.concat([a, b], 1)],
  ['split', [{ shape: [2, 5] }], ([a]) => { const [p, q] = F.split(a, 1, [2, 3]); return F.concat([F.mul(p, 3), q], 1); }],
  ['split (one output used)', [{ shape: [2, 5] }], ([a]) => F.split(a, 1, [2, 3])[1]],
  ['slice', [{ shape: [3, 5] }], ([a]) => F.slice(a, 1, 1, -1)],
  ['pad', [{ shape: [2, 3] }], ([a]) => F.pad(a, 1, 2, 1)],
  ['pad (axis 0, after only)', [{ shape: [2, 3] }], ([a]) => F.pad(a, 0, 0, 2)],
  ['scatter_nd_add (repeated rows; data and updates)', [{ shape: [5, 3] }, { shape: [3, 3] }], ([d, u], g) =>
    F.scatterNdAdd(d, ids(g, [1n, 3n, 1n], [3, 1]), u)],
  ['scatter_elements_add (data)', [{ shape: [3, 4] }], ([d], g) =>
    F.scatterElementsAdd(d, ids(g, [0n, 2n, 2n, 1n, 3n, 3n], [3, 2]), g.constant(Float64Array.from([1, 2, 3, 4, 5, 6]), 'float64', [3, 2]), 1)],
  ['scatter_elements_add (data and updates, repeated indices)', [{ shape: [3, 4] }, { shape: [3, 2] }], ([d, u], g) =>
    F.scatterElementsAdd(d, ids(g, [0n, 2n, 2n, 1n, 3n, 3n], [3, 2]), u, 1), { backward: ['gather_elements'] }],
  ['scatter_elements_add (updates only, axis 0)', [{ shape: [2, 3] }], ([u], g) =>
    F.scatterElementsAdd(g.constant(new Float64Array(12), 'float64', [4, 3]), ids(g, [3n, 0n, 3n, 1n, 1n, 2n], [2, 3]), u, 0)],
  ['gather_elements (repeated indices, axis 1)', [{ shape: [3, 4] }], ([d], g) =>
    F.gatherElements(d, ids(g, [0n, 2n, 2n, 1n, 3n, 3n, 0n, 0n, 1n], [3, 3]), 1), { backward: ['scatter_elements_add'] }],
  ['gather (embedding, repeated ids)', [{ shape: [5, 3] }], ([w], g) =>
    F.gather(w, g.constant(BigInt64Array.from([1n, 3n, 1n, 0n]), 'int64', [2, 2]))],
  ['where', [{ shape: [2, 3] }, { shape: [3] }], ([a, b], g) =>
    F.where(g.constant(Uint8Array.from([1, 0, 1, 0, 0, 1]), 'bool', [2, 3]), a, b)],
  ['softmax', [{ shape: [2, 5] }], ([a]) => F.softmax(a, -1)],
  ['softmax (axis 0)', [{ shape: [3, 2] }], ([a]) => F.softmax(a, 0)],
  ['log_softmax', [{ shape: [2, 5] }], ([a]) => F.logSoftmax(a, -1)],
  ['layer_norm', [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }], ([x, w, b]) => F.layerNorm(x, w, b, 1e-5)],
  ['rms_norm', [{ shape: [2, 6] }, { shape: [6] }], ([x, w]) => F.rmsNorm(x, w, 1e-6)],
  ['reduce_sum', [{ shape: [2, 3, 4] }], ([a]) => F.reduceSum(a, [0, 2])],
  ['reduce_sum keepdims', [{ shape: [2, 3, 4] }], ([a]) => F.reduceSum(a, 1, true)],
  ['reduce_mean', [{ shape: [2, 3, 4] }], ([a]) => F.reduceMean(a, [1])],
  ['reduce_max', [{ shape: [2, 4] }], ([a]) => F.reduceMax(a, 1)],
  ['cumsum', [{ shape: [2, 5] }], ([a]) => F.cumsum(a, 1)],
  ['cumsum (reverse, axis 0)', [{ shape: [3, 2] }], ([a]) => F.cumsum(a, 0, true)],
  // float64 -> float32 -> float64, so both casts and their gradients run. Linear, so a large step (exact in
  // binary) keeps float32 rounding out of the differences: each rounding error (< 6e-8) is divided by 2h = 0.5.
  ['cast', [{ shape: [3] }], ([a]) => F.cast(F.mul(F.cast(a, 'float32'), 2), 'float64'), { h: 0.25, backward: ['cast'] }],
  ['trilu', [{ shape: [3, 3] }], ([a]) => F.trilu(a, false)],
  ['with_shape', [{ shape: [2, 3] }], ([a]) => F.withShape(F.mul(F.withShape(a, [2, 'n']), 2), [2, 3])],
  ['gather (rows at nonZero, a run-time count)', [{ shape: [5, 3] }], ([x], g) =>
    F.withShape(F.gather(x, F.nonZero(F.not(F.equal(g.constant(BigInt64Array.from([2n, -100n, 0n, -100n, 4n]), 'int64', [5]), -100))), 0), [3, 3])],
  ['cross_entropy (ignore -100)', [{ shape: [4, 5] }], ([x], g) =>
    F.crossEntropy(x, g.constant(BigInt64Array.from([2n, -100n, 0n, 4n]), 'int64', [4]))],
  ['dropout (mask is a constant of x)', [{ shape: [4, 8] }], ([x], g) =>
    F.dropout(x, 0.3, g.constant(BigInt64Array.of(7n), 'int64', []), g.constant(BigInt64Array.of(3n), 'int64', []), 1)],
  ['attention block', [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }], ([q, k, v], g) => {
    const scores = F.mul(F.matmul(q, F.transposeLast2(k)), 0.5);
    const masked = F.where(F.causalMask(g, 3, 3), scores, -1e9);
    return F.matmul(F.softmax(masked, -1), v);
  }],
];

/** Op types seen in the cases' functions and in the backward graphs autodiff built for them. */
const forwardSeen = new Set<string>();
const backwardSeen = new Set<string>();

for (const [name, inputs, f, opts = {}] of cases) {
  test(`gradient: ${name}`, async () => {
    const { maxRelErr, forwardOps, backwardOps } = await gradCheck(inputs, f, { h: opts.h });
    forwardOps.forEach((t) => forwardSeen.add(t));
    backwardOps.forEach((t) => backwardSeen.add(t));
    const tol = opts.tol ?? TOL;
    if (process.env.GRADCHECK_VERBOSE) console.log(`${name}: ${maxRelErr.toExponential(2)}`);
    assert.ok(maxRelErr < tol, `${name}: max relative error ${maxRelErr.toExponential(2)} >= ${tol}`);
    for (const t of opts.backward ?? []) assert.ok(backwardOps.has(t), `${name}: the backward has no "${t}" node`);
  });
}

test('gradient: layer_norm in float32 (ORT\'s saved Mean and InvStdDev) matches the finite-difference-checked float64', async () => {
  const inputs: GradInput[] = [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }];
  const f = ([x, w, b]: F.Tensor[]) => F.layerNorm(x, w, b, 1e-5);
  const { maxRelErr: err64 } = await gradCheck(inputs, f);
  assert.ok(err64 < TOL, `float64 layer_norm: ${err64.toExponential(2)}`);
  // Inputs with a large mean and a small spread make the float32 statistics matter.
  const shifted: GradInput[] = [{ shape: [2, 3, 6], values: Array.from({ length: 36 }, (_, i) => 3 + Math.sin(i * 1.7) * 0.5) }, { shape: [6] }, { shape: [6] }];
  for (const inp of [inputs, shifted]) {
    const { maxRelErr } = await gradCompareF32(inp, f);
    // float32 rounding: ~1e-7 on centred inputs, ~2e-6 with mean 3 and spread 0.5; a wrong rule is off by O(1).
    if (process.env.GRADCHECK_VERBOSE) console.log(`layer_norm f32: ${maxRelErr.toExponential(2)}`);
    assert.ok(maxRelErr < 1e-5, `float32 layer_norm backward vs float64: ${maxRelErr.toExponential(2)}`);
  }
});

test('every differentiable op in the registry is exercised by a gradient case, and every op the cases use is registered', () => {
  // The registry (OPS) is collected from the op modules' exports, so a new op cannot be left out of it.
  const missing = [...F.OPS].filter(([type, op]) => op.grad && !forwardSeen.has(type)).map(([type]) => type);
  assert.deepEqual(missing, [], `no gradient check runs these differentiable ops: ${missing.join(', ')}`);
  const unregistered = [...forwardSeen, ...backwardSeen].filter((t) => !F.OPS.has(t));
  assert.deepEqual(unregistered, [], `ops used in graphs but missing from the registry: ${unregistered.join(', ')}`);
});

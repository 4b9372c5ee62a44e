// Every differentiable op's gradient rule against central finite differences in float64, broadcasting included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { gradCheck, type GradInput } from '../helpers/gradcheck.js';

const TOL = 1e-3;
type Case = [name: string, inputs: GradInput[], f: (x: F.Tensor[], g: F.Graph) => F.Tensor];

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
  ['erf', [{ shape: [2, 3] }], ([a]) => F.erf(a)],
  ['sigmoid', [{ shape: [2, 3] }], ([a]) => F.sigmoid(a)],
  ['sin', [{ shape: [2, 3], values: [-3, -1.2, -0.4, 0.3, 1.5, 2.8] }], ([a]) => F.sin(a)],
  ['cos', [{ shape: [2, 3], values: [-3, -1.2, -0.4, 0.3, 1.5, 2.8] }], ([a]) => F.cos(a)],
  ['relu', [{ shape: [2, 5], values: [-0.9, -0.5, -0.2, 0.1, 0.3, 0.7, -0.3, 0.8, 0.25, -0.6] }], ([a]) => F.relu(a)],
  ['gelu (erf)', [{ shape: [2, 4] }], ([a]) => F.gelu(a, 'none')],
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
  ['cast', [{ shape: [3] }], ([a]) => F.cast(F.mul(a, 2), 'float64')],
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

for (const [name, inputs, f] of cases) {
  test(`gradient: ${name}`, async () => {
    const { maxRelErr } = await gradCheck(inputs, f);
    assert.ok(maxRelErr < TOL, `${name}: max relative error ${maxRelErr.toExponential(2)} >= ${TOL}`);
  });
}

test('every differentiable op in the registry has a gradient case', () => {
  const covered = new Set(cases.map(([n]) => n.split(' ')[0].split('/')[0]));
  // Covered through other cases: pad (slice), scatter_nd_add (gather), scatter_elements_add (cross_entropy).
  const extra = new Set(['unsqueeze', 'squeeze', 'pad', 'scatter_nd_add', 'scatter_elements_add', 'cross_entropy']);
  for (const [type, op] of F.OPS) {
    if (!op.grad) continue;
    assert.ok(covered.has(type) || extra.has(type), `no gradient check covers op "${type}"`);
  }
});

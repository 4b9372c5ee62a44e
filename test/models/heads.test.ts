// headLoss, the statistics every head reports: a batch in which every label is ignored adds a loss of 0 and
// zero gradients (PyTorch's mean over nothing is NaN, which would poison training when a batch has no masked token).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headLoss } from '../../src/models/registry.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { TrainStep, Forward } from '../../src/runtime/step.js';

const i64 = (xs: number[]) => ({ dtype: 'int64' as const, shape: [xs.length], data: BigInt64Array.from(xs.map(BigInt)) });

test('headLoss: loss, count and correct; all-ignored labels give 0 and finite gradients', async () => {
  const store = new ParameterStore();
  store.set('w', [3, 4], Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)));
  const build = (g: import('../../src/graph/index.js').Graph) => {
    const labels = g.input('labels', 'int64', [3]);
    return headLoss('mlm', g.param('w', [3, 4]), labels);
  };
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const h = build(g);
    return { loss: h.loss, ...h.stats };
  }, store);
  const some = await fwd.run({ labels: i64([1, -100, 3]) });
  assert.equal(Number(some['mlm/count'].data[0]), 2);
  const w = store.get('w');
  const row = (r: number) => Array.from(w.subarray(r * 4, r * 4 + 4));
  const ce = (r: number, y: number) => Math.log(row(r).reduce((s, v) => s + Math.exp(v), 0)) - row(r)[y];
  assert.ok(Math.abs(Number(some.loss.data[0]) - (ce(0, 1) + ce(2, 3)) / 2) < 1e-5);
  const hits = [0, 2].filter((r) => row(r).indexOf(Math.max(...row(r))) === [1, -100, 3][r]).length;
  assert.equal(Number(some['mlm/correct'].data[0]), hits);
  const none = await fwd.run({ labels: i64([-100, -100, -100]) });
  assert.equal(Number(none.loss.data[0]), 0);
  assert.equal(Number(none['mlm/count'].data[0]), 0);
  const step = await TrainStep.compile(nodeBackend, (g) => build(g).loss, store, { optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 } });
  const r = await step.run([{ labels: i64([-100, -100, -100]) }], 0.1);
  assert.equal(r.loss, 0);
  assert.equal(r.gradNorm, 0);
  assert.ok(store.get('w').every(Number.isFinite));
});

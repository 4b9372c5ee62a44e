// A two-layer MLP trains on a fixed toy task; the export declares our opset and symbolic dims; errors are clear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Ctx, Linear, Module, initParameters } from '../../src/nn/index.js';
import { Forward, TrainStep } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { ModelProto } from '../../src/graph/onnx-proto.js';

class Mlp extends Module {
  readonly fc1 = this.child(new Linear('fc1', 2, 16, { std: 0.5 }));
  readonly fc2 = this.child(new Linear('fc2', 16, 2, { std: 0.5 }));
  constructor() {
    super('');
  }
  forward(ctx: Ctx, x: F.Tensor): F.Tensor {
    return this.fc2.forward(ctx, F.tanh(this.fc1.forward(ctx, x)));
  }
}

function storeFor(m: Module, seed: number): ParameterStore {
  const s = new ParameterStore();
  const specs = m.parameters();
  for (const [n, v] of initParameters(specs, seed)) s.set(n, specs.find((p) => p.name === n)!.shape, v);
  return s;
}

test('an MLP learns XOR with AdamW', async () => {
  const m = new Mlp();
  const store = storeFor(m, 0);
  const xs = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
  const ys = BigInt64Array.from([0n, 1n, 1n, 0n]);
  const step = await TrainStep.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g, true);
    return F.crossEntropy(m.forward(ctx, g.input('x', 'float32', [4, 2])), g.input('y', 'int64', [4]));
  }, store, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } });
  const batch = { x: { dtype: 'float32' as const, shape: [4, 2], data: xs }, y: { dtype: 'int64' as const, shape: [4], data: ys } };
  const first = (await step.run([batch], 0.05)).loss;
  let last = first;
  for (let i = 0; i < 150; i++) last = (await step.run([batch], 0.05)).loss;
  assert.ok(first > 0.5 && last < 0.05, `loss ${first} -> ${last}`);
});

test('one compiled graph serves any batch size through a symbolic dim', async () => {
  const m = new Mlp();
  const store = storeFor(m, 1);
  const fwd = await Forward.compile(nodeBackend, (g) => ({ y: m.forward(new Ctx(g), g.input('x', 'float32', ['batch', 2])) }), store);
  for (const b of [1, 3, 7]) {
    const y = await fwd.run({ x: { dtype: 'float32', shape: [b, 2], data: new Float32Array(2 * b) } });
    assert.deepEqual(y.y.shape, [b, 2]);
  }
});

test('the ONNX model declares opset 21, IR 10 and the symbolic input dims', () => {
  const g = new F.Graph('t');
  const x = g.input('x', 'float32', ['batch', 'seq', 4]);
  g.output('y', F.reshape(F.softmax(x), [-1, 4]));
  const model = ModelProto.toObject(ModelProto.decode(F.toOnnx(g).bytes), { longs: Number }) as {
    ir_version: number;
    opset_import: { domain: string; version: number }[];
    graph: { input: { type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }[] };
  };
  assert.equal(model.ir_version, F.IR_VERSION);
  assert.equal(model.opset_import.find((o) => o.domain === '')?.version, F.OPSET);
  assert.deepEqual(model.graph.input[0].type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value), ['batch', 'seq', 4]);
});

test('shape errors name the op and the shapes', () => {
  const g = new F.Graph('t');
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4, 5]);
  assert.throws(() => F.matmul(a, b), /matmul: inner dims differ: \[2, 3\] @ \[4, 5\]/);
  assert.throws(() => F.add(a, b), /add: shapes \[2, 3\] and \[4, 5\] do not broadcast/);
  assert.throws(() => F.reshape(a, [4, -1]), /reshape: cannot reshape \[2, 3\] to \[4, -1\]/);
});

test('a graph whose parameter is missing from the store is refused by name', async () => {
  const store = new ParameterStore();
  await assert.rejects(
    Forward.compile(nodeBackend, (g) => ({ y: g.param('encoder.w', [2]) }), store),
    /parameter "encoder.w" \[2\] but the store has no such parameter/,
  );
});

// The profile bench's folding of ORT's per-node events into rows by op type and model part, on a synthetic profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldProfile, matmulFlops, parseScope, scopesFromModel, type ProfileEvent } from '../../bench/profile.js';
import * as F from '../../src/graph/index.js';

const run = (ts: number, dur: number): ProfileEvent => ({ cat: 'Session', name: 'model_run', ts, dur });
const kernel = (name: string, op: string, ts: number, dur: number, shapes?: { in: number[][]; out: number[] }): ProfileEvent => ({
  cat: 'Node', name: `${name}_kernel_time`, ts, dur,
  args: { op_name: op, ...(shapes ? { input_type_shape: shapes.in.map((s) => ({ float: s })), output_type_shape: [{ float: shapes.out }] } : {}) },
});

test('scope labels are read from node and tensor names', () => {
  assert.deepEqual(parseScope('attention/bwd/transformer.h.0.attn/MatMul_12'), { part: 'attention', backward: true, path: 'transformer.h.0.attn' });
  assert.deepEqual(parseScope('mlp/fwd/h.1.mlp/_Add7'), { part: 'mlp', backward: false, path: 'h.1.mlp' });
  assert.equal(parseScope('MatMul_With_Transpose_3'), undefined);
});

test('matmul FLOPs from shapes, transposed A included', () => {
  assert.equal(matmulFlops([[4, 8, 16], [16, 32]], [4, 8, 32]), 2 * 4 * 8 * 32 * 16);
  // A^T: A is [K, M] = [16, 8].
  assert.equal(matmulFlops([[16, 8], [16, 32]], [8, 32]), 2 * 8 * 32 * 16);
  assert.equal(matmulFlops([[2, 3, 5, 7], [2, 3, 7, 5]], [2, 3, 5, 5]), 2 * 2 * 3 * 5 * 5 * 7);
});

test('kernel time of the last runs is folded per step by op, part and direction, with matmul GFLOP/s', () => {
  const mm = { in: [[64, 128], [128, 256]], out: [64, 256] }; // 2*64*256*128 = 4.194304 MFLOP
  const events: ProfileEvent[] = [
    // A warm-up run that must not count.
    run(0, 1000),
    kernel('attention/fwd/h.0.attn/MatMul_1', 'MatMul', 10, 900, mm),
    ...[10_000, 20_000].flatMap((t) => [
      run(t, 1000),
      kernel('attention/fwd/h.0.attn/MatMul_1', 'MatMul', t + 10, 200, mm),
      kernel('attention/bwd/h.0.attn/Softmax_2', 'Softmax', t + 300, 100),
      kernel('FusedNode_9', 'FusedMatMul', t + 400, 100, mm),
      kernel('norm/fwd/ln_f/LayerNormalization_3', 'LayerNormalization', t + 600, 50),
      kernel('Add_4', 'Add', t + 700, 50),
    ]),
  ];
  const f = foldProfile(events, { steps: 2, scopeOf: (n) => (n === 'FusedNode_9' ? { part: 'mlp', backward: true, path: 'h.0.mlp' } : undefined) });
  assert.equal(f.steps, 2);
  assert.equal(f.stepMs, 1);
  assert.ok(Math.abs(f.kernelMs - 0.5) < 1e-12);
  assert.ok(Math.abs(f.outsideShare - 0.5) < 1e-12);
  const row = (rows: typeof f.byOp, key: string) => rows.find((r) => r.key === key)!;
  // Add_4 has no scope anywhere: it takes that of the kernel before it.
  assert.deepEqual(f.byPart.map((r) => r.key), ['attention', 'mlp', 'norm']);
  assert.ok(Math.abs(row(f.byPart, 'attention').ms - 0.3) < 1e-12);
  assert.ok(Math.abs(row(f.byPart, 'attention').share - 0.3) < 1e-12);
  assert.equal(row(f.byPart, 'attention').calls, 2);
  assert.ok(Math.abs(row(f.byPartDirection, 'attention forward').gflops! - 4.194304e6 / 200e-6 / 1e9) < 1e-9);
  assert.ok(Math.abs(row(f.byPartDirection, 'mlp backward').gflops! - 4.194304e6 / 100e-6 / 1e9) < 1e-9);
  assert.equal(row(f.byPart, 'norm').gflops, undefined);
  assert.ok(Math.abs(row(f.byOp, 'FusedMatMul').ms - 0.1) < 1e-12);
  assert.ok(Math.abs(f.matmulGflops - (2 * 4.194304e6) / 300e-6 / 1e9) < 1e-9);
  assert.ok(Math.abs(row(f.byPartOp, 'norm forward Add').share - 0.05) < 1e-12);
});

test('node scopes of an optimised model come from output names, or input names for inlined nodes', () => {
  const g = new F.Graph('t');
  const x = g.input('x', 'float32', [2, 3]);
  const y = g.scope('mlp', 'h.0.mlp', () => F.tanh(F.mul(x, 2)));
  g.output('y', F.exp(F.softmax(g.scope('norm', 'ln', () => F.mul(y, 3)))));
  const scopes = scopesFromModel(F.toOnnx(g).bytes);
  const entries = [...scopes.entries()];
  assert.ok(entries.filter(([n]) => n.startsWith('mlp/')).length >= 2);
  for (const [name, s] of entries) if (parseScope(name)) assert.equal(s.part, parseScope(name)!.part, name);
  // Softmax and Exp have no scope: what they read says they follow the norm, two nodes on.
  assert.equal(entries.find(([n]) => n.startsWith('Softmax_'))?.[1].part, 'norm');
  assert.equal(entries.find(([n]) => n.startsWith('Exp_'))?.[1].part, 'norm');
});

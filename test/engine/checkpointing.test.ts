// Gradient checkpointing: the backward recomputes each block's forward, so it reads no tensor inside a block; the
// gradients and a training run's losses equal those without it (GPT-2 with dropout, BERT with MLM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/graph/index.js';
import { Gpt2LMHeadModel, gpt2Config } from '../../src/models/gpt2.js';
import { bertConfig, bertConfigToHf } from '../../src/models/bert.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { Ctx, initParameters, type ParamSpec } from '../../src/nn/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward, TrainStep, type Batch } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';

const B = 2;
const T = 8;
const VOCAB = 40;

function storeFor(specs: ParamSpec[]): ParameterStore {
  const s = new ParameterStore();
  for (const [n, v] of initParameters(specs, 3)) s.set(n, specs.find((p) => p.name === n)!.shape, v);
  return s;
}

const ids = (seed: number, f: (i: number) => number = (i) => (i * 7 + seed * 13) % VOCAB) => ({
  dtype: 'int64' as const, shape: [B, T], data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(f(i))),
});

interface Case {
  specs: ParamSpec[];
  loss: (ctx: Ctx) => F.Tensor;
  batch: (seed: number) => Batch;
}

const gpt2 = (): Case => {
  const model = new Gpt2LMHeadModel(gpt2Config({ vocabSize: VOCAB, nEmbd: 16, nLayer: 2, nHead: 2, nPositions: T, dropout: 0.1 }));
  return {
    specs: model.parameters(),
    loss: (ctx) => model.loss(ctx, ctx.g.input('input_ids', 'int64', [B, T]), ctx.g.input('labels', 'int64', [B, T])),
    batch: (seed) => ({ input_ids: ids(seed), labels: ids(seed) }),
  };
};

const bert = (): Case => {
  const config = bertConfig({ vocabSize: VOCAB, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: T });
  const model = getModel('bert').build(bertConfigToHf(config), { heads: ['mlm'] });
  return {
    specs: model.parameters(),
    loss: (ctx) => {
      const input = (name: string) => ctx.g.input(name, 'int64', [B, T]);
      const inputs = { input_ids: input('input_ids'), token_type_ids: input('token_type_ids'), attention_mask: input('attention_mask'), labels: input('labels') };
      return model.pretrainingLoss(ctx, inputs, ['mlm']).loss;
    },
    batch: (seed) => ({
      input_ids: ids(seed),
      token_type_ids: ids(seed, (i) => Number(i % T >= T / 2)),
      attention_mask: ids(seed, (i) => Number(i % T < T - 1 || i < T)),
      labels: ids(seed, (i) => (i % 3 === seed % 3 ? (i * 5) % VOCAB : -100)),
    }),
  };
};

const ctxFor = (g: F.Graph, checkpointing: boolean) => new Ctx(g, true, 0.1, 'float32', checkpointing);

for (const [name, make] of [['gpt2', gpt2], ['bert', bert]] as const) {
  test(`${name}: the backward with checkpointing reads no tensor from inside a block's forward`, () => {
    const c = make();
    const g = new F.Graph('t');
    const loss = c.loss(ctxFor(g, true));
    const forward = g.nodes.length;
    const segmentOf = new Map(g.nodes.flatMap((n) => n.outputs.map((t) => [t.id, n.segment] as const)));
    // Tensors of a segment that the forward reads outside it: the boundary the backward may keep.
    const boundary = new Set(g.nodes.flatMap((n) => n.inputs.filter((x) => segmentOf.get(x.id) !== undefined && segmentOf.get(x.id) !== n.segment).map((x) => x.id)));
    assert.ok(new Set(g.nodes.map((n) => n.segment).filter((s) => s !== undefined)).size >= 2, 'one segment per block');
    F.gradients(loss, [...g.params.values()]);
    const internal = g.nodes.slice(forward).flatMap((n) => n.inputs).filter((x) => segmentOf.get(x.id) !== undefined && !boundary.has(x.id));
    assert.equal(internal.length, 0, `backward reads ${internal.length} block-internal tensors`);
  });

  test(`${name}: gradients with and without checkpointing agree to 1e-6`, async () => {
    const c = make();
    const store = storeFor(c.specs);
    const grads = async (checkpointing: boolean) => {
      const fwd = await Forward.compile(nodeBackend, (g) => {
        const loss = c.loss(ctxFor(g, checkpointing));
        const ps = [...g.params.values()];
        const ds = F.gradients(loss, ps);
        return Object.fromEntries([['loss', loss], ...ps.map((p, i) => [`grad/${p.name}`, ds[i]])]);
      }, store);
      return fwd.run(c.batch(1));
    };
    const [plain, ckpt] = [await grads(false), await grads(true)];
    assert.equal(Object.keys(ckpt).length, c.specs.length + 1);
    let worst = 0;
    let largest = 0;
    for (const k of Object.keys(plain)) {
      const a = plain[k].data as Float32Array;
      const b = ckpt[k].data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
        largest = Math.max(largest, Math.abs(a[i]));
      }
    }
    assert.ok(largest > 1e-3, 'gradients are not all zero');
    assert.ok(worst <= 1e-6, `largest difference ${worst}`);
  });

  test(`${name}: a training run's losses are the same with checkpointing`, async () => {
    const c = make();
    const opt = { optimizer: { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, gradClip: 1 };
    const run = async (checkpointing: boolean) => {
      const store = storeFor(c.specs);
      const step = await TrainStep.compile(nodeBackend, (g) => c.loss(ctxFor(g, checkpointing)), store, opt);
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) losses.push((await step.run([c.batch(i)], 1e-2)).loss);
      return losses;
    };
    const [plain, ckpt] = [await run(false), await run(true)];
    assert.ok(plain[3] < plain[0], `loss falls: ${plain}`);
    plain.forEach((l, i) => assert.ok(Math.abs(l - ckpt[i]) <= 1e-6, `step ${i}: ${l} vs ${ckpt[i]}`));
  });
}

// `npm run bench -- engine`: one training step (forward, backward, AdamW) of a 4-layer, 256-wide GPT-2 at
// batch 32 x 128, beside ../shared/bench/torch_baseline.py --model gpt in the same invocation.
import * as F from '../src/graph/index.js';
import { Ctx, initParameters } from '../src/nn/index.js';
import { Gpt2LMHeadModel, gpt2Config } from '../src/models/gpt2.js';
import { LlamaForCausalLM, llamaConfig } from '../src/models/llama.js';
import { availableCores } from '../src/runtime/node.js';
import type { ParamSpec } from '../src/nn/index.js';
import type { Batch, LossBuilder, TrainStepOptions } from '../src/runtime/step.js';
import { ParameterStore } from '../src/runtime/store.js';
import { countParams, ortMatmulPeakGflops, printTrainSummary, runTorchBaseline, timeTrainStep, torchRatios, trainFigures, writeResult } from './common.js';

export interface EngineBenchOptions {
  steps: number;
  warmup: number;
  batch: number;
  seq: number;
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  torch: boolean;
}

export const engineDefaults: EngineBenchOptions = { steps: 24, warmup: 3, batch: 32, seq: 128, layers: 4, hidden: 256, heads: 4, vocab: 8192, torch: true };

/** What a benchmark trains: the loss graph, its parameters, the optimizer options and a few batches to cycle over. */
export interface BenchStep {
  build: LossBuilder;
  store: ParameterStore;
  opt: TrainStepOptions;
  batches: Batch[];
  specs: ParamSpec[];
}

/** The engine benchmark's GPT-2, its AdamW with clipping and random-token batches. */
export function engineStep(o: Omit<EngineBenchOptions, 'steps' | 'warmup' | 'torch'> & { gradientCheckpointing?: boolean }): BenchStep {
  const config = gpt2Config({ vocabSize: o.vocab, nEmbd: o.hidden, nLayer: o.layers, nHead: o.heads, nPositions: Math.max(1024, o.seq) });
  const model = new Gpt2LMHeadModel(config);
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const build = (g: F.Graph) =>
    model.loss(new Ctx(g, true, 0, 'float32', o.gradientCheckpointing), g.input('input_ids', 'int64', [o.batch, o.seq]), g.input('labels', 'int64', [o.batch, o.seq]));
  const opt = { optimizer: { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, gradClip: 1 };

  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const batches: Batch[] = Array.from({ length: 4 }, () => {
    const ids = BigInt64Array.from({ length: o.batch * o.seq }, () => BigInt(Math.floor(rand() * o.vocab)));
    const t = { dtype: 'int64' as const, shape: [o.batch, o.seq], data: ids };
    return { input_ids: t, labels: t };
  });
  return { build, store, opt, batches, specs };
}

/** A LLaMA of the engine benchmark's size (SwiGLU, RoPE, RMSNorm, untied lm_head), on the same batches. */
export function llamaStep(o: Omit<EngineBenchOptions, 'steps' | 'warmup' | 'torch'>): BenchStep {
  const gpt2 = engineStep(o);
  const model = new LlamaForCausalLM(llamaConfig({ vocabSize: o.vocab, hiddenSize: o.hidden, numHiddenLayers: o.layers, numAttentionHeads: o.heads }));
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const build = (g: F.Graph) =>
    model.loss(new Ctx(g, true, 0), g.input('input_ids', 'int64', [o.batch, o.seq]), g.input('labels', 'int64', [o.batch, o.seq]));
  return { ...gpt2, build, store, specs };
}

export async function runEngineBench(o: EngineBenchOptions): Promise<Record<string, unknown>> {
  const { build, store, opt, batches, specs } = engineStep(o);
  const timing = await timeTrainStep(build, store, opt, batches, o);

  const nonEmb = countParams(specs, (n) => !n.endsWith('wte.weight') && !n.endsWith('wpe.weight'));
  const tokens = o.batch * o.seq;
  const flops = 6 * nonEmb * tokens + 12 * o.layers * o.hidden * o.seq * tokens;
  const lmHeadFlops = 6 * o.vocab * o.hidden * o.batch * (o.seq - 1); // logits are computed for T-1 positions
  const peak = await ortMatmulPeakGflops();
  const ours = trainFigures(timing, { tokens, params: store.count(), nonEmbedding: nonEmb, flops, lmHeadFlops, peak });
  const torch = o.torch
    ? runTorchBaseline(['--model', 'gpt', '--steps', String(o.steps), '--batch', String(o.batch), '--seq', String(o.seq),
        '--layers', String(o.layers), '--hidden', String(o.hidden), '--heads', String(o.heads), '--vocab', String(o.vocab),
        '--threads', String(availableCores())])
    : { skipped: 'disabled with --no-torch' };
  const result = {
    bench: 'engine',
    date: new Date().toISOString(),
    config: { ...o, model: 'gpt2', ffn: 4 * o.hidden, dropout: 0, optimizer: 'AdamW', grad_clip: 1 },
    ours,
    torch: torch.result ?? null,
    torch_skipped: torch.skipped,
    ratios: torchRatios(ours, torch.result),
  };
  const file = writeResult('engine', result);
  console.log(`engine: GPT-2 ${o.layers}x${o.hidden}, batch ${o.batch}x${o.seq}, vocab ${o.vocab}`);
  printTrainSummary(ours, torch, result.ratios, file);
  return result;
}

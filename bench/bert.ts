// `npm run bench -- bert`: one MLM training step (forward, backward, AdamW) of a 4-layer, 256-wide BERT at batch
// 32 x 128, vocabulary 8192, beside ../shared/bench/torch_baseline.py --model bert in the same invocation. The model,
// the batches (15% of positions labelled, 80/10/10 mask/random/keep) and the FLOP formula are the baseline's.
import type * as F from '../src/graph/index.js';
import { bertConfig, bertConfigToHf } from '../src/models/bert.js';
import '../src/models/index.js';
import { getModel } from '../src/models/registry.js';
import { Ctx, initParameters } from '../src/nn/index.js';
import { availableCores } from '../src/runtime/node.js';
import type { Batch } from '../src/runtime/step.js';
import type { BenchStep } from './engine.js';
import { ParameterStore } from '../src/runtime/store.js';
import { countParams, ortMatmulPeakGflops, printTrainSummary, runTorchBaseline, timeTrainStep, torchRatios, trainFigures, writeResult } from './common.js';

export interface BertBenchOptions {
  steps: number;
  warmup: number;
  batch: number;
  seq: number;
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  torch: boolean;
}

export const bertDefaults: BertBenchOptions = { steps: 24, warmup: 3, batch: 32, seq: 128, layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 8192, torch: true };

/** torch_baseline.py's ids: [MASK] is 4, ordinary tokens are 5..V-1. */
const MASK_ID = 4;
const FIRST_NORMAL_ID = 5;

/**
 * Batches shaped like torch_baseline.py's bert_batch: on every row exactly round(0.15 T) positions are labelled
 * (the rest -100), of which 80% become [MASK], 10% a random token and 10% stay; segment B is the second half.
 */
export function mlmBatches(o: { batch: number; seq: number; vocab: number }, count: number, seed = 1): { batches: Batch[]; labelled: number } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const token = () => FIRST_NORMAL_ID + Math.floor(rand() * (o.vocab - FIRST_NORMAL_ID));
  const nMask = Math.max(1, Math.round(0.15 * o.seq));
  const shape = [o.batch, o.seq];
  const i64 = (data: BigInt64Array) => ({ dtype: 'int64' as const, shape, data });
  const batches = Array.from({ length: count }, () => {
    const ids = BigInt64Array.from({ length: o.batch * o.seq }, () => BigInt(token()));
    const labels = new BigInt64Array(o.batch * o.seq).fill(-100n);
    const types = new BigInt64Array(o.batch * o.seq);
    for (let b = 0; b < o.batch; b++) {
      const row = b * o.seq;
      const order = Array.from({ length: o.seq }, (_, t) => t);
      for (let i = 0; i < nMask; i++) {
        const j = i + Math.floor(rand() * (o.seq - i));
        [order[i], order[j]] = [order[j], order[i]];
        const p = row + order[i];
        labels[p] = ids[p];
        const r = rand();
        if (r < 0.8) ids[p] = BigInt(MASK_ID);
        else if (r < 0.9) ids[p] = BigInt(token());
      }
      types.fill(1n, row + Math.floor(o.seq / 2), row + o.seq);
    }
    return { input_ids: i64(ids), token_type_ids: i64(types), attention_mask: i64(new BigInt64Array(o.batch * o.seq).fill(1n)), labels: i64(labels) };
  });
  return { batches, labelled: o.batch * nMask };
}

/** The BERT benchmark's model (MLM head), the baseline's AdamW and MLM batches. */
export function bertStep(o: Omit<BertBenchOptions, 'steps' | 'warmup' | 'torch'>): BenchStep & { labelled: number } {
  const config = bertConfig({
    vocabSize: o.vocab, hiddenSize: o.hidden, numHiddenLayers: o.layers, numAttentionHeads: o.heads, intermediateSize: o.ffn,
    maxPositionEmbeddings: Math.max(512, o.seq), hiddenDropout: 0, attentionDropout: 0,
  });
  const model = getModel('bert').build(bertConfigToHf(config), { heads: ['mlm'], dropout: 0 });
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const build = (g: F.Graph) => {
    const input = (name: string) => g.input(name, 'int64', [o.batch, o.seq]);
    const inputs = { input_ids: input('input_ids'), token_type_ids: input('token_type_ids'), attention_mask: input('attention_mask'), labels: input('labels') };
    return model.pretrainingLoss(new Ctx(g, true, 0), inputs, ['mlm']).loss;
  };
  // The baseline's optimizer: AdamW (0.9, 0.999, 1e-8), weight decay 0.01, no gradient clipping.
  const opt = { optimizer: { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } };
  const { batches, labelled } = mlmBatches(o, 4);
  return { build, store, opt, batches, specs, labelled };
}

export async function runBertBench(o: BertBenchOptions): Promise<Record<string, unknown>> {
  const { build, store, opt, batches, specs, labelled } = bertStep(o);
  const timing = await timeTrainStep(build, store, opt, batches, o);

  // The baseline's formula: N excludes the word, position and token-type tables (the MLM bias is in N).
  const embeddings = ['word_embeddings.weight', 'position_embeddings.weight', 'token_type_embeddings.weight'];
  const nonEmb = countParams(specs, (n) => !embeddings.some((e) => n.endsWith(`embeddings.${e}`)));
  const tokens = o.batch * o.seq;
  const flops = 6 * nonEmb * tokens + 12 * o.layers * o.hidden * o.seq * tokens;
  // Our MLM head computes logits only at the labelled positions (the baseline at all B x T).
  const lmHeadFlops = 6 * o.vocab * o.hidden * labelled;
  const peak = await ortMatmulPeakGflops();
  const ours = trainFigures(timing, { tokens, params: store.count(), nonEmbedding: nonEmb, flops, lmHeadFlops, peak }, { labelled_per_step: labelled });
  const torch = o.torch
    ? runTorchBaseline(['--model', 'bert', '--steps', String(o.steps), '--warmup', String(o.warmup), '--batch', String(o.batch),
        '--seq', String(o.seq), '--layers', String(o.layers), '--hidden', String(o.hidden), '--heads', String(o.heads),
        '--ffn', String(o.ffn), '--vocab', String(o.vocab), '--dropout', '0', '--threads', String(availableCores())])
    : { skipped: 'disabled with --no-torch' };
  const result = {
    bench: 'bert',
    date: new Date().toISOString(),
    config: { ...o, model: 'bert', heads_trained: ['mlm'], mask_rate: 0.15, dropout: 0, optimizer: 'AdamW', grad_clip: null },
    ours,
    torch: torch.result ?? null,
    torch_skipped: torch.skipped,
    ratios: torchRatios(ours, torch.result),
  };
  const file = writeResult('bert', result);
  console.log(`bert: BERT ${o.layers}x${o.hidden} (ffn ${o.ffn}), batch ${o.batch}x${o.seq}, vocab ${o.vocab}, MLM on ${labelled} positions/step`);
  printTrainSummary(ours, torch, result.ratios, file);
  return result;
}

// `npm run bench -- t5`: one training step (forward, backward, AdamW) of a T5 v1.0 with 4 + 4 layers, 256 wide,
// 4 heads, ffn 1024, vocabulary 8192, at batch 32 x (encoder 128, decoder 32), beside
// ../shared/bench/torch_baseline.py --model t5 in the same invocation. The model (ReLU FFN, tied embeddings,
// relative position buckets 32 / 128, no dropout), the span-corruption-shaped batches (sentinels at the top ids,
// no attention mask) and the FLOP formula (encoder, decoder and cross-attention counted separately) are the
// baseline's; tokens/s counts encoder tokens, as the baseline does (total_tokens_per_s adds the decoder's).
import type * as F from '../src/graph/index.js';
import { t5Config, t5ConfigToHf } from '../src/models/t5.js';
import '../src/models/index.js';
import { getModel } from '../src/models/registry.js';
import { Ctx, initParameters } from '../src/nn/index.js';
import { availableCores } from '../src/runtime/node.js';
import type { Batch } from '../src/runtime/step.js';
import type { BenchStep } from './engine.js';
import { ParameterStore } from '../src/runtime/store.js';
import { countParams, ortMatmulPeakGflops, printTrainSummary, runTorchBaseline, timeTrainStep, torchRatios, trainFigures, writeResult } from './common.js';

export interface T5BenchOptions {
  steps: number;
  warmup: number;
  batch: number;
  /** Encoder tokens per example (L_in). */
  seq: number;
  /** Decoder tokens per example (L_out). */
  decSeq: number;
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  torch: boolean;
}

export const t5Defaults: T5BenchOptions = { steps: 24, warmup: 3, batch: 32, seq: 128, decSeq: 32, layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 8192, torch: true };

/**
 * Batches shaped like torch_baseline.py's t5_batch: per row n = max(1, L_out / 4) noise spans; the input is
 * L_in - n kept tokens with the sentinels V-1, V-2, ... between them, the target the n sentinels each followed by
 * its span (L_out in all); decoder_input_ids are the targets shifted right after the pad id 0. Ordinary tokens are
 * 2..V-n-1.
 */
export function spanBatches(o: { batch: number; seq: number; decSeq: number; vocab: number }, count: number, seed = 1): Batch[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const nSpans = Math.max(1, Math.floor(o.decSeq / 4));
  const nNoise = o.decSeq - nSpans;
  const nKeep = o.seq - nSpans;
  // A random composition of `total` into `parts` positive pieces.
  const split = (total: number, parts: number): number[] => {
    const cuts = Array.from({ length: total - 1 }, (_, i) => i + 1);
    for (let i = 0; i < parts - 1; i++) {
      const j = i + Math.floor(rand() * (cuts.length - i));
      [cuts[i], cuts[j]] = [cuts[j]!, cuts[i]!];
    }
    const b = [0, ...cuts.slice(0, parts - 1).sort((x, y) => x - y), total];
    return Array.from({ length: parts }, (_, i) => b[i + 1]! - b[i]!);
  };
  const i64 = (shape: number[], v: number[]) => ({ dtype: 'int64' as const, shape, data: BigInt64Array.from(v, BigInt) });
  return Array.from({ length: count }, () => {
    const inp: number[] = [];
    const tgt: number[] = [];
    for (let b = 0; b < o.batch; b++) {
      const text = Array.from({ length: nKeep + nNoise }, () => 2 + Math.floor(rand() * (o.vocab - nSpans - 2)));
      const noise = split(nNoise, nSpans);
      const keep = split(nKeep, nSpans);
      let p = 0;
      for (let i = 0; i < nSpans; i++) {
        inp.push(...text.slice(p, p + keep[i]!));
        p += keep[i]!;
        inp.push(o.vocab - 1 - i);
        tgt.push(o.vocab - 1 - i, ...text.slice(p, p + noise[i]!));
        p += noise[i]!;
      }
    }
    const dec = tgt.map((_, k) => (k % o.decSeq === 0 ? 0 : tgt[k - 1]!));
    return { input_ids: i64([o.batch, o.seq], inp), decoder_input_ids: i64([o.batch, o.decSeq], dec), labels: i64([o.batch, o.decSeq], tgt) };
  });
}

/** The T5 benchmark's model, the baseline's AdamW and span-corruption batches. */
export function t5Step(o: Omit<T5BenchOptions, 'steps' | 'warmup' | 'torch'>): BenchStep {
  const config = t5Config({
    vocabSize: o.vocab, dModel: o.hidden, numLayers: o.layers, numDecoderLayers: o.layers, numHeads: o.heads, dFf: o.ffn, dropoutRate: 0,
    feedForwardProj: 'relu', tieWordEmbeddings: true,
  });
  const model = getModel('t5').build(t5ConfigToHf(config), { heads: ['seq2seq'], dropout: 0 });
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const build = (g: F.Graph) => {
    const inputs = {
      input_ids: g.input('input_ids', 'int64', [o.batch, o.seq]),
      decoder_input_ids: g.input('decoder_input_ids', 'int64', [o.batch, o.decSeq]),
      labels: g.input('labels', 'int64', [o.batch, o.decSeq]),
    };
    return model.pretrainingLoss(new Ctx(g, true, 0), inputs, ['seq2seq']).loss;
  };
  // The baseline's optimizer: AdamW (0.9, 0.999, 1e-8), weight decay 0.01, no gradient clipping.
  const opt = { optimizer: { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } };
  const batches = spanBatches(o, 4);
  return { build, store, opt, batches, specs };
}

export async function runT5Bench(o: T5BenchOptions): Promise<Record<string, unknown>> {
  const { build, store, opt, batches, specs } = t5Step(o);
  const timing = await timeTrainStep(build, store, opt, batches, o);

  // The baseline's formula: N per stack excludes the shared embedding and the relative-attention-bias table.
  const stack = (prefix: string) => countParams(specs, (n) => n.startsWith(`${prefix}.`) && !n.includes('relative_attention_bias'));
  const nEnc = stack('encoder');
  const nDec = stack('decoder');
  const inner = o.heads * (o.hidden / o.heads);
  const B = o.batch;
  const T = o.seq;
  const Tout = o.decSeq;
  const flops = 6 * nEnc * B * T + 6 * nDec * B * Tout
    + 12 * o.layers * inner * T * B * T // encoder self-attention
    + 12 * o.layers * inner * Tout * B * Tout // decoder self-attention
    + 12 * o.layers * inner * T * B * Tout; // cross-attention
  const lmHeadFlops = 6 * o.vocab * o.hidden * B * Tout;
  const tokens = B * T;
  const peak = await ortMatmulPeakGflops();
  const ours = trainFigures(timing, { tokens, params: store.count(), nonEmbedding: nEnc + nDec, flops, lmHeadFlops, peak }, {
    total_tokens_per_s: (B * (T + Tout)) / timing.meanStep, params_nonembedding_split: { encoder: nEnc, decoder: nDec },
  });
  const torch = o.torch
    ? runTorchBaseline(['--model', 't5', '--steps', String(o.steps), '--warmup', String(o.warmup), '--batch', String(o.batch),
        '--seq', String(o.seq), '--dec-seq', String(o.decSeq), '--layers', String(o.layers), '--hidden', String(o.hidden),
        '--heads', String(o.heads), '--ffn', String(o.ffn), '--vocab', String(o.vocab), '--dropout', '0', '--threads', String(availableCores())])
    : { skipped: 'disabled with --no-torch' };
  const result = {
    bench: 't5',
    date: new Date().toISOString(),
    config: { ...o, model: 't5', heads_trained: ['seq2seq'], feed_forward_proj: 'relu', dropout: 0, optimizer: 'AdamW', grad_clip: null },
    ours,
    torch: torch.result ?? null,
    torch_skipped: torch.skipped,
    ratios: torchRatios(ours, torch.result),
  };
  const file = writeResult('t5', result);
  console.log(`t5: T5 ${o.layers}+${o.layers}x${o.hidden} (ffn ${o.ffn}), batch ${o.batch}x(${o.seq} encoder, ${o.decSeq} decoder), vocab ${o.vocab}; tokens/s counts encoder tokens`);
  printTrainSummary(ours, torch, result.ratios, file);
  return result;
}

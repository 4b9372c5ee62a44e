// `npm run bench -- engine`: one training step (forward, backward, AdamW) of a 4-layer, 256-wide GPT-2 at
// batch 32 x 128, beside ../shared/bench/torch_baseline.py --model gpt in the same invocation.
import * as F from '../src/graph/index.js';
import { Ctx, initParameters } from '../src/nn/index.js';
import { Gpt2LMHeadModel, gpt2Config } from '../src/models/gpt2.js';
import { nodeBackend, availableCores } from '../src/runtime/node.js';
import { TrainStep, type Batch } from '../src/runtime/step.js';
import { ParameterStore } from '../src/runtime/store.js';
import { kernelMsPerRun, median, ortMatmulPeakGflops, peakRssMib, runTorchBaseline, writeResult } from './common.js';

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

export async function runEngineBench(o: EngineBenchOptions): Promise<Record<string, unknown>> {
  const config = gpt2Config({ vocabSize: o.vocab, nEmbd: o.hidden, nLayer: o.layers, nHead: o.heads, nPositions: Math.max(1024, o.seq) });
  const model = new Gpt2LMHeadModel(config);
  const specs = model.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 0)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const build = (g: F.Graph) =>
    model.loss(new Ctx(g, true, 0), g.input('input_ids', 'int64', [o.batch, o.seq]), g.input('labels', 'int64', [o.batch, o.seq]));
  const opt = { optimizer: { kind: 'adamw' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, gradClip: 1 };

  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const batches: Batch[] = Array.from({ length: 4 }, () => {
    const ids = BigInt64Array.from({ length: o.batch * o.seq }, () => BigInt(Math.floor(rand() * o.vocab)));
    const t = { dtype: 'int64' as const, shape: [o.batch, o.seq], data: ids };
    return { input_ids: t, labels: t };
  });

  const t0 = performance.now();
  const step = await TrainStep.compile(nodeBackend, build, store, opt);
  const compileS = (performance.now() - t0) / 1000;
  const losses: number[] = [];
  for (let i = 0; i < o.warmup; i++) losses.push((await step.run([batches[i % 4]], 1e-4)).loss);
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < o.steps; i++) {
    const s = performance.now();
    losses.push((await step.run([batches[i % 4]], 1e-4)).loss);
    times.push((performance.now() - s) / 1000);
    if (process.env.BENCH_VERBOSE) console.log(`  step ${i}: ${times[times.length - 1].toFixed(3)} s`);
  }
  const meanStep = (performance.now() - start) / 1000 / o.steps;
  // Before the profiling session below, which has an arena of its own.
  const rss = peakRssMib();

  // Time inside ORT kernels, from ORT's profiler on a separately compiled (profiling) session.
  const profStart = Date.now() - 1000;
  const profStore = store.clone();
  const prof = await TrainStep.compile(nodeBackend, build, profStore, { ...opt, profile: true });
  const profTimes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const s = performance.now();
    await prof.run([batches[i % 4]], 1e-4);
    profTimes.push(performance.now() - s);
  }
  prof.fused.endProfiling?.();
  // Compare the last runs (warm) with the kernel time ORT recorded for those same runs.
  const kernelMs = kernelMsPerRun(profStart);
  const warm = (xs: number[]) => xs.slice(-3).reduce((a, b) => a + b, 0);
  const outside = kernelMs.length === profTimes.length ? Math.max(0, 1 - warm(kernelMs) / warm(profTimes)) : undefined;

  const nonEmb = specs.filter((p) => !p.name.endsWith('wte.weight') && !p.name.endsWith('wpe.weight')).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const tokens = o.batch * o.seq;
  const flops = 6 * nonEmb * tokens + 12 * o.layers * o.hidden * o.seq * tokens;
  const lmHeadFlops = 6 * o.vocab * o.hidden * o.batch * (o.seq - 1); // logits are computed for T-1 positions
  const peak = await ortMatmulPeakGflops();
  const ours = {
    tokens_per_s: tokens / meanStep,
    step_time_mean_s: meanStep,
    step_time_median_s: median(times),
    compile_s: compileS,
    params: store.count(),
    params_nonembedding: nonEmb,
    model_gflop_per_step: flops / 1e9,
    lm_head_gflop_per_step: lmHeadFlops / 1e9,
    achieved_gflops: flops / meanStep / 1e9,
    peak_gflops_ort_matmul: peak,
    mfu: flops / meanStep / 1e9 / peak,
    mfu_incl_lm_head: (flops + lmHeadFlops) / meanStep / 1e9 / peak,
    share_outside_kernels: outside,
    kernel_ms_per_step: kernelMs.length ? warm(kernelMs) / 3 : undefined,
    step_ms_profiled: warm(profTimes) / 3,
    peak_rss_mib: rss,
    loss_first: losses[0],
    loss_last: losses[losses.length - 1],
    threads: availableCores(),
  };
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
    ratios: torch.result
      ? {
          tokens_per_s: ours.tokens_per_s / torch.result.tokens_per_s,
          peak_rss: ours.peak_rss_mib / torch.result.peak_rss_mib,
          // Both MFUs against one denominator: torch's measured BLAS peak.
          mfu_vs_torch_peak: flops / meanStep / 1e9 / torch.result.peak_gflops,
          torch_mfu: torch.result.mfu,
        }
      : null,
  };
  const file = writeResult('engine', result);
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  console.log(`engine: GPT-2 ${o.layers}x${o.hidden}, batch ${o.batch}x${o.seq}, vocab ${o.vocab}`);
  console.log(`  ours : ${ours.tokens_per_s.toFixed(0)} tokens/s, ${ours.achieved_gflops.toFixed(1)} GFLOP/s, MFU ${pct(ours.mfu)} (incl. lm_head ${pct(ours.mfu_incl_lm_head)}) of ORT matmul peak ${peak.toFixed(1)} GFLOP/s`);
  console.log(`         outside ORT kernels: ${pct(ours.share_outside_kernels)} of step time; peak RSS ${ours.peak_rss_mib.toFixed(0)} MiB; compile ${compileS.toFixed(1)} s`);
  if (torch.result) {
    console.log(`  torch: ${torch.result.tokens_per_s.toFixed(0)} tokens/s, MFU ${pct(torch.result.mfu)} of its peak ${torch.result.peak_gflops} GFLOP/s, peak RSS ${torch.result.peak_rss_mib} MiB`);
    console.log(`  ratio: ${result.ratios!.tokens_per_s.toFixed(2)}x PyTorch tokens/s, ${result.ratios!.peak_rss.toFixed(2)}x its peak RSS`);
  } else console.log(`  torch: skipped (${torch.skipped})`);
  console.log(`  -> ${file}`);
  return result;
}

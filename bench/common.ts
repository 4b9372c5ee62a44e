// Shared benchmark plumbing: the PyTorch baseline run beside ours, the matmul peak, result files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as F from '../src/graph/index.js';
import { availableCores, nodeBackend } from '../src/runtime/node.js';
import { TrainStep, type Batch, type LossBuilder, type TrainStepOptions } from '../src/runtime/step.js';
import type { ParameterStore } from '../src/runtime/store.js';

/** ../shared/bench/torch_baseline.py from the repository root, or $PRETRAIN_TORCH_BASELINE. */
export function torchBaselinePath(): string | undefined {
  const candidates = [process.env.PRETRAIN_TORCH_BASELINE, path.resolve('..', 'shared', 'bench', 'torch_baseline.py')];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

export interface TorchResult {
  tokens_per_s: number;
  mfu: number;
  mfu_incl_lm_head: number;
  peak_gflops: number;
  achieved_gflops: number;
  peak_rss_mib: number;
  step_time_median_s: number;
  [k: string]: unknown;
}

/** The OpenBLAS kernel family for this CPU's vector units (x86-64 Linux), or undefined to let OpenBLAS choose. */
export function openblasCore(): string | undefined {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
  } catch {
    return undefined;
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has('avx512f') && has('avx512bw') && has('avx512vl')) return 'SkylakeX';
  if (has('avx2') && has('fma')) return 'Haswell';
  return undefined;
}

/** Runs the PyTorch baseline with Debian's python3 (which carries torch); undefined with a reason if it cannot. */
export function runTorchBaseline(args: string[]): { result?: TorchResult; skipped?: string } {
  const script = torchBaselinePath();
  if (!script) return { skipped: 'torch_baseline.py not found (no ../shared/bench beside the repository)' };
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `${python} has no torch (apt-get install python3-torch libopenblas0-openmp)` };
  // Some machines set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE to work around old OpenBLAS bugs; they pin the
  // baseline to slower kernels, so the baseline runs without them (both together, this command only). Debian's
  // OpenBLAS 0.3.21 does not recognise newer Xeons and falls back to its Prescott (SSE3) kernels, 3-5x slower than
  // the AVX-512 ones, which compute correctly there; the baseline gets the best kernel the CPU supports.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const core = openblasCore();
  if (core) env.OPENBLAS_CORETYPE = core;
  const r = spawnSync(python, [script, ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) return { skipped: `torch_baseline.py failed: ${r.stderr.slice(-500)}` };
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return { skipped: 'torch_baseline.py printed no JSON' };
  return { result: { ...(JSON.parse(line) as TorchResult), openblas_core: core ?? 'auto' } };
}

/** Best of `reps` timed n x n x n float32 matmuls in ORT: the peak our kernels can reach here. */
export async function ortMatmulPeakGflops(n = 2048, reps = 5): Promise<number> {
  const g = new F.Graph('peak');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.output('c', F.matmul(a, b));
  const s = await nodeBackend.createSession(F.toOnnx(g).bytes);
  const data = new Float32Array(n * n).map((_, i) => ((i * 7) % 13) / 13);
  const feeds = { a: { dtype: 'float32' as const, shape: [n, n], data }, b: { dtype: 'float32' as const, shape: [n, n], data } };
  await s.run(feeds);
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    best = Math.min(best, performance.now() - t0);
  }
  await s.release();
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/** The newest ORT profile file with our prefix written since `sinceMs`. */
export function newestProfile(sinceMs: number): string | undefined {
  const dir = os.tmpdir();
  return readdirSync(dir)
    .filter((f) => f.startsWith('pretrain-ort-profile') && f.endsWith('.json'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= sinceMs)
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
}

/** ORT kernel time (ms) of each model run, in order, from the newest profile file with our prefix. */
export function kernelMsPerRun(sinceMs: number): number[] {
  const file = newestProfile(sinceMs);
  if (!file) return [];
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; ts: number; dur: number }[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  return runs.map((r) => kernels.filter((k) => k.ts >= r.ts && k.ts <= r.ts + r.dur).reduce((sum, k) => sum + k.dur, 0) / 1000);
}

export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `${name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

export function peakRssMib(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface TrainTiming {
  /** Mean wall time of the timed steps, in seconds (what tokens/s is computed from, as the baseline does). */
  meanStep: number;
  /** Each timed step, in seconds. */
  times: number[];
  /** Warm-up and timed steps' losses, in order. */
  losses: number[];
  compileS: number;
  /** Peak RSS after the timed steps, before the profiling session (which has an arena of its own). */
  rssMib: number;
  /** Share of a warm profiled step's wall time spent outside ORT kernels; undefined without a profile. */
  outside?: number;
  kernelMsPerStep?: number;
  profiledStepMs: number;
}

/**
 * Compiles a train step and times it as torch_baseline.py does (untimed warm-up, then `steps` timed steps cycling
 * over `batches`, learning rate 1e-4), then measures the share of step time outside ORT kernels with ORT's
 * profiler on a separately compiled (profiling) session over a copy of the parameters.
 */
export async function timeTrainStep(
  build: LossBuilder,
  store: ParameterStore,
  opt: TrainStepOptions,
  batches: Batch[],
  o: { steps: number; warmup: number },
): Promise<TrainTiming> {
  const batch = (i: number) => [batches[i % batches.length]];
  const t0 = performance.now();
  const step = await TrainStep.compile(nodeBackend, build, store, opt);
  const compileS = (performance.now() - t0) / 1000;
  const losses: number[] = [];
  for (let i = 0; i < o.warmup; i++) losses.push((await step.run(batch(i), 1e-4)).loss);
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < o.steps; i++) {
    const s = performance.now();
    losses.push((await step.run(batch(i), 1e-4)).loss);
    times.push((performance.now() - s) / 1000);
    if (process.env.BENCH_VERBOSE) console.log(`  step ${i}: ${times[times.length - 1].toFixed(3)} s`);
  }
  const meanStep = (performance.now() - start) / 1000 / o.steps;
  const rssMib = peakRssMib();

  // Time inside ORT kernels, from ORT's profiler on a separately compiled (profiling) session.
  const profStart = Date.now() - 1000;
  const prof = await TrainStep.compile(nodeBackend, build, store.clone(), { ...opt, profile: true });
  const profTimes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const s = performance.now();
    await prof.run(batch(i), 1e-4);
    profTimes.push(performance.now() - s);
  }
  prof.fused.endProfiling?.();
  // Compare the last runs (warm) with the kernel time ORT recorded for those same runs.
  const kernelMs = kernelMsPerRun(profStart);
  const warm = (xs: number[]) => xs.slice(-3).reduce((a, b) => a + b, 0);
  const outside = kernelMs.length === profTimes.length ? Math.max(0, 1 - warm(kernelMs) / warm(profTimes)) : undefined;
  return {
    meanStep, times, losses, compileS, rssMib, outside,
    kernelMsPerStep: kernelMs.length ? warm(kernelMs) / 3 : undefined,
    profiledStepMs: warm(profTimes) / 3,
  };
}

/** Number of elements of each parameter whose name passes `keep`. */
export function countParams(specs: readonly { name: string; shape: readonly number[] }[], keep: (name: string) => boolean): number {
  return specs.filter((p) => keep(p.name)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

export const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** Our figures against the baseline's from the same invocation; null when it was skipped. */
export function torchRatios(ours: { tokens_per_s: number; peak_rss_mib: number; achieved_gflops: number }, torch: TorchResult | undefined) {
  return torch
    ? {
        tokens_per_s: ours.tokens_per_s / torch.tokens_per_s,
        peak_rss: ours.peak_rss_mib / torch.peak_rss_mib,
        // Both MFUs against one denominator: torch's measured BLAS peak.
        mfu_vs_torch_peak: ours.achieved_gflops / torch.peak_gflops,
        torch_mfu: torch.mfu,
      }
    : null;
}

/** The lines every training benchmark prints after its headline. */
export function printTrainSummary(
  ours: { tokens_per_s: number; achieved_gflops: number; mfu: number; mfu_incl_lm_head: number; peak_gflops_ort_matmul: number; share_outside_kernels?: number; peak_rss_mib: number; compile_s: number },
  torch: { result?: TorchResult; skipped?: string },
  ratios: ReturnType<typeof torchRatios>,
  file: string,
): void {
  console.log(`  ours : ${ours.tokens_per_s.toFixed(0)} tokens/s, ${ours.achieved_gflops.toFixed(1)} GFLOP/s, MFU ${pct(ours.mfu)} (incl. lm_head ${pct(ours.mfu_incl_lm_head)}) of ORT matmul peak ${ours.peak_gflops_ort_matmul.toFixed(1)} GFLOP/s`);
  console.log(`         outside ORT kernels: ${pct(ours.share_outside_kernels)} of step time; peak RSS ${ours.peak_rss_mib.toFixed(0)} MiB; compile ${ours.compile_s.toFixed(1)} s`);
  if (torch.result && ratios) {
    console.log(`  torch: ${torch.result.tokens_per_s.toFixed(0)} tokens/s, MFU ${pct(torch.result.mfu)} (incl. lm_head ${pct(torch.result.mfu_incl_lm_head)}) of its peak ${torch.result.peak_gflops} GFLOP/s, peak RSS ${torch.result.peak_rss_mib} MiB`);
    console.log(`  ratio: ${ratios.tokens_per_s.toFixed(2)}x PyTorch tokens/s, ${ratios.peak_rss.toFixed(2)}x its peak RSS`);
  } else console.log(`  torch: skipped (${torch.skipped})`);
  console.log(`  -> ${file}`);
}

/**
 * The figures every training benchmark reports, from its timing, its FLOP counts (the baseline's formula) and the
 * ORT matmul peak; `extra` adds the benchmark's own fields after the common ones.
 */
export interface TrainFigures {
  tokens_per_s: number;
  step_time_mean_s: number;
  step_time_median_s: number;
  compile_s: number;
  params: number;
  params_nonembedding: number;
  model_gflop_per_step: number;
  lm_head_gflop_per_step: number;
  achieved_gflops: number;
  peak_gflops_ort_matmul: number;
  mfu: number;
  mfu_incl_lm_head: number;
  share_outside_kernels?: number;
  kernel_ms_per_step?: number;
  step_ms_profiled: number;
  peak_rss_mib: number;
  loss_first: number;
  loss_last: number;
  threads: number;
}

export function trainFigures<E extends object>(
  t: TrainTiming,
  o: { tokens: number; params: number; nonEmbedding: number; flops: number; lmHeadFlops: number; peak: number },
  extra?: E,
): TrainFigures & E {
  return {
    tokens_per_s: o.tokens / t.meanStep,
    step_time_mean_s: t.meanStep,
    step_time_median_s: median(t.times),
    compile_s: t.compileS,
    params: o.params,
    params_nonembedding: o.nonEmbedding,
    ...(extra as E),
    model_gflop_per_step: o.flops / 1e9,
    lm_head_gflop_per_step: o.lmHeadFlops / 1e9,
    achieved_gflops: o.flops / t.meanStep / 1e9,
    peak_gflops_ort_matmul: o.peak,
    mfu: o.flops / t.meanStep / 1e9 / o.peak,
    mfu_incl_lm_head: (o.flops + o.lmHeadFlops) / t.meanStep / 1e9 / o.peak,
    share_outside_kernels: t.outside,
    kernel_ms_per_step: t.kernelMsPerStep,
    step_ms_profiled: t.profiledStepMs,
    peak_rss_mib: t.rssMib,
    loss_first: t.losses[0],
    loss_last: t.losses[t.losses.length - 1],
    threads: availableCores(),
  };
}

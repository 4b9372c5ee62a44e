// `npm run bench -- scaling`: tokens/s and peak RSS of the engine GPT-2 as the model widens (hidden 128..768 at
// seq 128) and as the sequence grows (128..1024 at hidden 256, tokens per step held constant), ours and PyTorch's in
// the same invocation; bench/results/scaling.json and two SVG plots. `npm run bench -- threads`: 1 against 2
// intra-op threads, ours and PyTorch's, and ours beside a competing busy process with ORT's spinning on and off.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { lossCurvesSvg } from '../src/train/plot.js';
import { availableCores } from '../src/runtime/node.js';
import { trainInChild, type TrainOneOptions, type TrainOneRun } from './checkpointing.js';
import { runTorchBaseline, writeResult, type TorchResult } from './common.js';
import { engineDefaults } from './engine.js';

interface ScalingPoint {
  axis: 'hidden' | 'seq';
  hidden: number;
  seq: number;
  batch: number;
  ours: TrainOneRun;
  torch: TorchResult | null;
  torch_skipped?: string;
  ratio_tokens_per_s?: number;
  ratio_peak_rss?: number;
}

function torchRun(o: TrainOneOptions, threads: number): { result?: TorchResult; skipped?: string } {
  return runTorchBaseline(['--model', 'gpt', '--steps', String(o.steps), '--warmup', String(o.warmup), '--batch', String(o.batch),
    '--seq', String(o.seq), '--layers', String(engineDefaults.layers), '--hidden', String(o.hidden), '--heads', String(o.heads),
    '--vocab', String(engineDefaults.vocab), '--threads', String(threads)]);
}

function plot(points: ScalingPoint[], axis: 'hidden' | 'seq', file: string): void {
  const series = (name: string, y: (p: ScalingPoint) => number | undefined) => {
    const pts = points.filter((p) => p.axis === axis && y(p) !== undefined).map((p) => ({ step: p[axis], loss: y(p)! }));
    return { name, train: pts };
  };
  const runs = [series('ours', (p) => p.ours.tokens_per_s), series('PyTorch', (p) => p.torch?.tokens_per_s)].filter((r) => r.train.length);
  const what = axis === 'hidden' ? 'hidden size (seq 128)' : 'sequence length (hidden 256, 4096 tokens per step)';
  writeFileSync(file, lossCurvesSvg(runs, { title: `GPT-2 (4 layers) training tokens/s against ${what}`, xLabel: what, yLabel: 'tokens/s', smoothing: 0, trainLabel: '' }));
}

export async function runScalingBench(o: { hiddens: number[]; seqs: number[]; steps: number; warmup: number; torch: boolean }): Promise<void> {
  const threads = availableCores();
  const configs: { axis: 'hidden' | 'seq'; opts: TrainOneOptions }[] = [
    ...o.hiddens.map((hidden) => ({ axis: 'hidden' as const, opts: { seq: 128, batch: 32, hidden, heads: Math.max(1, hidden / 64), steps: o.steps, warmup: o.warmup, checkpointing: false } })),
    ...o.seqs.map((seq) => ({ axis: 'seq' as const, opts: { seq, batch: Math.max(1, Math.round(4096 / seq)), hidden: 256, heads: 4, steps: o.steps, warmup: o.warmup, checkpointing: false } })),
  ];
  const points: ScalingPoint[] = [];
  console.log(`scaling: GPT-2 ${engineDefaults.layers} layers, vocab ${engineDefaults.vocab}, ${threads} threads; ours and PyTorch per configuration, each in its own process`);
  for (const { axis, opts } of configs) {
    const ours = trainInChild(opts);
    const torch = o.torch ? torchRun(opts, threads) : { skipped: 'disabled with --no-torch' };
    const p: ScalingPoint = {
      axis, hidden: opts.hidden, seq: opts.seq, batch: opts.batch, ours, torch: torch.result ?? null, torch_skipped: torch.skipped,
      ratio_tokens_per_s: torch.result ? ours.tokens_per_s / torch.result.tokens_per_s : undefined,
      ratio_peak_rss: torch.result ? ours.peak_rss_mib / torch.result.peak_rss_mib : undefined,
    };
    points.push(p);
    const t = torch.result ? `; torch ${torch.result.tokens_per_s.toFixed(0)} tokens/s, ${torch.result.peak_rss_mib.toFixed(0)} MiB (${p.ratio_tokens_per_s!.toFixed(2)}x, RSS ${p.ratio_peak_rss!.toFixed(2)}x)` : `; torch skipped (${torch.skipped})`;
    console.log(`  hidden ${String(opts.hidden).padStart(3)} seq ${String(opts.seq).padStart(4)} batch ${String(opts.batch).padStart(2)}: ours ${ours.tokens_per_s.toFixed(0)} tokens/s, ${ours.peak_rss_mib.toFixed(0)} MiB${t}`);
  }
  plot(points, 'hidden', 'bench/results/scaling-hidden.svg');
  plot(points, 'seq', 'bench/results/scaling-seq.svg');
  const file = writeResult('scaling', { bench: 'scaling', date: new Date().toISOString(), threads, points });
  console.log(`  -> ${file}, bench/results/scaling-hidden.svg, bench/results/scaling-seq.svg`);
}

/** A process that keeps one core busy until killed: the competing load of the thread study. */
function busyLoad(): () => void {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  return () => child.kill();
}

export async function runThreadsBench(o: { steps: number; warmup: number; torch: boolean }): Promise<void> {
  const opts: TrainOneOptions = { seq: 128, batch: 32, hidden: 256, heads: 4, steps: o.steps, warmup: o.warmup, checkpointing: false };
  const rows: Record<string, unknown>[] = [];
  const record = (label: string, tokens: number | undefined, extra: Record<string, unknown> = {}) => {
    rows.push({ label, tokens_per_s: tokens, ...extra });
    console.log(`  ${label.padEnd(48)} ${tokens === undefined ? 'skipped' : `${tokens.toFixed(0)} tokens/s`}`);
  };
  console.log('threads: engine GPT-2 (4x256, batch 32x128); each run in its own process');
  for (const threads of [1, 2]) {
    record(`ours, ${threads} thread(s), no added load`, trainInChild(opts, { PRETRAIN_INTRA_OP_THREADS: String(threads) }).tokens_per_s, { threads, load: false });
    if (o.torch) record(`torch, ${threads} thread(s), no added load`, torchRun(opts, threads).result?.tokens_per_s, { threads, load: false, torch: true });
  }
  for (const spinning of ['1', '0'])
    for (const threads of [1, 2]) {
      const stop = busyLoad();
      try {
        const r = trainInChild(opts, { PRETRAIN_INTRA_OP_THREADS: String(threads), PRETRAIN_ORT_SPINNING: spinning });
        record(`ours, ${threads} thread(s), spinning ${spinning === '1' ? 'on ' : 'off'}, 1 busy core`, r.tokens_per_s, { threads, spinning: spinning === '1', load: true });
      } finally {
        stop();
      }
    }
  if (o.torch)
    for (const threads of [1, 2]) {
      const stop = busyLoad();
      try {
        record(`torch, ${threads} thread(s), 1 busy core`, torchRun(opts, threads).result?.tokens_per_s, { threads, load: true, torch: true });
      } finally {
        stop();
      }
    }
  console.log(`  -> ${writeResult('threads', { bench: 'threads', date: new Date().toISOString(), cores: availableCores(), rows })}`);
}

// Training runs in child processes, so that each configuration's peak RSS is its own: `npm run bench --
// checkpointing` (the engine GPT-2 with and without gradient checkpointing as the sequence grows) and the scaling
// and thread studies (bench/scaling.ts) use them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeBackend } from '../src/runtime/node.js';
import { TrainStep } from '../src/runtime/step.js';
import { median, peakRssMib, writeResult } from './common.js';
import { engineDefaults, engineStep } from './engine.js';

export interface TrainOneOptions {
  seq: number;
  batch: number;
  hidden: number;
  heads: number;
  steps: number;
  warmup: number;
  checkpointing: boolean;
}

export interface TrainOneRun {
  seq: number;
  batch: number;
  hidden: number;
  gradient_checkpointing: boolean;
  step_time_median_s: number;
  tokens_per_s: number;
  peak_rss_mib: number;
  compile_s: number;
  loss_last: number;
}

/** One configuration of the engine GPT-2, in this process: compile, warm up, time `steps` steps; prints one JSON line. */
export async function runTrainOne(o: TrainOneOptions): Promise<TrainOneRun> {
  const { build, store, opt, batches } = engineStep({ ...engineDefaults, seq: o.seq, batch: o.batch, hidden: o.hidden, heads: o.heads, gradientCheckpointing: o.checkpointing });
  const t0 = performance.now();
  const step = await TrainStep.compile(nodeBackend, build, store, opt);
  const compile = (performance.now() - t0) / 1000;
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const s = performance.now();
    loss = (await step.run([batches[i % batches.length]], 1e-4)).loss;
    if (i >= o.warmup) times.push((performance.now() - s) / 1000);
  }
  const r: TrainOneRun = {
    seq: o.seq, batch: o.batch, hidden: o.hidden, gradient_checkpointing: o.checkpointing, step_time_median_s: median(times),
    tokens_per_s: (o.batch * o.seq) / median(times), peak_rss_mib: peakRssMib(), compile_s: compile, loss_last: loss,
  };
  console.log(JSON.stringify(r));
  return r;
}

/** runTrainOne in a child process (`bench train-one`), with extra environment variables (thread settings). */
export function trainInChild(o: TrainOneOptions, env: Record<string, string> = {}): TrainOneRun {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const args = [main, 'train-one', '--seq', String(o.seq), '--batch', String(o.batch), '--hidden', String(o.hidden), '--heads', String(o.heads),
    '--steps', String(o.steps), '--warmup', String(o.warmup), ...(o.checkpointing ? ['--gradient-checkpointing'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) throw new Error(`bench train-one ${args.slice(2).join(' ')} failed: ${r.stderr.slice(-500)}`);
  return JSON.parse(line) as TrainOneRun;
}

export async function runCheckpointingBench(o: { seqs: number[]; batch: number; steps: number; warmup: number }): Promise<void> {
  const runs: TrainOneRun[] = [];
  console.log(`checkpointing: GPT-2 ${engineDefaults.layers}x${engineDefaults.hidden}, vocab ${engineDefaults.vocab}, batch ${o.batch}; each configuration in its own process`);
  for (const seq of o.seqs)
    for (const checkpointing of [false, true]) {
      const run = trainInChild({ seq, batch: o.batch, hidden: engineDefaults.hidden, heads: engineDefaults.heads, steps: o.steps, warmup: o.warmup, checkpointing });
      runs.push(run);
      console.log(`  seq ${String(seq).padStart(4)} ${checkpointing ? 'checkpointing' : 'plain        '}: ${run.step_time_median_s.toFixed(2)} s/step, ${run.tokens_per_s.toFixed(0)} tokens/s, peak RSS ${run.peak_rss_mib.toFixed(0)} MiB`);
    }
  const pairs = o.seqs.map((seq) => {
    const [plain, ckpt] = [false, true].map((c) => runs.find((r) => r.seq === seq && r.gradient_checkpointing === c)!);
    return { seq, rss_ratio: ckpt.peak_rss_mib / plain.peak_rss_mib, step_time_ratio: ckpt.step_time_median_s / plain.step_time_median_s };
  });
  for (const p of pairs) console.log(`  seq ${p.seq}: checkpointing uses ${p.rss_ratio.toFixed(2)}x the peak RSS at ${p.step_time_ratio.toFixed(2)}x the step time`);
  const file = writeResult('checkpointing', { bench: 'checkpointing', date: new Date().toISOString(), model: { ...engineDefaults, batch: o.batch }, runs, ratios: pairs });
  console.log(`  -> ${file}`);
}

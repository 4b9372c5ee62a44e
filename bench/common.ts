// Shared benchmark plumbing: the PyTorch baseline run beside ours, the matmul peak, result files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as F from '../src/graph/index.js';
import { nodeBackend } from '../src/runtime/node.js';

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

/** Runs the PyTorch baseline with Debian's python3 (which carries torch); undefined with a reason if it cannot. */
export function runTorchBaseline(args: string[]): { result?: TorchResult; skipped?: string } {
  const script = torchBaselinePath();
  if (!script) return { skipped: 'torch_baseline.py not found (no ../shared/bench beside the repository)' };
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `${python} has no torch (apt-get install python3-torch libopenblas0-openmp)` };
  // Some machines set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE to work around old OpenBLAS bugs; they pin the
  // baseline to slower kernels, so the baseline runs without them (both together, this command only).
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(python, [script, ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) return { skipped: `torch_baseline.py failed: ${r.stderr.slice(-500)}` };
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return { skipped: 'torch_baseline.py printed no JSON' };
  return { result: JSON.parse(line) as TorchResult };
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

/** ORT kernel time (ms) of each model run, in order, from the newest profile file with our prefix. */
export function kernelMsPerRun(sinceMs: number): number[] {
  const dir = os.tmpdir();
  const files = readdirSync(dir)
    .filter((f) => f.startsWith('pretrain-ort-profile') && f.endsWith('.json'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= sinceMs)
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs);
  if (!files.length) return [];
  const events = JSON.parse(readFileSync(files[0], 'utf8')) as { cat: string; name: string; ts: number; dur: number }[];
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

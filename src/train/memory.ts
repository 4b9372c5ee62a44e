// A rough estimate of the memory one training step needs, checked before the step is compiled: ONNX Runtime
// otherwise starts allocating and fails deep inside (say, 640 GB for --seq-len 100000) after the tokenizer,
// the shards and the model were built. The estimate counts float32 tensors:
// - parameters, their gradients and AdamW's two moments: 4 copies of every weight;
// - per layer, what the backward pass keeps: the attention scores and probabilities (2 x B x heads x T x T), and
//   about 12 hidden-wide plus 3 MLP-wide tensors per token (norms, q/k/v, projections, residuals, MLP in/out);
// - the logits, their softmax and their gradient (3 x B x T x vocab).
// It errs on the low side (ONNX Runtime's arena and temporaries come on top), so the budget keeps a margin:
// 75% of the machine's memory (os.totalmem()).
import os from 'node:os';

export interface StepShape {
  batchSize: number;
  seqLen: number;
  layers: number;
  hidden: number;
  heads: number;
  /** MLP width (default 4 x hidden). */
  intermediate?: number;
  vocab: number;
  /** Position-table rows (default seqLen). */
  positions?: number;
}

export interface MemoryEstimate {
  /** All of it, in bytes. */
  total: number;
  attention: number;
  activations: number;
  logits: number;
  parameters: number;
}

/** The share of the machine's memory a training step may plan to use. */
export const MEMORY_SHARE = 0.75;

export function estimateTrainingMemory(s: StepShape): MemoryEstimate {
  const B = s.batchSize, T = s.seqLen, H = s.hidden, L = s.layers, V = s.vocab;
  const I = s.intermediate ?? 4 * H;
  const params = 2 * V * H + (s.positions ?? T) * H + L * (4 * H * H + 3 * H * I);
  const attention = 4 * L * 2 * B * s.heads * T * T;
  const activations = 4 * L * B * T * (12 * H + 3 * I);
  const logits = 4 * 3 * B * T * V;
  const parameters = 4 * 4 * params;
  return { total: attention + activations + logits + parameters, attention, activations, logits, parameters };
}

/** "1.2 GB", "640 GB", "5.1 TB" (powers of 1000, as memory is usually quoted on the command line). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

/** The largest value of `x` in [1, hi] for which `fits(x)` (monotone: true up to some point), or 0. */
function largest(hi: number, fits: (x: number) => boolean): number {
  if (!fits(1)) return 0;
  let lo = 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Refuses a training step whose estimated memory exceeds MEMORY_SHARE of `totalMemory` (default: this machine's),
 * with the estimate and the largest --seq-len (at this batch size) and --batch-size (at this seq-len) that fit.
 */
export function checkTrainingMemory(s: StepShape, totalMemory = os.totalmem()): MemoryEstimate {
  const e = estimateTrainingMemory(s);
  const budget = MEMORY_SHARE * totalMemory;
  if (e.total <= budget) return e;
  const fits = (x: StepShape) => estimateTrainingMemory(x).total <= budget;
  const seqLen = largest(s.seqLen, (t) => fits({ ...s, seqLen: t }));
  const batch = largest(s.batchSize, (b) => fits({ ...s, batchSize: b }));
  const parts = [`attention scores ${formatBytes(e.attention)}`, `other activations ${formatBytes(e.activations)}`, `logits ${formatBytes(e.logits)}`, `weights and optimizer ${formatBytes(e.parameters)}`];
  const advice = [
    seqLen > 0 ? `the largest --seq-len that fits at --batch-size ${s.batchSize} is ${seqLen}` : `no --seq-len fits at --batch-size ${s.batchSize}`,
    batch > 0 ? `the largest --batch-size that fits at --seq-len ${s.seqLen} is ${batch} (with --grad-accum to keep the tokens per step)` : `no --batch-size fits at --seq-len ${s.seqLen}`,
  ];
  throw new Error(
    `--seq-len ${s.seqLen} --batch-size ${s.batchSize}: a training step needs about ${formatBytes(e.total)} of memory (${parts.join(', ')}), ` +
      `more than the ${formatBytes(budget)} it may use (${Math.round(100 * MEMORY_SHARE)}% of this machine's ${formatBytes(totalMemory)}); ${advice.join('; ')}`,
  );
}

// Next-token choice from a logits vector, with Hugging Face's semantics and
// order: repetition penalty, then temperature, top-k, top-p. Pure: the random
// source is passed in. No Node imports.
import { mulberry32 } from '../nn/init.js';

export interface SamplingOptions {
  /** false: greedy (argmax) after the repetition penalty. Default true. */
  doSample?: boolean;
  /** Divides the logits; must be > 0 when sampling. Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (ties with the k-th kept, as HF); 0 = off. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability sums to >= topP; 1 = off. */
  topP?: number;
  /** HF/CTRL penalty on tokens already present (> 1 discourages); 1 = off. */
  repetitionPenalty?: number;
}

/** Index of the largest logit; the first one on ties (as torch.argmax). NaN is never chosen. */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > bestV || (best < 0 && v === -Infinity)) {
      best = i;
      bestV = v;
    }
  }
  if (best < 0) throw new Error('argmax: no finite or -Infinity logit (empty or all NaN)');
  return best;
}

/**
 * HF RepetitionPenaltyLogitsProcessor: for each distinct token in `previous`,
 * a positive logit is divided by `penalty` and a negative one multiplied.
 * Returns a new array.
 */
export function applyRepetitionPenalty(logits: Float32Array, previous: Iterable<number>, penalty: number): Float32Array {
  if (!(penalty > 0)) throw new Error(`repetitionPenalty must be > 0, got ${penalty}`);
  const out = new Float32Array(logits);
  if (penalty === 1) return out;
  for (const t of new Set(previous)) {
    if (t < 0 || t >= out.length || !Number.isInteger(t)) continue;
    const v = logits[t]!;
    out[t] = v < 0 ? v * penalty : v / penalty;
  }
  return out;
}

/** HF TopKLogitsWarper: logits below the k-th largest become -Infinity (ties with it are kept). */
export function topKFilter(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits);
  if (k <= 0 || k >= logits.length) return out;
  const sorted = Float32Array.from(logits).sort(); // ascending; NaN last
  let finite = sorted.length;
  while (finite > 0 && Number.isNaN(sorted[finite - 1]!)) finite--;
  const threshold = sorted[Math.max(0, finite - k)]!;
  for (let i = 0; i < out.length; i++) if (!(out[i]! >= threshold)) out[i] = -Infinity;
  return out;
}

/** Softmax in float64 (numerically stable; -Infinity gets probability 0). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(logits.length);
  if (max === -Infinity) throw new Error('softmax: every logit is -Infinity');
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/**
 * HF TopPLogitsWarper: keeps the smallest set of most likely tokens whose
 * cumulative probability reaches `p` (always at least one); the others become -Infinity.
 */
export function topPFilter(logits: Float32Array, p: number): Float32Array {
  const out = new Float32Array(logits);
  if (p >= 1) return out;
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  let cum = 0;
  let kept = 0;
  for (const i of order) {
    // A token is kept while the mass strictly above it is still below p.
    if (kept > 0 && cum >= p) out[i] = -Infinity;
    else kept++;
    cum += probs[i]!;
  }
  return out;
}

/** Draws an index with probability proportional to `probs` (which sum to 1). */
export function sampleIndex(probs: ArrayLike<number>, rng: () => number): number {
  const u = rng();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    cum += probs[i]!;
    last = i;
    if (u < cum) return i;
  }
  // Rounding can leave the total a hair below u: take the last possible token.
  if (last < 0) throw new Error('sampleIndex: no token has a positive probability');
  return last;
}

/** The filtered, temperature-scaled logits that sampling draws from (HF processor order). */
export function processLogits(logits: Float32Array, opts: SamplingOptions, previous: Iterable<number> = []): Float32Array {
  let x = applyRepetitionPenalty(logits, previous, opts.repetitionPenalty ?? 1);
  if (opts.doSample === false) return x;
  const t = opts.temperature ?? 1;
  if (!(t > 0)) throw new Error(`temperature must be > 0 when sampling, got ${t} (use doSample: false for greedy)`);
  if (t !== 1) for (let i = 0; i < x.length; i++) x[i]! /= t;
  if (opts.topK !== undefined && opts.topK > 0) x = topKFilter(x, opts.topK);
  if (opts.topP !== undefined) {
    if (!(opts.topP > 0 && opts.topP <= 1)) throw new Error(`topP must be in (0, 1], got ${opts.topP}`);
    x = topPFilter(x, opts.topP);
  }
  return x;
}

/**
 * Chooses the next token. `previous` holds the tokens so far (prompt included,
 * as HF's input_ids) for the repetition penalty; `rng` returns numbers in [0, 1).
 */
export function sampleNextToken(logits: Float32Array, opts: SamplingOptions, rng: () => number, previous: Iterable<number> = []): number {
  const x = processLogits(logits, opts, previous);
  if (opts.doSample === false) return argmax(x);
  return sampleIndex(softmax(x), rng);
}

/** A small seeded generator (mulberry32, shared with weight initialisation) for reproducible sampling; returns [0, 1). */
export const seededRandom: (seed: number) => () => number = mulberry32;

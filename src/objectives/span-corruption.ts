// T5 span corruption, docs/objectives.md section 5. Pure: no I/O, no model code.
//
// For a chunk of L tokens, T5's random_spans_noise_mask: N = clamp(round_half_even(L d), 1, L - 1) noise tokens
// in S = max(round_half_even(N / mu), 1) spans; N and L - N are each split into S positive parts uniformly at random
// (a random composition: S - 1 cut points among the N - 1 gaps), and the parts are interleaved
// [non-noise_0, noise_0, ..., non-noise_{S-1}, noise_{S-1}]: the first token is never noise, the last always is.
// Inputs: each noise span replaced by one sentinel, the k-th by <extra_id_k> (tok.sentinelIds[k]); targets: each
// non-noise span replaced by its sentinel, `<extra_id_0> span_0 <extra_id_1> span_1 ...`; EOS appended to both.
//
// Chunks: documents concatenated with EOS after each (Hugging Face's run_t5_mlm_flax), cut into chunks of T raw
// tokens, where T = computeInputAndTargetLengths(seqLen) is the largest length whose corrupted inputs fit seqLen:
// every chunk then gives exactly seqLen input tokens (512 -> T 568, targets 114) and the targets length follows.
// Graph inputs: input_ids, attention_mask [B, seqLen]; decoder_input_ids, labels [B, targets] (see chunks.ts).
import { roundHalfEven, type Rng } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { Batch } from '../runtime/step.js';
import { chunkEvalBatches, chunkStream, padOf, requireEos, seq2seqBatch, type ChunkParts, type Seq2SeqExample } from './chunks.js';
import { registerObjective, type BatchStream, type InputSpec, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

/** Noise tokens and noise spans of a chunk of `length` tokens (deterministic: only their placement is random). */
export function noiseCounts(length: number, noiseDensity: number, meanSpan: number): { noiseTokens: number; noiseSpans: number } {
  // T5 pads a length below 2 up to 2 (and cuts the mask back): one token is then never noise.
  const L = Math.max(length, 2);
  const noiseTokens = Math.min(Math.max(roundHalfEven(L * noiseDensity), 1), L - 1);
  // S <= L - N keeps every non-noise part positive; it binds only for densities above 1/2 with short spans, where
  // T5's composition of L - N into S parts has no solution.
  const noiseSpans = Math.min(Math.max(roundHalfEven(noiseTokens / meanSpan), 1), L - noiseTokens);
  return { noiseTokens, noiseSpans };
}

/** Lengths of a corrupted chunk of `length` raw tokens: inputs and targets, each with its EOS. */
export function corruptedLengths(length: number, noiseDensity: number, meanSpan: number): { inputs: number; targets: number } {
  const { noiseTokens: n, noiseSpans: s } = noiseCounts(length, noiseDensity, meanSpan);
  return { inputs: length - n + s + 1, targets: n + s + 1 };
}

/**
 * Hugging Face's compute_input_and_target_lengths: the raw chunk length T whose corrupted inputs fit `inputsLength`
 * (the largest such T), and the targets length of such a chunk. With d = 0.5 and targets longer than the inputs,
 * T is lowered by one so that targets equal inputs (HF's "minor hack"). The counts are those of
 * randomSpansNoiseMask (with its clamps to N >= 1, S >= 1), so the lengths are the ones the data will have; for
 * lengths where the clamps do not bind this is HF's function exactly.
 */
export function computeInputAndTargetLengths(
  inputsLength: number,
  noiseDensity: number,
  meanSpan: number,
): { tokensLength: number; inputsLength: number; targetsLength: number } {
  if (!Number.isInteger(inputsLength) || inputsLength < 3) throw new Error(`span-corruption: the input length must be an integer >= 3, got ${inputsLength}`);
  checkNoise(noiseDensity, meanSpan);
  const inputsOf = (t: number) => corruptedLengths(t, noiseDensity, meanSpan).inputs;
  let t = inputsLength;
  while (t > 2 && inputsOf(t) > inputsLength) t--;
  const cap = 1000 * inputsLength;
  while (t < cap && inputsOf(t + 1) <= inputsLength) t++;
  if (noiseDensity === 0.5 && corruptedLengths(t, noiseDensity, meanSpan).targets > inputsLength) t--;
  const l = corruptedLengths(t, noiseDensity, meanSpan);
  return { tokensLength: t, inputsLength: l.inputs, targetsLength: l.targets };
}

function checkNoise(noiseDensity: number, meanSpan: number): void {
  if (!(noiseDensity > 0 && noiseDensity < 1)) throw new Error(`span-corruption: noise density must be in (0, 1), got ${noiseDensity}`);
  if (!(meanSpan >= 1)) throw new Error(`span-corruption: mean noise span length must be >= 1, got ${meanSpan}`);
}

/** `n` split into `parts` positive integers uniformly at random (parts - 1 distinct cut points among n - 1 gaps). */
export function randomComposition(n: number, parts: number, rng: Rng): number[] {
  if (!(parts >= 1 && parts <= n)) throw new Error(`randomComposition: cannot split ${n} into ${parts} positive parts`);
  const cuts = rng.sampleIndices(n - 1, parts - 1).map((c) => c + 1).sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const c of [...cuts, n]) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/** T5's random_spans_noise_mask: 1 = noise. The first token is never noise and the last always is (length >= 2). */
export function randomSpansNoiseMask(length: number, noiseDensity: number, meanSpan: number, rng: Rng): Uint8Array {
  checkNoise(noiseDensity, meanSpan);
  if (!Number.isInteger(length) || length < 1) throw new Error(`randomSpansNoiseMask: length must be a positive integer, got ${length}`);
  const L = Math.max(length, 2);
  const { noiseTokens, noiseSpans } = noiseCounts(L, noiseDensity, meanSpan);
  const noise = randomComposition(noiseTokens, noiseSpans, rng);
  const kept = randomComposition(L - noiseTokens, noiseSpans, rng);
  const mask = new Uint8Array(L);
  let p = 0;
  for (let s = 0; s < noiseSpans; s++) {
    p += kept[s]!;
    mask.fill(1, p, p + noise[s]!);
    p += noise[s]!;
  }
  return mask.subarray(0, length);
}

/**
 * Inputs and targets of a corrupted sequence (T5's noise_span_to_unique_sentinel on the mask and on its
 * complement): noise span k becomes sentinels[k] in the inputs; in the targets each non-noise span k becomes
 * sentinels[k]. EOS is appended to both.
 */
export function spanCorrupt(tokens: ArrayLike<number>, mask: ArrayLike<number>, sentinels: readonly number[], eos: number): { inputs: number[]; targets: number[] } {
  if (mask.length !== tokens.length) throw new Error(`spanCorrupt: ${tokens.length} tokens but a mask of ${mask.length}`);
  const sentinelOf = (k: number): number => {
    const s = sentinels[k];
    if (s === undefined) throw new Error(`span-corruption: span ${k + 1} needs <extra_id_${k}>, but the tokenizer has ${sentinels.length} sentinels (a T5 unigram tokenizer has 100; lower --seq-len or --noise-density)`);
    return s;
  };
  const inputs: number[] = [];
  const targets: number[] = [];
  let inNoise = 0;
  let inKept = 0;
  for (let i = 0; i < tokens.length; i++) {
    const noise = mask[i]! !== 0;
    const first = i === 0 || (mask[i - 1]! !== 0) !== noise;
    if (noise) {
      if (first) inputs.push(sentinelOf(inNoise++));
      targets.push(tokens[i]!);
    } else {
      if (first) targets.push(sentinelOf(inKept++));
      inputs.push(tokens[i]!);
    }
  }
  inputs.push(eos);
  targets.push(eos);
  return { inputs, targets };
}

/**
 * The original tokens of a corrupted pair: each sentinel of the inputs replaced by its span from the targets.
 * Both end in EOS (dropped); an EOS inside is a document boundary of the chunk and is kept. Trailing padding
 * (`pad`, or -100 in labels) after the final EOS is ignored.
 */
export function uncorrupt(inputs: ArrayLike<number>, targets: ArrayLike<number>, sentinels: readonly number[], eos: number): number[] {
  const body = (a: ArrayLike<number>): number[] => {
    const all = Array.from(a);
    const last = all.lastIndexOf(eos);
    return last < 0 ? all : all.slice(0, last);
  };
  const index = new Map(sentinels.map((s, k) => [s, k]));
  const spans = new Map<number, number[]>();
  let cur: number[] | undefined;
  for (const t of body(targets)) {
    const k = index.get(t);
    if (k !== undefined) spans.set(k, (cur = []));
    else cur?.push(t);
  }
  const out: number[] = [];
  for (const t of body(inputs)) {
    const k = index.get(t);
    if (k !== undefined) out.push(...(spans.get(k) ?? []));
    else out.push(t);
  }
  return out;
}

function spanCorruptionParts(tok: ObjectiveTokenizer, o: ObjectiveOptions): ChunkParts<Seq2SeqExample> & { targetsLength: number } {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`objective span-corruption: batchSize must be an integer >= 1, got ${o.batchSize}`);
  const { tokensLength, targetsLength } = computeInputAndTargetLengths(o.seqLen, o.noiseDensity, o.meanNoiseSpanLength);
  const eos = requireEos(tok, 'span-corruption');
  const spans = noiseCounts(tokensLength, o.noiseDensity, o.meanNoiseSpanLength).noiseSpans;
  if (spans > tok.sentinelIds.length)
    throw new Error(`objective span-corruption: ${spans} noise spans per sequence need as many sentinels <extra_id_N>, but the tokenizer has ${tok.sentinelIds.length} (train a unigram tokenizer, which adds 100, or lower --seq-len or --noise-density)`);
  const sentinels = tok.sentinelIds;
  return {
    name: 'span-corruption',
    chunkLength: tokensLength,
    eos,
    targetsLength,
    transform: (chunk, rng) => spanCorrupt(chunk, randomSpansNoiseMask(chunk.length, o.noiseDensity, o.meanNoiseSpanLength, rng), sentinels, eos),
    collate: (rows) => seq2seqBatch(rows, o.seqLen, targetsLength, padOf(tok)),
  };
}

export function spanCorruptionInputs(o: ObjectiveOptions): InputSpec[] {
  const { targetsLength } = computeInputAndTargetLengths(o.seqLen, o.noiseDensity, o.meanNoiseSpanLength);
  const enc = [o.batchSize, o.seqLen];
  const dec = [o.batchSize, targetsLength];
  return [
    { name: 'input_ids', dtype: 'int64', shape: enc },
    { name: 'attention_mask', dtype: 'int64', shape: enc },
    { name: 'decoder_input_ids', dtype: 'int64', shape: dec },
    { name: 'labels', dtype: 'int64', shape: dec },
  ];
}

/** Training batches of span-corrupted chunks (see the file comment). */
export function spanCorruptionStream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream {
  return chunkStream(docs, o, spanCorruptionParts(tok, o));
}

export function spanCorruptionEvalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[] {
  return chunkEvalBatches(docs, o, maxBatches, spanCorruptionParts(tok, o));
}

registerObjective({
  name: 'span-corruption',
  description: 'T5 span corruption: noise spans replaced by sentinels in the input, the decoder predicts them (encoder-decoders)',
  heads: ['seq2seq'],
  inputs: spanCorruptionInputs,
  stream: spanCorruptionStream,
  evalBatches: spanCorruptionEvalBatches,
});

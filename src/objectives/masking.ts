// Masked-LM masking shared by the encoder objectives (docs/objectives.md sections 1 and 4). Pure: token ids + a
// seeded Rng + options in, masked ids + labels out; no I/O, no model code.
//
// - Candidates: every position that is neither padding nor one of the tokenizer's special ids (HF's collator
//   excludes the whole special set, so [UNK] too).
// - Selection, three rules (default bernoulli): HF's per-candidate Bernoulli(p); Google's fixed budget
//   min(maxPredictions, max(1, roundHalfEven(p * len))) over shuffled groups, skipping a group that would overflow;
//   fairseq's floor(p * n + U[0,1)) groups uniformly without replacement.
// - Whole-word masking: a group is a word: a token whose id has wordStarts = 1, or the first token of a sentence (or
//   of a sentence piece), begins a new word; the pieces after it follow until the next start. Special tokens are
//   never candidates, so they form no group and a word never spans one.
// - Replacement of each chosen token: 80% [MASK], 10% a random token, 10% unchanged (per token, as Google does in
//   whole-word mode too). Random tokens are drawn uniformly from the vocabulary EXCLUDING the special ids: HF and
//   Google draw over the whole vocabulary (so a random [CLS] or [PAD] can appear mid-sequence), fairseq excludes its
//   leading special symbols; we exclude every special id so a "random" token is always an ordinary one.
// - Labels: the original id at chosen positions, -100 elsewhere.
// - SpanBERT span masking: spanMask below (budget ceil(p n), geometric span lengths in words, per-span 80/10/10).
import { Rng, roundHalfEven } from '../data/rng.js';
import type { ObjectiveTokenizer } from './objective.js';

/** The label of a position that is not predicted (PyTorch's CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/** What happened to a position: not chosen, replaced by [MASK], by a random token, or kept but predicted. */
export const MaskKind = { None: 0, Mask: 1, Random: 2, Keep: 3 } as const;
export type MaskKind = (typeof MaskKind)[keyof typeof MaskKind];

export type SelectionRule = 'bernoulli' | 'fixed' | 'fairseq';

export interface MaskingOptions {
  /** Share of candidates (tokens, or words with wholeWord) chosen: 0.15. */
  maskProb: number;
  selection: SelectionRule;
  /** Cap of the fixed rule (Google's max_predictions_per_seq, 20). */
  maxPredictions: number;
  wholeWord: boolean;
}

/** The tokenizer facts masking needs, precomputed once per stream. */
export interface MaskVocab {
  maskId: number;
  padId: number;
  /** isSpecial[id] = 1 for every special id (never a candidate, never a random replacement). */
  isSpecial: Uint8Array;
  /** Ordinary ids a random replacement is drawn from, uniformly. */
  randomIds: Int32Array;
  /** wordStarts[id] (1 = begins a word); ids past its end count as word starts. */
  wordStarts: Uint8Array;
}

/** The special ids an encoder objective lays sequences out with. */
export interface EncoderSpecials {
  /** [CLS] (or BOS): the first token of every row. */
  start: number;
  /** [SEP] (or EOS): ends each segment and separates documents in full-sentences packing. */
  sep: number;
  pad: number;
  mask: number;
}

/** Start, separator, pad and mask ids, or a clear error naming the special token the tokenizer lacks. */
export function encoderSpecials(tok: ObjectiveTokenizer, objective: string): EncoderSpecials {
  const s = tok.specialIds;
  const need = (v: number | undefined, what: string): number => {
    if (v === undefined) throw new Error(`objective ${objective}: the tokenizer has no ${what} token`);
    return v;
  };
  return {
    start: need(s.cls ?? s.bos, 'start ([CLS] or <s>/bos)'),
    sep: need(s.sep ?? s.eos, 'separator ([SEP] or </s>/eos)'),
    pad: need(s.pad, 'padding ([PAD]/<pad>)'),
    mask: need(s.mask, 'mask ([MASK]/<mask>)'),
  };
}

/** Precompute the masking tables of a tokenizer. */
export function maskVocab(tok: ObjectiveTokenizer, specials: EncoderSpecials): MaskVocab {
  const V = tok.vocabSize;
  const isSpecial = new Uint8Array(Math.max(V, specials.start + 1, specials.sep + 1, specials.pad + 1, specials.mask + 1));
  for (const id of tok.allSpecialIds) if (id >= 0 && id < isSpecial.length) isSpecial[id] = 1;
  for (const id of [specials.start, specials.sep, specials.pad, specials.mask]) isSpecial[id] = 1;
  const pool: number[] = [];
  for (let id = 0; id < V; id++) if (!isSpecial[id]) pool.push(id);
  if (pool.length === 0) throw new Error('masking: the vocabulary has no ordinary (non-special) token to draw random replacements from');
  return { maskId: specials.mask, padId: specials.pad, isSpecial, randomIds: Int32Array.from(pool), wordStarts: tok.wordStarts };
}

function isCandidate(v: MaskVocab, ids: ArrayLike<number>, i: number, length: number): boolean {
  if (i < 0 || i >= length) return false;
  const id = ids[i]!;
  return id !== v.padId && !(id < v.isSpecial.length && v.isSpecial[id] === 1);
}

/** Positions in [0, length) that may be masked: not padding, not a special id. */
export function candidatePositions(ids: ArrayLike<number>, v: MaskVocab, length = ids.length): number[] {
  const out: number[] = [];
  for (let i = 0; i < length; i++) if (isCandidate(v, ids, i, length)) out.push(i);
  return out;
}

/** True when position i begins a word: its id is a word start, it begins a sentence, or it follows a non-candidate. */
function startsWord(v: MaskVocab, ids: ArrayLike<number>, i: number, length: number, sentenceStarts?: ArrayLike<number>): boolean {
  if (sentenceStarts && sentenceStarts[i]) return true;
  if (!isCandidate(v, ids, i - 1, length)) return true;
  const id = ids[i]!;
  return id >= v.wordStarts.length || v.wordStarts[id] === 1;
}

/**
 * Candidate groups in order: one per candidate token, or with `wholeWord` one per word (its consecutive positions).
 * `sentenceStarts[i]` = 1 marks the first token of a sentence, which always begins a word.
 */
export function maskGroups(
  ids: ArrayLike<number>,
  v: MaskVocab,
  wholeWord: boolean,
  length = ids.length,
  sentenceStarts?: ArrayLike<number>,
): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < length; i++) {
    if (!isCandidate(v, ids, i, length)) continue;
    if (!wholeWord || startsWord(v, ids, i, length, sentenceStarts) || groups.length === 0) groups.push([i]);
    else groups[groups.length - 1]!.push(i);
  }
  return groups;
}

/** Google's budget: min(maxPredictions, max(1, roundHalfEven(p * seqTokens))), seqTokens counting [CLS] and [SEP]s. */
export function fixedBudget(seqTokens: number, maskProb: number, maxPredictions: number): number {
  return Math.min(maxPredictions, Math.max(1, roundHalfEven(seqTokens * maskProb)));
}

/**
 * Choose groups by one of the three rules; returns the chosen groups (in the order they were drawn).
 * `seqTokens` is the non-padding length of the sequence (the fixed rule's len(tokens)).
 */
export function selectGroups(groups: readonly number[][], rng: Rng, o: MaskingOptions, seqTokens: number): number[][] {
  const n = groups.length;
  if (n === 0) return [];
  switch (o.selection) {
    case 'bernoulli':
      return groups.filter(() => rng.random() < o.maskProb);
    case 'fixed': {
      const budget = fixedBudget(seqTokens, o.maskProb, o.maxPredictions);
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      const out: number[][] = [];
      let count = 0;
      for (const g of order) {
        if (count >= budget) break;
        const grp = groups[g]!;
        if (count + grp.length > budget) continue; // skip, do not stop (create_masked_lm_predictions)
        out.push(grp);
        count += grp.length;
      }
      return out;
    }
    case 'fairseq': {
      const num = Math.min(n, Math.floor(o.maskProb * n + rng.random()));
      return rng.sampleIndices(n, num).map((i) => groups[i]!);
    }
    default:
      throw new Error(`masking: unknown selection rule ${String(o.selection)} (expected bernoulli, fixed or fairseq)`);
  }
}

/** A uniformly drawn ordinary (non-special) token id. */
export function randomToken(v: MaskVocab, rng: Rng): number {
  return v.randomIds[rng.int(v.randomIds.length)]!;
}

export interface MaskedSequence {
  /** The ids after replacement. */
  inputIds: Int32Array;
  /** Original ids at predicted positions, -100 elsewhere. */
  labels: Int32Array;
  /** MaskKind per position. */
  kinds: Uint8Array;
}

/** 80% [MASK], 10% random, 10% kept, decided per token at the given positions. */
export function replaceTokens(ids: ArrayLike<number>, positions: Iterable<number>, v: MaskVocab, rng: Rng): MaskedSequence {
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  const kinds = new Uint8Array(ids.length);
  for (const i of positions) {
    labels[i] = ids[i]!;
    if (rng.random() < 0.8) {
      inputIds[i] = v.maskId;
      kinds[i] = MaskKind.Mask;
    } else if (rng.random() < 0.5) {
      kinds[i] = MaskKind.Keep;
    } else {
      inputIds[i] = randomToken(v, rng);
      kinds[i] = MaskKind.Random;
    }
  }
  return { inputIds, labels, kinds };
}

/**
 * BERT/RoBERTa masking of one sequence: candidates (whole words with o.wholeWord), the selection rule, 80/10/10.
 * `length` is the non-padding length (positions from it on are padding); `sentenceStarts` marks sentence starts.
 */
export function maskSequence(
  ids: ArrayLike<number>,
  v: MaskVocab,
  rng: Rng,
  o: MaskingOptions,
  length = ids.length,
  sentenceStarts?: ArrayLike<number>,
): MaskedSequence {
  const groups = maskGroups(ids, v, o.wholeWord, length, sentenceStarts);
  const chosen = selectGroups(groups, rng, o, length);
  const positions = chosen.flat().sort((a, b) => a - b);
  return replaceTokens(ids, positions, v, rng);
}

// ---------------------------------------------------------------------------------------------------------------
// SpanBERT span masking (docs/objectives.md section 4; SpanBERT pretraining/fairseq/data/masking.py).

/** P(len = k) for k = 1..maxWords: Geometric(p) clipped to [1, maxWords] and renormalised. */
export function spanLengthDistribution(p: number, maxWords: number): number[] {
  if (!(p > 0 && p <= 1)) throw new Error(`span masking: geometric p must be in (0, 1], got ${p}`);
  if (!(Number.isInteger(maxWords) && maxWords >= 1)) throw new Error(`span masking: max span length must be an integer >= 1, got ${maxWords}`);
  // Repeated products rather than Math.pow, whose last bit differs between JavaScript engines (Node, browsers).
  const w: number[] = [];
  for (let k = 0, v = p; k < maxWords; k++, v *= 1 - p) w.push(v);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

function sampleLength(cdf: readonly number[], rng: Rng): number {
  const u = rng.random();
  for (let k = 0; k < cdf.length; k++) if (u < cdf[k]!) return k + 1;
  return cdf.length;
}

export interface SpanMaskingOptions {
  maskProb: number;
  spanP: number;
  spanMaxWords: number;
}

/** One masked span after merging: positions [start, end] inclusive, replaced as a whole. */
export interface MaskedSpan {
  start: number;
  end: number;
  kind: MaskKind;
}

export interface SpanMaskedSequence extends MaskedSequence {
  /** Merged spans in position order, each with its replacement decision. */
  spans: MaskedSpan[];
  /** Each span as drawn (before merging): [start, end] and its length in words. */
  rawSpans: Array<{ start: number; end: number; words: number }>;
  /** The budget ceil(maskProb * candidates). */
  budget: number;
}

/**
 * SpanBERT span masking of one sequence. Budget = ceil(maskProb * n) over the n candidate tokens. Repeat until the
 * budget is reached: draw a length in words, a uniform candidate anchor (redrawn if already masked), extend left to
 * the anchor's word start and right over whole words until the span has that many words, stopping at the budget or
 * at a non-candidate (special token, padding). Spans never cut a word: the word that reaches the budget is completed,
 * so with multi-token words the count can pass the budget by less than one word (SpanBERT stops mid-word; with
 * one-token words both agree exactly). Overlapping or touching spans are merged; each merged span is then all
 * [MASK] (80%), all random tokens (10%) or unchanged (10%).
 */
export function spanMask(
  ids: ArrayLike<number>,
  v: MaskVocab,
  rng: Rng,
  o: SpanMaskingOptions,
  length = ids.length,
  sentenceStarts?: ArrayLike<number>,
  cdf: readonly number[] = cumulative(spanLengthDistribution(o.spanP, o.spanMaxWords)),
): SpanMaskedSequence {
  const cand = candidatePositions(ids, v, length);
  const n = cand.length;
  const budget = Math.ceil(o.maskProb * n);
  const masked = new Uint8Array(ids.length);
  const rawSpans: Array<{ start: number; end: number; words: number }> = [];
  const wordStart = (i: number): boolean => startsWord(v, ids, i, length, sentenceStarts);
  let count = 0;
  while (count < budget) {
    const want = sampleLength(cdf, rng);
    const anchor = cand[rng.int(n)]!;
    if (masked[anchor]) continue;
    let s = anchor;
    while (!wordStart(s)) s--;
    let p = s;
    let words = 0;
    let end = s;
    while (words < want && count < budget && isCandidate(v, ids, p, length)) {
      // One whole word: p, then the pieces that do not start a word.
      let q = p;
      do {
        if (!masked[q]) {
          masked[q] = 1;
          count++;
        }
        q++;
      } while (isCandidate(v, ids, q, length) && !wordStart(q));
      end = q - 1;
      p = q;
      words++;
    }
    rawSpans.push({ start: s, end, words });
  }
  // Merge (SpanBERT's merge_intervals: overlapping or touching spans become one).
  const sorted = rawSpans.map((r) => [r.start, r.end] as [number, number]).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const iv of sorted) {
    const last = merged[merged.length - 1];
    if (!last || last[1] + 1 < iv[0]) merged.push([iv[0], iv[1]]);
    else last[1] = Math.max(last[1], iv[1]);
  }
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  const kinds = new Uint8Array(ids.length);
  const spans: MaskedSpan[] = [];
  for (const [s, e] of merged) {
    const r = rng.random();
    const kind: MaskKind = r < 0.8 ? MaskKind.Mask : r < 0.9 ? MaskKind.Random : MaskKind.Keep;
    for (let i = s; i <= e; i++) {
      labels[i] = ids[i]!;
      kinds[i] = kind;
      if (kind === MaskKind.Mask) inputIds[i] = v.maskId;
      else if (kind === MaskKind.Random) inputIds[i] = randomToken(v, rng);
    }
    spans.push({ start: s, end: e, kind });
  }
  return { inputIds, labels, kinds, spans, rawSpans, budget };
}

/** Running sums of a distribution (the last forced to 1). */
export function cumulative(p: readonly number[]): number[] {
  let s = 0;
  const c = p.map((x) => (s += x));
  c[c.length - 1] = 1;
  return c;
}

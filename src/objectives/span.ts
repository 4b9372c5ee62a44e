// SpanBERT: span masking + the span boundary objective (SBO), docs/objectives.md section 4. Pure: no I/O, no model
// code. Single segments laid out and packed as mlm does (`[CLS] tokens... [SEP]`, o.packing, static or dynamic
// masking); masking is spanMask (masking.ts): budget ceil(maskProb * n) tokens in whole-word spans of
// Geometric(spanP) words clipped at spanMaxWords, merged, 80/10/10 decided per span.
//
// SBO inputs, int64 [B, P] with P = ceil(maskProb * seqLen), one slot per target token:
//  - sbo_left: position of the token just before the span, sbo_right: just after;
//  - sbo_position: the target's offset inside its span (only the first MAX_PAIR_TARGETS = 15 tokens of a span are
//    targets, SpanBERT's max_pair_targets);
//  - sbo_labels: the original token id; -100 in unused slots (whose other fields are 0).
// Only spans whose two neighbours are inside the row and not padding give targets ([CLS] and [SEP] count as
// neighbours: they are inside the row). Targets beyond P slots in a row are dropped (possible only when whole-word
// completion takes the masked count past the budget).
import type { Rng } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { Batch } from '../runtime/step.js';
import { cumulative, encoderSpecials, maskVocab, spanLengthDistribution, spanMask, type MaskVocab, type SpanMaskedSequence } from './masking.js';
import { checkEncoderOptions, collateMasked, int64Tensor, rowEvalBatches, rowStream, type PackedRow, type RowMasker, type RowStreamParts } from './mlm.js';
import { registerObjective, type BatchStream, type InputSpec, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

/** SpanBERT's max_pair_targets: SBO targets per span. */
export const MAX_PAIR_TARGETS = 15;

/** One SBO target: predict the token at `left + 1 + position` from the boundary tokens `left` and `right`. */
export interface SboTarget {
  left: number;
  right: number;
  position: number;
  label: number;
}

/** A span-masked row with its SBO targets. */
export interface SpanMaskedRow extends SpanMaskedSequence {
  row: PackedRow;
  sbo: SboTarget[];
}

/** SBO slots per row: ceil(maskProb * seqLen). */
export function sboSlots(o: Pick<ObjectiveOptions, 'maskProb' | 'seqLen'>): number {
  return Math.ceil(o.maskProb * o.seqLen);
}

/** SBO targets of the merged spans of a sequence whose first `length` positions are real tokens. */
export function sboTargets(original: ArrayLike<number>, spans: SpanMaskedSequence['spans'], length: number, slots: number): SboTarget[] {
  const out: SboTarget[] = [];
  for (const s of spans) {
    const left = s.start - 1;
    const right = s.end + 1;
    if (left < 0 || right >= length) continue;
    for (let i = s.start; i <= Math.min(s.end, s.start + MAX_PAIR_TARGETS - 1); i++) {
      if (out.length >= slots) return out;
      out.push({ left, right, position: i - s.start, label: original[i]! });
    }
  }
  return out;
}

/** The span masker of packed rows. */
export function spanMasker(v: MaskVocab, o: ObjectiveOptions): RowMasker<SpanMaskedRow> {
  const cdf = cumulative(spanLengthDistribution(o.spanP, o.spanMaxWords));
  const so = { maskProb: o.maskProb, spanP: o.spanP, spanMaxWords: o.spanMaxWords };
  const slots = sboSlots(o);
  return (row: PackedRow, rng: Rng) => {
    const m = spanMask(row.tokens, v, rng, so, row.tokens.length, row.sentenceStarts, cdf);
    return { row, ...m, sbo: sboTargets(row.tokens, m.spans, row.tokens.length, slots) };
  };
}

/** mlm's tensors plus sbo_left, sbo_right, sbo_position, sbo_labels (int64 [B, P]). */
export function collateSpans(rows: readonly SpanMaskedRow[], seqLen: number, pad: number, slots: number): Batch {
  const B = rows.length;
  const left = new Array<number>(B * slots).fill(0);
  const right = new Array<number>(B * slots).fill(0);
  const pos = new Array<number>(B * slots).fill(0);
  const lab = new Array<number>(B * slots).fill(-100);
  rows.forEach((r, b) =>
    r.sbo.slice(0, slots).forEach((t, k) => {
      left[b * slots + k] = t.left;
      right[b * slots + k] = t.right;
      pos[b * slots + k] = t.position;
      lab[b * slots + k] = t.label;
    }),
  );
  const shape = [B, slots];
  return {
    ...collateMasked(rows, seqLen, pad),
    sbo_left: int64Tensor(shape, left),
    sbo_right: int64Tensor(shape, right),
    sbo_position: int64Tensor(shape, pos),
    sbo_labels: int64Tensor(shape, lab),
  };
}

function spanParts(tok: ObjectiveTokenizer, o: ObjectiveOptions): RowStreamParts<SpanMaskedRow> {
  checkEncoderOptions('span', o, 3);
  // Validates spanP and spanMaxWords with clear messages.
  spanLengthDistribution(o.spanP, o.spanMaxWords);
  const sp = encoderSpecials(tok, 'span');
  const v = maskVocab(tok, sp);
  const slots = sboSlots(o);
  return { name: 'span', mask: spanMasker(v, o), collate: (rows) => collateSpans(rows, o.seqLen, sp.pad, slots) };
}

export function spanInputs(o: ObjectiveOptions): InputSpec[] {
  const shape = [o.batchSize, o.seqLen];
  const sbo = [o.batchSize, sboSlots(o)];
  return [
    ...['input_ids', 'attention_mask', 'labels'].map((name) => ({ name, dtype: 'int64' as const, shape })),
    ...['sbo_left', 'sbo_right', 'sbo_position', 'sbo_labels'].map((name) => ({ name, dtype: 'int64' as const, shape: sbo })),
  ];
}

/** Training batches for SpanBERT (span masking + SBO); packing and masking modes as mlm. */
export function spanStream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream {
  return rowStream(docs, tok, o, spanParts(tok, o));
}

export function spanEvalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[] {
  return rowEvalBatches(docs, tok, o, maxBatches, spanParts(tok, o));
}

registerObjective({
  name: 'span',
  description: 'SpanBERT span masking (geometric whole-word spans, per-span 80/10/10) + span boundary objective',
  heads: ['mlm', 'sbo'],
  inputs: spanInputs,
  stream: spanStream,
  evalBatches: spanEvalBatches,
});

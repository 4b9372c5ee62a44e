// Masked language modelling (BERT / RoBERTa), docs/objectives.md sections 1 and 3. Pure: no I/O, no model code.
//
// Rows are `[CLS] tokens... [SEP]`, right-padded to exactly seqLen (attention_mask 0, labels -100 on padding).
// Packing (o.packing):
//  - 'full-sentences' (RoBERTa's default): whole sentences are packed up to the row's capacity (seqLen - 2),
//    continuing into the next document with a separator token between the two documents;
//  - 'doc-sentences': the same, but a row never crosses a document: the rest of the row is padding.
// A sentence longer than the capacity is cut into capacity-sized pieces, each packed like a sentence.
// Documents are visited in a seeded order that changes every epoch; a partial row is flushed at the end of an epoch.
//
// Masking (o.masking):
//  - 'dynamic' (RoBERTa): a fresh mask every time a row is served, from the stream's Rng (saved in state());
//  - 'static' (BERT's dupe_factor): the data of epoch e (document order, hence the rows, and the mask of row i) is a
//    deterministic function of (seed, e % dupeFactor, i): the same as masking dupeFactor copies of the data once
//    when it is built, then cycling over them.
import { Rng, type RngState } from '../data/rng.js';
import type { DocumentSource, TokenDocument } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import type { HostTensor } from '../runtime/backend.js';
import type { Batch } from '../runtime/step.js';
import {
  encoderSpecials,
  maskSequence,
  maskVocab,
  type EncoderSpecials,
  type MaskVocab,
  type MaskedSequence,
} from './masking.js';
import { registerObjective, type BatchStream, type InputSpec, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

// ---------------------------------------------------------------------------------------------------------------
// Small shared helpers (also used by nsp.ts and span.ts).

/** An int64 tensor from numbers. */
export function int64Tensor(shape: number[], values: ArrayLike<number>): HostTensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return { dtype: 'int64', shape, data };
}

/** Throws unless the options an encoder objective reads are usable. */
export function checkEncoderOptions(name: string, o: ObjectiveOptions, minSeqLen: number): void {
  const bad = (what: string): never => {
    throw new Error(`objective ${name}: ${what}`);
  };
  if (!Number.isInteger(o.seqLen) || o.seqLen < minSeqLen) bad(`seqLen must be an integer >= ${minSeqLen}, got ${o.seqLen}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) bad(`batchSize must be an integer >= 1, got ${o.batchSize}`);
  if (!(o.maskProb >= 0 && o.maskProb <= 1)) bad(`maskProb must be in [0, 1], got ${o.maskProb}`);
  if (o.masking !== 'dynamic' && o.masking !== 'static') bad(`masking must be "dynamic" or "static", got ${String(o.masking)}`);
  if (o.masking === 'static' && !(Number.isInteger(o.dupeFactor) && o.dupeFactor >= 1)) bad(`dupeFactor must be an integer >= 1, got ${o.dupeFactor}`);
}

/** A seeded permutation of [0, n) for a data epoch. */
export function documentOrder(n: number, seed: number, key: string): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  new Rng(`${seed}:docs:${key}`).shuffle(a);
  return a;
}

/** The data epoch that drives document order and static masks: e % dupeFactor for static masking, else e. */
export function dataEpoch(o: ObjectiveOptions, epoch: number): number {
  return o.masking === 'static' ? epoch % o.dupeFactor : epoch;
}

/** Sentence token ranges [start, end) of a document, empty sentences skipped. */
export function sentenceRanges(doc: TokenDocument): Array<[number, number]> {
  const b = doc.sentenceBounds;
  const out: Array<[number, number]> = [];
  if (b.length < 2) {
    if (doc.tokens.length) out.push([0, doc.tokens.length]);
    return out;
  }
  for (let k = 0; k + 1 < b.length; k++) if (b[k + 1]! > b[k]!) out.push([b[k]!, b[k + 1]!]);
  return out;
}

function asObject(v: JsonValue | undefined, what: string): { [k: string]: JsonValue } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: expected an object in the saved stream state`);
  return v;
}
function asInt(v: JsonValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${what}: expected an integer in the saved stream state`);
  return v;
}
function asInts(v: JsonValue | undefined, what: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new Error(`${what}: expected an array of numbers in the saved stream state`);
  return v as number[];
}
/** Readers for saved stream states (clear errors on a malformed or foreign state). */
export const stateReader = { asObject, asInt, asInts };

// ---------------------------------------------------------------------------------------------------------------
// Packing documents into rows.

/** One packed row: `[CLS] content [SEP]` (unpadded), which sentence it began where, and where it came from. */
export interface PackedRow {
  tokens: Int32Array;
  /** 1 at the first token of each sentence (or sentence piece). */
  sentenceStarts: Uint8Array;
  /** Training epoch the row belongs to, and its index within that epoch. */
  epoch: number;
  index: number;
  /** Documents the row holds tokens of, in order. */
  docs: number[];
}

export type RowPackerState = {
  epoch: number;
  pos: number;
  sent: number;
  off: number;
  row: number[];
  starts: number[];
  docs: number[];
  needSep: boolean;
  rowIndex: number;
};

/**
 * Packs documents into rows, epoch after epoch, in the order `orderFor(epoch)` gives; resumable through
 * getState/setState (the order is recomputed from the epoch).
 */
export class RowPacker {
  private epoch = 0;
  private pos = 0;
  private sent = 0;
  private off = 0;
  private row: number[] = [];
  private starts: number[] = [];
  private rowDocs: number[] = [];
  private needSep = false;
  private rowIndex = 0;
  private order: Uint32Array;
  private cachedDoc = -1;
  private cachedRanges: Array<[number, number]> = [];
  private cachedTokens: Uint32Array = new Uint32Array(0);
  readonly capacity: number;

  constructor(
    private readonly docs: DocumentSource,
    private readonly sp: EncoderSpecials,
    seqLen: number,
    private readonly crossDocuments: boolean,
    private readonly orderFor: (epoch: number) => Uint32Array,
  ) {
    if (docs.documentCount === 0) throw new Error('packing: the document source is empty');
    this.capacity = seqLen - 2;
    if (this.capacity < 1) throw new Error(`packing: seqLen must be >= 3 to hold [CLS] token [SEP], got ${seqLen}`);
    this.order = orderFor(0);
  }

  private load(d: number): void {
    if (d === this.cachedDoc) return;
    const doc = this.docs.document(d);
    this.cachedDoc = d;
    this.cachedTokens = doc.tokens;
    this.cachedRanges = sentenceRanges(doc);
  }

  private emit(): PackedRow {
    const n = this.row.length;
    const tokens = new Int32Array(n + 2);
    tokens[0] = this.sp.start;
    tokens.set(this.row, 1);
    tokens[n + 1] = this.sp.sep;
    const sentenceStarts = new Uint8Array(n + 2);
    sentenceStarts.set(this.starts, 1);
    const r: PackedRow = { tokens, sentenceStarts, epoch: this.epoch, index: this.rowIndex++, docs: this.rowDocs };
    this.row = [];
    this.starts = [];
    this.rowDocs = [];
    this.needSep = false;
    return r;
  }

  next(): PackedRow {
    let emptyEpochs = 0;
    for (;;) {
      if (this.pos >= this.order.length) {
        if (this.row.length) return this.emit();
        if (this.rowIndex === 0 && ++emptyEpochs > 1) throw new Error('packing: the documents hold no tokens');
        this.epoch++;
        this.pos = 0;
        this.sent = 0;
        this.off = 0;
        this.rowIndex = 0;
        this.needSep = false;
        this.order = this.orderFor(this.epoch);
        continue;
      }
      const d = this.order[this.pos]!;
      this.load(d);
      if (this.sent >= this.cachedRanges.length) {
        this.pos++;
        this.sent = 0;
        this.off = 0;
        if (this.row.length) {
          if (!this.crossDocuments) return this.emit();
          this.needSep = true;
        }
        continue;
      }
      const [s, e] = this.cachedRanges[this.sent]!;
      const from = s + this.off;
      const len = Math.min(e - from, this.capacity);
      const need = len + (this.needSep && this.row.length ? 1 : 0);
      if (this.row.length && this.row.length + need > this.capacity) return this.emit();
      if (this.needSep && this.row.length) {
        this.row.push(this.sp.sep);
        this.starts.push(0);
      }
      this.needSep = false;
      if (this.rowDocs[this.rowDocs.length - 1] !== d) this.rowDocs.push(d);
      for (let i = 0; i < len; i++) {
        this.row.push(this.cachedTokens[from + i]!);
        this.starts.push(i === 0 ? 1 : 0);
      }
      this.off += len;
      if (s + this.off >= e) {
        this.sent++;
        this.off = 0;
      }
    }
  }

  getState(): RowPackerState {
    return {
      epoch: this.epoch,
      pos: this.pos,
      sent: this.sent,
      off: this.off,
      row: [...this.row],
      starts: [...this.starts],
      docs: [...this.rowDocs],
      needSep: this.needSep,
      rowIndex: this.rowIndex,
    };
  }

  setState(v: JsonValue): void {
    const s = asObject(v, 'packing');
    this.epoch = asInt(s['epoch'], 'packing.epoch');
    this.pos = asInt(s['pos'], 'packing.pos');
    this.sent = asInt(s['sent'], 'packing.sent');
    this.off = asInt(s['off'], 'packing.off');
    this.row = [...asInts(s['row'], 'packing.row')];
    this.starts = [...asInts(s['starts'], 'packing.starts')];
    this.rowDocs = [...asInts(s['docs'], 'packing.docs')];
    this.needSep = s['needSep'] === true;
    this.rowIndex = asInt(s['rowIndex'], 'packing.rowIndex');
    this.order = this.orderFor(this.epoch);
    if (this.order.length !== this.docs.documentCount) throw new Error('packing: the saved state is for another document source');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A generic row stream: packing + a per-row masking function + a collate function (shared with span.ts).

/** Masks one packed row with the given Rng. */
export type RowMasker<R> = (row: PackedRow, rng: Rng) => R;

export interface RowStreamParts<R> {
  name: string;
  mask: RowMasker<R>;
  collate: (rows: R[]) => Batch;
}

/** Training batches of packed, masked rows; resumable (packing position + masking Rng). */
export function rowStream<R>(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, parts: RowStreamParts<R>): BatchStream {
  const sp = encoderSpecials(tok, parts.name);
  const packer = new RowPacker(docs, sp, o.seqLen, o.packing !== 'doc-sentences', (e) =>
    documentOrder(docs.documentCount, o.seed, String(dataEpoch(o, e))),
  );
  const rng = new Rng(`${o.seed}:${parts.name}:mask`);
  return {
    next(): Batch {
      const rows: R[] = [];
      for (let b = 0; b < o.batchSize; b++) {
        const row = packer.next();
        const r = o.masking === 'static' ? new Rng(`${o.seed}:${parts.name}:static:${row.epoch % o.dupeFactor}:${row.index}`) : rng;
        rows.push(parts.mask(row, r));
      }
      return parts.collate(rows);
    },
    state(): JsonValue {
      return { packing: packer.getState(), rng: rng.getState() };
    },
    restore(state: JsonValue): void {
      const s = asObject(state, parts.name);
      packer.setState(s['packing']);
      rng.setState(asInts(s['rng'], `${parts.name}.rng`) as RngState);
    },
  };
}

/**
 * Evaluation batches: documents in index order, masks from a fixed Rng derived from o.seed (the same on every
 * call). A last partial batch is dropped, unless it would be the only one: then it wraps around to the first rows.
 */
export function rowEvalBatches<R>(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number, parts: RowStreamParts<R>): Batch[] {
  const sp = encoderSpecials(tok, parts.name);
  const identity = Uint32Array.from({ length: docs.documentCount }, (_, i) => i);
  const packer = new RowPacker(docs, sp, o.seqLen, o.packing !== 'doc-sentences', () => identity);
  const rng = new Rng(`${o.seed}:${parts.name}:eval`);
  const out: Batch[] = [];
  while (out.length < maxBatches) {
    const rows: R[] = [];
    let wrapped = false;
    for (let b = 0; b < o.batchSize; b++) {
      const row = packer.next();
      if (row.epoch > 0) wrapped = true;
      rows.push(parts.mask(row, rng));
    }
    if (wrapped && out.length > 0) break;
    out.push(parts.collate(rows));
    if (wrapped) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The mlm objective.

/** A masked row, unpadded. */
export interface MaskedRow extends MaskedSequence {
  row: PackedRow;
}

/** input_ids, attention_mask, labels (int64 [B, T]) from masked rows, right-padded with `pad` to seqLen. */
export function collateMasked(rows: readonly MaskedSequence[], seqLen: number, pad: number): Batch {
  const B = rows.length;
  const ids = new Array<number>(B * seqLen).fill(pad);
  const att = new Array<number>(B * seqLen).fill(0);
  const lab = new Array<number>(B * seqLen).fill(-100);
  rows.forEach((r, b) => {
    const n = Math.min(r.inputIds.length, seqLen);
    for (let i = 0; i < n; i++) {
      ids[b * seqLen + i] = r.inputIds[i]!;
      att[b * seqLen + i] = 1;
      lab[b * seqLen + i] = r.labels[i]!;
    }
  });
  const shape = [B, seqLen];
  return { input_ids: int64Tensor(shape, ids), attention_mask: int64Tensor(shape, att), labels: int64Tensor(shape, lab) };
}

/** The BERT/RoBERTa masker of packed rows for the given options. */
export function mlmMasker(v: MaskVocab, o: ObjectiveOptions): RowMasker<MaskedRow> {
  const mo = { maskProb: o.maskProb, selection: o.selection ?? 'bernoulli', maxPredictions: o.maxPredictions, wholeWord: o.wholeWord };
  return (row, rng) => ({ row, ...maskSequence(row.tokens, v, rng, mo, row.tokens.length, row.sentenceStarts) });
}

function mlmParts(tok: ObjectiveTokenizer, o: ObjectiveOptions): RowStreamParts<MaskedRow> {
  checkEncoderOptions('mlm', o, 3);
  const sp = encoderSpecials(tok, 'mlm');
  const v = maskVocab(tok, sp);
  return { name: 'mlm', mask: mlmMasker(v, o), collate: (rows) => collateMasked(rows, o.seqLen, sp.pad) };
}

export function mlmInputs(o: ObjectiveOptions): InputSpec[] {
  const shape = [o.batchSize, o.seqLen];
  return ['input_ids', 'attention_mask', 'labels'].map((name) => ({ name, dtype: 'int64' as const, shape }));
}

/** Training batches for masked LM (see the file comment for packing and masking). */
export function mlmStream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream {
  return rowStream(docs, tok, o, mlmParts(tok, o));
}

export function mlmEvalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[] {
  return rowEvalBatches(docs, tok, o, maxBatches, mlmParts(tok, o));
}

registerObjective({
  name: 'mlm',
  description: 'masked language modelling (BERT/RoBERTa: 80/10/10, whole-word, static or dynamic masking, full- or doc-sentences)',
  heads: ['mlm'],
  inputs: mlmInputs,
  stream: mlmStream,
  evalBatches: mlmEvalBatches,
});

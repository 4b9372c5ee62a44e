// Next sentence prediction + masked LM (BERT), docs/objectives.md section 2: google-research/bert
// create_pretraining_data.py's create_instances_from_document, then MLM masking on top. Pure: no I/O, no model code.
//
// Per document pass (one per data epoch): max_tokens = seqLen - 3; the target length is max_tokens, or with
// probability shortSeqProb a uniform integer in [2, max_tokens], drawn once per document. Sentences accumulate into
// a chunk until the target length or the document's end; A = the first a_end sentences (a_end uniform in
// [1, len - 1] when the chunk has >= 2 sentences, else 1). With probability 0.5, or always for a one-sentence
// chunk, B is random: sentences of another document (10 tries, then the next other non-empty document) from a
// random sentence on, filling the remaining length; the chunk's unused sentences are put back. Otherwise B is the
// rest of the chunk. The pair is truncated to max_tokens by trimming the longer segment (tie: B) at the front or
// the back with probability 0.5 each. Layout `[CLS] A [SEP] B [SEP]`, token_type_ids 0 up to the first [SEP] and 1
// after, next_sentence_label 0 = IsNext, 1 = random.
//
// The instances of an epoch are a deterministic function of (seed, data epoch): generated over all documents,
// then shuffled; the stream keeps an index into them (state = {epoch, index, rng}). As for mlm, static masking makes
// the data epoch e % dupeFactor and seeds each instance's mask from (seed, e % dupeFactor, index).
import { Rng, type RngState } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import type { Batch } from '../runtime/step.js';
import { encoderSpecials, maskSequence, maskVocab, type EncoderSpecials, type MaskedSequence, type MaskingOptions } from './masking.js';
import { checkEncoderOptions, collateMasked, dataEpoch, int64Tensor, sentenceRanges, stateReader } from './mlm.js';
import { registerObjective, type BatchStream, type InputSpec, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

/** One sentence pair as token ranges of its documents (A: [aStart, aEnd) of docA; B likewise). */
export interface NspInstance {
  docA: number;
  aStart: number;
  aEnd: number;
  docB: number;
  bStart: number;
  bEnd: number;
  /** True when B is from a random document (label 1). */
  isRandom: boolean;
}

/** Sentence ranges of documents, loaded lazily and cached. */
class SentenceIndex {
  private readonly cache = new Map<number, Array<[number, number]>>();
  constructor(private readonly docs: DocumentSource) {}
  ranges(d: number): Array<[number, number]> {
    let r = this.cache.get(d);
    if (!r) {
      r = sentenceRanges(this.docs.document(d));
      this.cache.set(d, r);
    }
    return r;
  }
}

/** A document other than `d` with at least one sentence: 10 uniform tries, then the next one after a random start. */
function randomOtherDocument(index: SentenceIndex, n: number, d: number, rng: Rng): number {
  for (let t = 0; t < 10; t++) {
    const r = rng.int(n);
    if (r !== d && index.ranges(r).length) return r;
  }
  if (n >= 2) {
    const first = (d + 1 + rng.int(n - 1)) % n;
    for (let k = 0; k < n; k++) {
      const r = (first + k) % n;
      if (r !== d && index.ranges(r).length) return r;
    }
  }
  throw new Error('objective mlm+nsp: next sentence prediction needs at least two non-empty documents (a random B comes from another document)');
}

/** create_instances_from_document for document `d` of `n`. */
function instancesFromDocument(index: SentenceIndex, n: number, d: number, rng: Rng, maxTokens: number, shortSeqProb: number): NspInstance[] {
  const sents = index.ranges(d);
  const out: NspInstance[] = [];
  if (!sents.length) return out;
  const target = rng.random() < shortSeqProb ? rng.intBetween(2, maxTokens) : maxTokens;
  let chunk: Array<[number, number]> = [];
  let length = 0;
  let i = 0;
  while (i < sents.length) {
    const seg = sents[i]!;
    chunk.push(seg);
    length += seg[1] - seg[0];
    if (i === sents.length - 1 || length >= target) {
      const aEnd = chunk.length >= 2 ? rng.intBetween(1, chunk.length - 1) : 1;
      // Sentences of one document are contiguous, so a segment is one token range.
      let aS = chunk[0]![0];
      let aE = chunk[aEnd - 1]![1];
      let docB: number;
      let bS: number;
      let bE: number;
      let isRandom: boolean;
      if (chunk.length === 1 || rng.random() < 0.5) {
        isRandom = true;
        const targetB = target - (aE - aS);
        docB = randomOtherDocument(index, n, d, rng);
        const rs = index.ranges(docB);
        const start = rng.int(rs.length);
        bS = rs[start]![0];
        bE = bS;
        for (let j = start; j < rs.length; j++) {
          bE = rs[j]![1];
          if (bE - bS >= targetB) break;
        }
        i -= chunk.length - aEnd; // put the unused sentences back
      } else {
        isRandom = false;
        docB = d;
        bS = chunk[aEnd]![0];
        bE = chunk[chunk.length - 1]![1];
      }
      // truncate_seq_pair: trim the longer segment (tie: B) from a random end.
      while (aE - aS + (bE - bS) > maxTokens) {
        const trimA = aE - aS > bE - bS;
        if (rng.random() < 0.5) {
          if (trimA) aS++;
          else bS++;
        } else if (trimA) aE--;
        else bE--;
      }
      out.push({ docA: d, aStart: aS, aEnd: aE, docB, bStart: bS, bEnd: bE, isRandom });
      chunk = [];
      length = 0;
    }
    i++;
  }
  return out;
}

/** All instances of one document pass, shuffled; a deterministic function of (seed, key). */
export function nspEpochInstances(docs: DocumentSource, maxTokens: number, shortSeqProb: number, seed: number, key: string): NspInstance[] {
  const index = new SentenceIndex(docs);
  const rng = new Rng(`${seed}:nsp:${key}`);
  const out: NspInstance[] = [];
  for (let d = 0; d < docs.documentCount; d++) for (const x of instancesFromDocument(index, docs.documentCount, d, rng, maxTokens, shortSeqProb)) out.push(x);
  return rng.shuffle(out);
}

/** A laid-out pair: `[CLS] A [SEP] B [SEP]`, token types, sentence starts. */
export interface NspPair {
  tokens: Int32Array;
  tokenTypes: Uint8Array;
  sentenceStarts: Uint8Array;
  /** 0 = IsNext, 1 = random B. */
  label: number;
  /** Index of the first [SEP]. */
  sepA: number;
}

/** Lay out an instance (reads its documents). */
export function layoutPair(docs: DocumentSource, x: NspInstance, sp: Pick<EncoderSpecials, 'start' | 'sep'>): NspPair {
  const la = x.aEnd - x.aStart;
  const lb = x.bEnd - x.bStart;
  const n = la + lb + 3;
  const tokens = new Int32Array(n);
  const tokenTypes = new Uint8Array(n);
  const sentenceStarts = new Uint8Array(n);
  const put = (doc: number, s: number, e: number, at: number): void => {
    const d = docs.document(doc);
    const starts = new Set<number>(Array.from(d.sentenceBounds));
    for (let k = s; k < e; k++) {
      tokens[at + k - s] = d.tokens[k]!;
      if (k === s || starts.has(k)) sentenceStarts[at + k - s] = 1;
    }
  };
  tokens[0] = sp.start;
  put(x.docA, x.aStart, x.aEnd, 1);
  tokens[la + 1] = sp.sep;
  put(x.docB, x.bStart, x.bEnd, la + 2);
  tokens[n - 1] = sp.sep;
  tokenTypes.fill(1, la + 2);
  return { tokens, tokenTypes, sentenceStarts, label: x.isRandom ? 1 : 0, sepA: la + 1 };
}

export interface MaskedPair extends MaskedSequence {
  pair: NspPair;
}

/** input_ids, attention_mask, labels, token_type_ids (int64 [B, T]) and next_sentence_label (int64 [B]). */
export function collatePairs(rows: readonly MaskedPair[], seqLen: number, pad: number): Batch {
  const B = rows.length;
  const typ = new Array<number>(B * seqLen).fill(0);
  rows.forEach((r, b) => {
    if (r.inputIds.length > seqLen) throw new Error(`mlm+nsp: a pair of ${r.inputIds.length} tokens exceeds seqLen ${seqLen}`);
    r.pair.tokenTypes.forEach((t, i) => (typ[b * seqLen + i] = t));
  });
  return {
    ...collateMasked(rows, seqLen, pad),
    token_type_ids: int64Tensor([B, seqLen], typ),
    next_sentence_label: int64Tensor([B], rows.map((r) => r.pair.label)),
  };
}

interface NspSetup {
  sp: EncoderSpecials;
  maskPair: (pair: NspPair, rng: Rng) => MaskedPair;
  maxTokens: number;
}

function setup(tok: ObjectiveTokenizer, o: ObjectiveOptions): NspSetup {
  checkEncoderOptions('mlm+nsp', o, 5);
  if (!(o.shortSeqProb >= 0 && o.shortSeqProb <= 1)) throw new Error(`objective mlm+nsp: shortSeqProb must be in [0, 1], got ${o.shortSeqProb}`);
  const sp = encoderSpecials(tok, 'mlm+nsp');
  const v = maskVocab(tok, sp);
  const mo: MaskingOptions = { maskProb: o.maskProb, selection: o.selection ?? 'bernoulli', maxPredictions: o.maxPredictions, wholeWord: o.wholeWord };
  return {
    sp,
    maxTokens: o.seqLen - 3,
    maskPair: (pair, rng) => ({ pair, ...maskSequence(pair.tokens, v, rng, mo, pair.tokens.length, pair.sentenceStarts) }),
  };
}

export function nspInputs(o: ObjectiveOptions): InputSpec[] {
  const shape = [o.batchSize, o.seqLen];
  return [
    ...['input_ids', 'attention_mask', 'labels', 'token_type_ids'].map((name) => ({ name, dtype: 'int64' as const, shape })),
    { name: 'next_sentence_label', dtype: 'int64', shape: [o.batchSize] },
  ];
}

/** Training batches for MLM + NSP; resumable (epoch, index into the epoch's instances, masking Rng). */
export function nspStream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream {
  const s = setup(tok, o);
  if (docs.documentCount === 0) throw new Error('objective mlm+nsp: the document source is empty');
  let epoch = 0;
  let index = 0;
  let cached: { epoch: number; instances: NspInstance[] } | undefined;
  const rng = new Rng(`${o.seed}:mlm+nsp:mask`);
  const instances = (e: number): NspInstance[] => {
    if (cached?.epoch !== e) {
      const list = nspEpochInstances(docs, s.maxTokens, o.shortSeqProb, o.seed, String(dataEpoch(o, e)));
      if (!list.length) throw new Error('objective mlm+nsp: the documents give no sentence pairs');
      cached = { epoch: e, instances: list };
    }
    return cached.instances;
  };
  return {
    next(): Batch {
      const rows: MaskedPair[] = [];
      for (let b = 0; b < o.batchSize; b++) {
        let list = instances(epoch);
        if (index >= list.length) {
          epoch++;
          index = 0;
          list = instances(epoch);
        }
        const pair = layoutPair(docs, list[index]!, s.sp);
        const r = o.masking === 'static' ? new Rng(`${o.seed}:mlm+nsp:static:${epoch % o.dupeFactor}:${index}`) : rng;
        rows.push(s.maskPair(pair, r));
        index++;
      }
      return collatePairs(rows, o.seqLen, s.sp.pad);
    },
    state(): JsonValue {
      return { epoch, index, rng: rng.getState() };
    },
    restore(state: JsonValue): void {
      const st = stateReader.asObject(state, 'mlm+nsp');
      epoch = stateReader.asInt(st['epoch'], 'mlm+nsp.epoch');
      index = stateReader.asInt(st['index'], 'mlm+nsp.index');
      rng.setState(stateReader.asInts(st['rng'], 'mlm+nsp.rng') as RngState);
    },
  };
}

/**
 * Evaluation batches: instances generated document by document in index order (not shuffled), with a fixed Rng
 * derived from o.seed; the same on every call. A last partial batch is dropped unless it is the only one (then it
 * wraps around).
 */
export function nspEvalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[] {
  const s = setup(tok, o);
  const index = new SentenceIndex(docs);
  const rng = new Rng(`${o.seed}:mlm+nsp:eval`);
  const want = maxBatches * o.batchSize;
  const list: NspInstance[] = [];
  for (let d = 0; d < docs.documentCount && list.length < want; d++) list.push(...instancesFromDocument(index, docs.documentCount, d, rng, s.maxTokens, o.shortSeqProb));
  if (!list.length || maxBatches <= 0) return [];
  const full = Math.floor(list.length / o.batchSize);
  const nb = Math.min(maxBatches, Math.max(1, full));
  const out: Batch[] = [];
  for (let b = 0; b < nb; b++) {
    const rows: MaskedPair[] = [];
    for (let k = 0; k < o.batchSize; k++) rows.push(s.maskPair(layoutPair(docs, list[(b * o.batchSize + k) % list.length]!, s.sp), rng));
    out.push(collatePairs(rows, o.seqLen, s.sp.pad));
  }
  return out;
}

registerObjective({
  name: 'mlm+nsp',
  description: "BERT's masked LM + next sentence prediction (create_pretraining_data's sentence pairs, [CLS] A [SEP] B [SEP])",
  heads: ['mlm', 'nsp'],
  inputs: nspInputs,
  stream: nspStream,
  evalBatches: nspEvalBatches,
});

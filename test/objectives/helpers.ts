// Shared fixtures for the encoder objective tests: a fake tokenizer, synthetic documents, default options.
import { Rng } from '../../src/data/rng.js';
import type { DocumentSource, TokenDocument } from '../../src/data/types.js';
import type { ObjectiveOptions, ObjectiveTokenizer } from '../../src/objectives/objective.js';
import type { Batch } from '../../src/runtime/step.js';

export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;
export const MASK = 4;
/** Ids from CONT on are word continuations (like WordPiece `##x`). */
export const CONT = 600;
export const VOCAB = 1000;

export function fakeTokenizer(overrides: Partial<ObjectiveTokenizer> = {}): ObjectiveTokenizer {
  const wordStarts = new Uint8Array(VOCAB);
  for (let i = 0; i < VOCAB; i++) wordStarts[i] = i < CONT ? 1 : 0;
  return {
    vocabSize: VOCAB,
    specialIds: { pad: PAD, unk: UNK, cls: CLS, sep: SEP, mask: MASK },
    allSpecialIds: [PAD, UNK, CLS, SEP, MASK],
    wordStarts,
    sentinelIds: [],
    ...overrides,
  };
}

export function isSpecial(id: number): boolean {
  return id <= MASK;
}

/** An in-memory DocumentSource from documents given as lists of sentences. */
export function docSource(docs: number[][][]): DocumentSource {
  const built: TokenDocument[] = docs.map((sents) => {
    const bounds = [0];
    const toks: number[] = [];
    for (const s of sents) {
      toks.push(...s);
      bounds.push(toks.length);
    }
    return { tokens: Uint32Array.from(toks), sentenceBounds: Uint32Array.from(bounds) };
  });
  return {
    documentCount: built.length,
    tokenCount: built.reduce((n, d) => n + d.tokens.length, 0),
    document: (i) => built[i]!,
  };
}

export interface SynthOptions {
  docs: number;
  sentences: [number, number];
  /** Words per sentence. */
  words: [number, number];
  /** Probability that a word has continuation pieces (then 1..3 extra pieces). */
  multiPiece?: number;
  seed?: number;
  /** Tokens of document d drawn from [lo(d), lo(d) + width) so a token tells its document. */
  docCoded?: boolean;
  /** Occasionally put an [UNK] into the text (a special id inside a sentence). */
  unk?: number;
}

export function synthDocs(o: SynthOptions): number[][][] {
  const rng = new Rng(o.seed ?? 1);
  return Array.from({ length: o.docs }, (_, d) =>
    Array.from({ length: rng.intBetween(o.sentences[0], o.sentences[1]) }, () => {
      const s: number[] = [];
      const nw = rng.intBetween(o.words[0], o.words[1]);
      for (let w = 0; w < nw; w++) {
        if (o.unk && rng.random() < o.unk) {
          s.push(UNK);
          continue;
        }
        s.push(o.docCoded ? docToken(d, rng) : 5 + rng.int(CONT - 5));
        if (o.multiPiece && rng.random() < o.multiPiece) {
          const extra = rng.intBetween(1, 3);
          for (let k = 0; k < extra; k++) s.push(CONT + rng.int(VOCAB - CONT));
        }
      }
      return s;
    }),
  );
}

/** Document-coded word-start tokens: doc d uses [5 + 20 (d mod 29), 5 + 20 (d mod 29) + 20). */
export function docToken(d: number, rng: Rng): number {
  return 5 + 20 * (d % 29) + rng.int(20);
}
export function docOfToken(t: number): number {
  return Math.floor((t - 5) / 20);
}

export function options(o: Partial<ObjectiveOptions> = {}): ObjectiveOptions {
  return {
    seqLen: 64,
    batchSize: 8,
    seed: 7,
    blocks: 'packed',
    maskProb: 0.15,
    selection: 'bernoulli',
    maxPredictions: 20,
    wholeWord: false,
    masking: 'dynamic',
    dupeFactor: 10,
    packing: 'full-sentences',
    shortSeqProb: 0.1,
    spanP: 0.2,
    spanMaxWords: 10,
    sboWeight: 1,
    noiseDensity: 0.15,
    meanNoiseSpanLength: 3,
    ...o,
  };
}

export function nums(b: Batch, name: string): number[] {
  const t = b[name];
  if (!t) throw new Error(`batch has no ${name}`);
  return Array.from(t.data as BigInt64Array, Number);
}

/** Rows of a [B, T] input as arrays. */
export function rows(b: Batch, name: string): number[][] {
  const t = b[name]!;
  const [B, T] = t.shape as [number, number];
  const all = nums(b, name);
  return Array.from({ length: B }, (_, r) => all.slice(r * T, (r + 1) * T));
}

/** The original tokens of a masked batch: labels where predicted, else the inputs. */
export function originals(b: Batch): number[][] {
  const ids = rows(b, 'input_ids');
  const lab = rows(b, 'labels');
  return ids.map((r, i) => r.map((x, j) => (lab[i]![j]! !== -100 ? lab[i]![j]! : x)));
}

export function batchKey(b: Batch): string {
  return JSON.stringify(Object.keys(b).sort().map((k) => [k, b[k]!.shape, nums(b, k)]));
}

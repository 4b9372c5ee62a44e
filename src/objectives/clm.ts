// Causal language modelling (GPT): token blocks -> batches. Pure: no I/O, no model code.
// Two ways to make blocks, as objectives.md section 7 describes:
//  - packing (HF run_clm's group_texts): documents joined with EOS, cut into block_size pieces, tail dropped;
//  - random windows over one token stream (nanoGPT's get_batch).
// Labels equal the inputs; the model shifts them (logits[:, :-1] predict labels[:, 1:]), as Hugging Face does.
import type { Batch } from '../runtime/step.js';
import { BlockLoader, packBlocks, type BlockLoaderState } from '../data/batching.js';
import { Rng } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import { registerObjective, type BatchStream, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

/** Documents joined with `eos` after each one, cut into blocks of `blockSize`; the remainder is dropped. */
export function packDocuments(docs: Iterable<ArrayLike<number>>, blockSize: number, eos: number): Int32Array[] {
  if (!(blockSize >= 2)) throw new Error(`clm: block size must be >= 2, got ${blockSize}`);
  const blocks: Int32Array[] = [];
  let cur = new Int32Array(blockSize);
  let n = 0;
  const push = (id: number) => {
    cur[n++] = id;
    if (n === blockSize) {
      blocks.push(cur);
      cur = new Int32Array(blockSize);
      n = 0;
    }
  };
  for (const d of docs) {
    for (let i = 0; i < d.length; i++) push(d[i]);
    push(eos);
  }
  return blocks;
}

/** `count` windows of `blockSize` tokens at uniform random starts in a flat stream (nanoGPT). */
export function randomWindows(stream: ArrayLike<number>, blockSize: number, count: number, rand: () => number): Int32Array[] {
  if (stream.length <= blockSize) throw new Error(`clm: the token stream (${stream.length}) must be longer than the block size (${blockSize})`);
  return Array.from({ length: count }, () => {
    const start = Math.floor(rand() * (stream.length - blockSize + 1));
    return Int32Array.from({ length: blockSize }, (_, i) => stream[start + i]);
  });
}

/** A causal-LM batch from equal-length blocks: input_ids and labels (identical), int64 [B, T]. */
export function clmBatch(blocks: readonly ArrayLike<number>[]): Batch {
  const b = blocks.length;
  const t = blocks[0].length;
  const ids = new BigInt64Array(b * t);
  blocks.forEach((blk, r) => {
    if (blk.length !== t) throw new Error(`clm: blocks differ in length (${blk.length} vs ${t})`);
    for (let i = 0; i < t; i++) ids[r * t + i] = BigInt(blk[i]);
  });
  const tensor = { dtype: 'int64' as const, shape: [b, t], data: ids };
  return { input_ids: tensor, labels: tensor };
}

/**
 * A padded causal-LM batch from sequences of different lengths: right padding with `pad`, attention_mask 1/0,
 * labels -100 on padding so the loss skips it.
 */
export function clmPaddedBatch(seqs: readonly ArrayLike<number>[], pad: number, length?: number): Batch {
  const b = seqs.length;
  const t = length ?? Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(b * t).fill(BigInt(pad));
  const labels = new BigInt64Array(b * t).fill(-100n);
  const mask = new BigInt64Array(b * t);
  seqs.forEach((s, r) => {
    const n = Math.min(s.length, t);
    for (let i = 0; i < n; i++) {
      ids[r * t + i] = BigInt(s[i]);
      labels[r * t + i] = BigInt(s[i]);
      mask[r * t + i] = 1n;
    }
  });
  const shape = [b, t];
  return {
    input_ids: { dtype: 'int64', shape, data: ids },
    labels: { dtype: 'int64', shape, data: labels },
    attention_mask: { dtype: 'int64', shape, data: mask },
  };
}

function eosOf(tok: ObjectiveTokenizer): number {
  return tok.specialIds.eos ?? tok.specialIds.sep ?? tok.vocabSize - 1;
}

/** Packed blocks (HF group_texts) from documents in a seeded order per epoch. */
function packedStream(docs: DocumentSource, o: ObjectiveOptions, eos: number): BatchStream {
  const loader = new BlockLoader(docs, { blockSize: o.seqLen, batchSize: o.batchSize, seed: o.seed, separatorId: eos });
  return {
    next: () => {
      const b = loader.nextBatch();
      return clmBatch(Array.from({ length: b.batchSize }, (_, r) => b.inputIds.subarray(r * b.seqLength, (r + 1) * b.seqLength)));
    },
    state: () => loader.getState() as unknown as JsonValue,
    restore: (s) => loader.setState(s as unknown as BlockLoaderState),
  };
}

/** Random windows of one token stream (documents joined by EOS), as nanoGPT's get_batch draws them. */
function windowStream(docs: DocumentSource, o: ObjectiveOptions, eos: number): BatchStream {
  const stream = new Uint32Array(docs.tokenCount + docs.documentCount);
  let n = 0;
  for (let i = 0; i < docs.documentCount; i++) {
    const d = docs.document(i).tokens;
    stream.set(d, n);
    n += d.length;
    stream[n++] = eos;
  }
  const rng = new Rng(o.seed);
  return {
    next: () => clmBatch(randomWindows(stream.subarray(0, n), o.seqLen, o.batchSize, () => rng.random())),
    state: () => rng.getState() as unknown as JsonValue,
    restore: (s) => rng.setState(s as unknown as number[]),
  };
}

export const CLM = registerObjective({
  name: 'clm',
  description: 'causal language modelling: predict each token from the ones before it (GPT)',
  heads: ['lm'],
  inputs: (o) => [
    { name: 'input_ids', dtype: 'int64', shape: [o.batchSize, o.seqLen] },
    { name: 'labels', dtype: 'int64', shape: [o.batchSize, o.seqLen] },
  ],
  stream: (docs, tok, o) => (o.blocks === 'windows' ? windowStream(docs, o, eosOf(tok)) : packedStream(docs, o, eosOf(tok))),
  evalBatches: (docs, tok, o, maxBatches) => {
    const blocks = packBlocks((function* () {
      for (let i = 0; i < docs.documentCount; i++) yield docs.document(i).tokens;
    })(), o.seqLen, eosOf(tok)).slice(0, maxBatches * o.batchSize);
    const out: Batch[] = [];
    for (let i = 0; i + o.batchSize <= blocks.length; i += o.batchSize) out.push(clmBatch(blocks.slice(i, i + o.batchSize)));
    return out;
  },
});

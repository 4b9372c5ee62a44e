// Fixed-length chunks of the token stream, for the T5 objectives (span-corruption, prefix-lm). Pure: no I/O, no
// model code. Documents are concatenated with EOS after each one (as Hugging Face's run_t5_mlm_flax does: its
// tokenizer appends </s> to every text) and cut into chunks of `chunkLength` tokens, the tail dropped (group_texts).
// Training visits the documents in a seeded order per epoch (BlockLoader, as clm's packing); each chunk is turned
// into an example with the stream's Rng. Both the packing position and the Rng are saved in state(), so a resumed
// run draws the same batches. Also: the encoder-decoder batch layout (input_ids, attention_mask,
// decoder_input_ids, labels) both T5 objectives feed.
import { BlockLoader, packBlocks, type BlockLoaderState } from '../data/batching.js';
import { Rng, type RngState } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import type { Batch } from '../runtime/step.js';
import { int64Tensor, stateReader } from './mlm.js';
import type { BatchStream, ObjectiveOptions, ObjectiveTokenizer } from './objective.js';

/** How an objective turns chunks into batches. */
export interface ChunkParts<R> {
  /** The objective's name (seeds its Rngs, names it in errors). */
  name: string;
  /** Raw tokens per chunk. */
  chunkLength: number;
  /** Appended after every document. */
  eos: number;
  /** One example from one chunk, drawing its randomness from `rng`. */
  transform: (chunk: Int32Array, rng: Rng) => R;
  collate: (rows: R[]) => Batch;
}

/** EOS of a tokenizer, or a clear error. */
export function requireEos(tok: ObjectiveTokenizer, name: string): number {
  const eos = tok.specialIds.eos;
  if (eos === undefined) throw new Error(`objective ${name}: the tokenizer has no EOS token (</s>)`);
  return eos;
}

/** The padding id (the decoder start token of T5), 0 when the tokenizer names none. */
export function padOf(tok: ObjectiveTokenizer): number {
  return tok.specialIds.pad ?? 0;
}

/** Training batches of chunks, resumable (document order and packing carry + the example Rng). */
export function chunkStream<R>(docs: DocumentSource, o: ObjectiveOptions, parts: ChunkParts<R>): BatchStream {
  const loader = new BlockLoader(docs, { blockSize: parts.chunkLength, batchSize: o.batchSize, seed: o.seed, separatorId: parts.eos });
  const rng = new Rng(`${o.seed}:${parts.name}:examples`);
  return {
    next(): Batch {
      const b = loader.nextBatch();
      const rows: R[] = [];
      for (let r = 0; r < b.batchSize; r++) rows.push(parts.transform(b.inputIds.subarray(r * b.seqLength, (r + 1) * b.seqLength), rng));
      return parts.collate(rows);
    },
    state(): JsonValue {
      return { chunks: loader.getState() as unknown as JsonValue, rng: rng.getState() };
    },
    restore(state: JsonValue): void {
      const s = stateReader.asObject(state, parts.name);
      loader.setState(stateReader.asObject(s['chunks'], `${parts.name}.chunks`) as unknown as BlockLoaderState);
      rng.setState(stateReader.asInts(s['rng'], `${parts.name}.rng`) as RngState);
    },
  };
}

/**
 * Evaluation batches: documents in index order, examples from a fixed Rng derived from o.seed (the same on every
 * call); a last partial batch is dropped.
 */
export function chunkEvalBatches<R>(docs: DocumentSource, o: ObjectiveOptions, maxBatches: number, parts: ChunkParts<R>): Batch[] {
  const chunks = packBlocks((function* () {
    for (let i = 0; i < docs.documentCount; i++) yield docs.document(i).tokens;
  })(), parts.chunkLength, parts.eos).slice(0, maxBatches * o.batchSize);
  const rng = new Rng(`${o.seed}:${parts.name}:eval`);
  const out: Batch[] = [];
  for (let i = 0; i + o.batchSize <= chunks.length; i += o.batchSize) out.push(parts.collate(chunks.slice(i, i + o.batchSize).map((c) => parts.transform(c, rng))));
  return out;
}

/** One encoder-decoder example: what the encoder reads and what the decoder predicts (both ending in EOS). */
export interface Seq2SeqExample {
  inputs: ArrayLike<number>;
  targets: ArrayLike<number>;
}

/** Labels shifted right for the decoder's input: `start` first, -100 read as `pad` (HF shift_tokens_right). */
export function shiftRight(labels: ArrayLike<number>, start: number, pad: number): number[] {
  const out = new Array<number>(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const prev = i === 0 ? start : labels[i - 1]!;
    out[i] = prev === -100 ? pad : prev;
  }
  return out;
}

/**
 * The encoder-decoder batch: input_ids and attention_mask [B, inputLength] (right padding with `pad`, mask 0),
 * labels [B, targetLength] (-100 on padding) and decoder_input_ids (labels shifted right, decoder start = pad).
 */
export function seq2seqBatch(rows: readonly Seq2SeqExample[], inputLength: number, targetLength: number, pad: number): Batch {
  const B = rows.length;
  const ids = new Array<number>(B * inputLength).fill(pad);
  const att = new Array<number>(B * inputLength).fill(0);
  const lab = new Array<number>(B * targetLength).fill(-100);
  const dec = new Array<number>(B * targetLength).fill(pad);
  rows.forEach((r, b) => {
    if (r.inputs.length > inputLength) throw new Error(`seq2seq batch: an input of ${r.inputs.length} tokens exceeds ${inputLength}`);
    if (r.targets.length > targetLength) throw new Error(`seq2seq batch: a target of ${r.targets.length} tokens exceeds ${targetLength}`);
    for (let i = 0; i < r.inputs.length; i++) {
      ids[b * inputLength + i] = r.inputs[i]!;
      att[b * inputLength + i] = 1;
    }
    const labels = Array.from({ length: targetLength }, (_, i) => (i < r.targets.length ? r.targets[i]! : -100));
    const shifted = shiftRight(labels, pad, pad);
    for (let i = 0; i < targetLength; i++) {
      lab[b * targetLength + i] = labels[i]!;
      dec[b * targetLength + i] = shifted[i]!;
    }
  });
  return {
    input_ids: int64Tensor([B, inputLength], ids),
    attention_mask: int64Tensor([B, inputLength], att),
    decoder_input_ids: int64Tensor([B, targetLength], dec),
    labels: int64Tensor([B, targetLength], lab),
  };
}

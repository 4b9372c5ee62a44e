// Prefix language modelling, docs/objectives.md section 6: the two forms the T5 paper compares. Pure: no I/O, no
// model code. Chunks of L = seqLen tokens (documents joined with EOS, as span-corruption: chunks.ts) are split at
// k uniform in [1, L - 1] (T5's random_prefix_noise_mask):
//  - encoder-decoder: the encoder reads tokens [0, k) + EOS, the decoder predicts [k, L) + EOS. Inputs input_ids,
//    attention_mask [B, L]; decoder_input_ids, labels [B, L] (right padding: mask 0, labels -100).
//  - decoder-only: one sequence, bidirectional attention inside the prefix, causal after it, loss only on positions
//    >= k. Inputs input_ids, labels [B, L] (labels -100 before k; the model shifts them, so the last prefix
//    position predicts token k) and prefix_length [B] = k; the decoder builds the mask causal OR (query < k AND
//    key < k).
//
// One name, two forms. The registries look objectives up by name, and the issue asks for `--objective prefix-lm`
// with `--arch t5` and with `--arch gpt2|llama` alike. Registering two names would make users pick the form the
// architecture already implies; instead ObjectiveOptions carries the model `family` (filled by the pipeline from
// --arch: objectiveOptions in src/train/pretrain.ts), `inputs`/`stream`/`evalBatches` branch on it, and
// `headsFor(family)` names the head each form trains (`lm` on a decoder, `seq2seq` on an encoder-decoder).
import type { Rng } from '../data/rng.js';
import type { DocumentSource } from '../data/types.js';
import type { ModelFamily } from '../models/registry.js';
import type { Batch } from '../runtime/step.js';
import { chunkEvalBatches, chunkStream, padOf, requireEos, seq2seqBatch, type ChunkParts } from './chunks.js';
import { int64Tensor } from './mlm.js';
import { registerObjective, type BatchStream, type InputSpec, type ObjectiveOptions, type ObjectiveTokenizer } from './objective.js';

/** The split point of a chunk of `length` tokens: uniform in [1, length - 1] (T5's random_prefix_noise_mask). */
export function prefixSplit(length: number, rng: Rng): number {
  if (!Number.isInteger(length) || length < 2) throw new Error(`prefix-lm: a chunk must hold at least 2 tokens, got ${length}`);
  return rng.intBetween(1, length - 1);
}

/** The encoder-decoder pair of a chunk split at k: inputs [0, k) + EOS, targets [k, L) + EOS. */
export function prefixLmPair(tokens: ArrayLike<number>, k: number, eos: number): { inputs: number[]; targets: number[] } {
  const t = Array.from(tokens);
  return { inputs: [...t.slice(0, k), eos], targets: [...t.slice(k), eos] };
}

/** A decoder-only example: the chunk and its prefix length. */
export interface PrefixLmRow {
  tokens: ArrayLike<number>;
  prefixLength: number;
}

/** Decoder-only batch: input_ids, labels [B, L] (-100 before the prefix length) and prefix_length [B]. */
export function prefixLmDecoderBatch(rows: readonly PrefixLmRow[]): Batch {
  const B = rows.length;
  const L = rows[0]!.tokens.length;
  const ids: number[] = [];
  const labels: number[] = [];
  for (const r of rows) {
    if (r.tokens.length !== L) throw new Error(`prefix-lm: rows differ in length (${r.tokens.length} vs ${L})`);
    for (let i = 0; i < L; i++) {
      ids.push(r.tokens[i]!);
      labels.push(i < r.prefixLength ? -100 : r.tokens[i]!);
    }
  }
  return {
    input_ids: int64Tensor([B, L], ids),
    labels: int64Tensor([B, L], labels),
    prefix_length: int64Tensor([B], rows.map((r) => r.prefixLength)),
  };
}

function formOf(o: ObjectiveOptions): Exclude<ModelFamily, 'encoder'> {
  if (o.family === 'decoder' || o.family === 'encoder-decoder') return o.family;
  throw new Error(`objective prefix-lm: trains decoders and encoder-decoders; the options name the model family ${o.family === undefined ? '(none)' : `"${o.family}"`}`);
}

function check(o: ObjectiveOptions): void {
  if (!Number.isInteger(o.seqLen) || o.seqLen < 2) throw new Error(`objective prefix-lm: seqLen must be an integer >= 2, got ${o.seqLen}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`objective prefix-lm: batchSize must be an integer >= 1, got ${o.batchSize}`);
}

function prefixLmParts(tok: ObjectiveTokenizer, o: ObjectiveOptions): ChunkParts<unknown> {
  check(o);
  const form = formOf(o);
  const eos = requireEos(tok, 'prefix-lm');
  const base = { name: 'prefix-lm', chunkLength: o.seqLen, eos };
  if (form === 'decoder') {
    const parts: ChunkParts<PrefixLmRow> = {
      ...base,
      transform: (chunk, rng) => ({ tokens: chunk, prefixLength: prefixSplit(chunk.length, rng) }),
      collate: prefixLmDecoderBatch,
    };
    return parts as ChunkParts<unknown>;
  }
  // [0, k) + EOS and [k, L) + EOS hold at most L tokens each: both sides are L wide.
  const parts: ChunkParts<{ inputs: number[]; targets: number[] }> = {
    ...base,
    transform: (chunk, rng) => prefixLmPair(chunk, prefixSplit(chunk.length, rng), eos),
    collate: (rows) => seq2seqBatch(rows, o.seqLen, o.seqLen, padOf(tok)),
  };
  return parts as ChunkParts<unknown>;
}

export function prefixLmInputs(o: ObjectiveOptions): InputSpec[] {
  const shape = [o.batchSize, o.seqLen];
  if (formOf(o) === 'decoder')
    return [
      { name: 'input_ids', dtype: 'int64', shape },
      { name: 'labels', dtype: 'int64', shape },
      { name: 'prefix_length', dtype: 'int64', shape: [o.batchSize] },
    ];
  return ['input_ids', 'attention_mask', 'decoder_input_ids', 'labels'].map((name) => ({ name, dtype: 'int64' as const, shape }));
}

/** Training batches of split chunks, in the form of o.family. */
export function prefixLmStream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream {
  return chunkStream(docs, o, prefixLmParts(tok, o));
}

export function prefixLmEvalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[] {
  return chunkEvalBatches(docs, o, maxBatches, prefixLmParts(tok, o));
}

registerObjective({
  name: 'prefix-lm',
  description: 'prefix LM (T5): predict the rest of a text from a random-length prefix read bidirectionally (encoder-decoders; decoders with a prefix mask)',
  heads: ['seq2seq'],
  headsFor: (family) => (family === 'decoder' ? ['lm'] : ['seq2seq']),
  inputs: prefixLmInputs,
  stream: prefixLmStream,
  evalBatches: prefixLmEvalBatches,
});

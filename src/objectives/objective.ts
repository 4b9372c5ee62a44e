// The objective plug-in shape. An objective is a pure recipe from token documents to training batches: it declares
// the graph inputs it feeds, names the heads (and so the losses) it needs, and collates documents with a seeded
// generator whose state is saved in checkpoints, so a resumed run draws the same batches. No I/O, no model code:
// objectives run in Node and in a browser alike. Each objective file registers itself at its bottom with
// `registerObjective`; `src/objectives/index.ts` imports them all.
import type { DocumentSource } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import type { Batch } from '../runtime/step.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

export type { HeadName, ModelFamily } from '../models/registry.js';
import type { HeadName, ModelFamily } from '../models/registry.js';

/** A graph input an objective feeds, with its concrete shape for the given options. */
export interface InputSpec {
  name: string;
  dtype: 'int64' | 'float32';
  shape: number[];
}

/** What an objective may know of the tokenizer: sizes and special ids, never the encoder itself. */
export type ObjectiveTokenizer = Pick<Tokenizer, 'vocabSize' | 'specialIds' | 'allSpecialIds' | 'wordStarts' | 'sentinelIds'>;

/** Training batches with a resumable position (the Trainer saves `state()` in trainer_state.json). */
export interface BatchStream {
  next(): Batch;
  state(): JsonValue;
  restore(state: JsonValue): void;
}

/**
 * Every objective option, flat; each objective reads the ones it uses. Defaults are in `src/train/config.ts`
 * (TRAIN_DEFAULTS), documented in docs/objectives.md.
 */
export interface ObjectiveOptions {
  seqLen: number;
  batchSize: number;
  seed: number;
  /** clm: packed documents joined by EOS (HF group_texts) or random windows of the token stream (nanoGPT). */
  blocks: 'packed' | 'windows';
  /** Share of candidate tokens (or words, with wholeWord) chosen for prediction: 0.15. */
  maskProb: number;
  /** How positions are chosen: HF's per-token Bernoulli, Google's fixed budget, or fairseq's floor(p n + U). */
  selection: 'bernoulli' | 'fixed' | 'fairseq';
  /** Google's max_predictions_per_seq (selection "fixed"). */
  maxPredictions: number;
  /** Choose whole words (all their pieces together). */
  wholeWord: boolean;
  /** RoBERTa's dynamic masking (fresh each draw) or BERT's static masking (dupeFactor fixed copies). */
  masking: 'dynamic' | 'static';
  dupeFactor: number;
  /** RoBERTa's FULL-SENTENCES (pack across documents with a separator) or DOC-SENTENCES (do not cross). */
  packing: 'full-sentences' | 'doc-sentences';
  /** NSP: probability of a shorter target length (create_pretraining_data's short_seq_prob). */
  shortSeqProb: number;
  /** SpanBERT: geometric p for span lengths in words, the clip, and the SBO loss weight. */
  spanP: number;
  spanMaxWords: number;
  sboWeight: number;
  /** T5 span corruption: share of tokens that are noise (0.15) and mean noise span length in tokens (3). */
  noiseDensity: number;
  meanNoiseSpanLength: number;
  /**
   * The family of the model the batches are for, set by the pipeline from --arch (objectiveOptions in
   * src/train/pretrain.ts); not a user setting. Objectives whose batches differ by family read it: prefix-lm
   * feeds an encoder-decoder a (prefix -> rest) pair and a decoder one sequence with a prefix length.
   */
  family?: ModelFamily;
}

export interface Objective {
  /** The --objective value. */
  readonly name: string;
  /** One line for --help and error messages. */
  readonly description: string;
  readonly heads: readonly HeadName[];
  /**
   * The heads when they depend on the model family (prefix-lm trains `lm` on a decoder, `seq2seq` on an
   * encoder-decoder); absent: `heads` for every family. Read through `objectiveHeads`.
   */
  headsFor?(family: ModelFamily): readonly HeadName[];
  /** The graph inputs of one micro-batch. */
  inputs(o: ObjectiveOptions): InputSpec[];
  /** Training batches from documents, seeded by `o.seed`. */
  stream(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions): BatchStream;
  /**
   * Up to `maxBatches` held-out batches with a fixed seeded masking (the same on every call), so two evaluations
   * of one model agree.
   */
  evalBatches(docs: DocumentSource, tok: ObjectiveTokenizer, o: ObjectiveOptions, maxBatches: number): Batch[];
}

/** The heads an objective trains on a model of the given family. */
export function objectiveHeads(o: Objective, family?: ModelFamily): readonly HeadName[] {
  return family !== undefined && o.headsFor ? o.headsFor(family) : o.heads;
}

const registry = new Map<string, Objective>();

/** Called once at the bottom of each objective file. */
export function registerObjective(o: Objective): Objective {
  if (registry.has(o.name)) throw new Error(`objective "${o.name}" is registered twice`);
  registry.set(o.name, o);
  return o;
}

export function objectiveNames(): string[] {
  return [...registry.keys()];
}

export function getObjective(name: string): Objective {
  const o = registry.get(name);
  if (!o) throw new Error(`unknown objective "${name}" (known: ${objectiveNames().join(', ')})`);
  return o;
}

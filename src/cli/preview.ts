// `pretrain preview`: show what a pretraining objective does to a few real examples: every token, which were
// replaced by [MASK], by a random token (original -> new), kept but predicted, span boundaries, segments A/B and the
// NSP label; for encoder-decoder objectives (T5 span corruption, prefix LM) the encoder's inputs with their
// sentinels and the decoder's targets; for the decoder-only prefix LM the split point. ANSI colours on a terminal,
// plain markers otherwise, or one JSON object with --json.
// Library code: no process.exit; errors are thrown for the CLI to report.
import { dirname } from 'node:path';
import { readCorpus } from '../data/corpus.js';
import type { DocumentSource, TokenDocument } from '../data/types.js';
import type { JsonValue } from '../io/json.js';
import { getModel } from '../models/registry.js';
import { getObjective, type ObjectiveOptions } from '../objectives/index.js';
import { loadTokenizer, tokenizerFromJson, trainTokenizerAsync, type Tokenizer } from '../tokenizers/index.js';
import { objectiveOptions } from '../train/pretrain-setup.js';
import { resolveConfig } from './config.js';

export interface PreviewOptions {
  arch: string;
  objective: string;
  corpus: string;
  n: number;
  seqLen: number;
  /** A tokenizer folder (or its tokenizer.json); default: train a small one of the kind the model wants. */
  tokenizer?: string;
  seed: number;
  json: boolean;
  color: boolean;
  /** Other objective options (masking rule, whole-word, packing, ...); defaults as `pretrain train`'s. */
  overrides?: Partial<ObjectiveOptions>;
  /** Where the output goes; default process.stdout. */
  write?: (s: string) => void;
}

import { formatPreview, previewExamples, previewTokenText } from '../objectives/preview.js';

export * from '../objectives/preview.js';

/** A small tokenizer of the kind the model trains (RoBERTa's specials for roberta): up to `maxDocs` documents. */
async function previewTokenizer(arch: string, corpus: string, vocabSize = 4000, maxDocs = 200): Promise<Tokenizer> {
  const entry = getModel(arch);
  async function* texts(): AsyncGenerator<string> {
    let n = 0;
    for await (const d of readCorpus(corpus)) {
      yield d.text;
      if (++n >= maxDocs) return;
    }
  }
  const trained = await trainTokenizerAsync(entry.tokenizer, texts(), { vocabSize, style: entry.tokenizerStyle });
  return tokenizerFromJson(trained.tokenizerJson, trained.tokenizerConfig);
}

/** The first documents of a corpus, tokenised in memory, until `minTokens` tokens and `minDocs` documents. */
export async function encodeDocuments(tok: Tokenizer, corpus: string, minTokens: number, minDocs: number): Promise<DocumentSource> {
  const pre = tok.json.pre_tokenizer;
  const spaced = !!pre && typeof pre === 'object' && !Array.isArray(pre) && pre['type'] === 'ByteLevel' && pre['add_prefix_space'] !== true;
  const docs: TokenDocument[] = [];
  let tokens = 0;
  for await (const d of readCorpus(corpus)) {
    const ids = await tok.encodeIdsBatch(d.sentences.map((s, i) => (spaced && i > 0 ? ` ${s}` : s)));
    const bounds = [0];
    const flat: number[] = [];
    for (const s of ids) {
      flat.push(...s);
      bounds.push(flat.length);
    }
    if (!flat.length) continue;
    docs.push({ tokens: Uint32Array.from(flat), sentenceBounds: Uint32Array.from(bounds) });
    tokens += flat.length;
    if (tokens >= minTokens && docs.length >= minDocs) break;
  }
  if (!docs.length) throw new Error(`preview: the corpus ${corpus} gives no tokens`);
  return { documentCount: docs.length, tokenCount: tokens, document: (i) => docs[i]! };
}

/** Run the objective on `n` real examples of the corpus and print them. */
export async function previewCommand(opts: PreviewOptions): Promise<void> {
  const write = opts.write ?? ((s: string) => void process.stdout.write(s));
  if (!(Number.isInteger(opts.n) && opts.n >= 1)) throw new Error(`preview: -n must be an integer >= 1, got ${opts.n}`);
  // The objective's options as `pretrain train` resolves them (defaults, the architecture's recipe), plus overrides.
  const cfg = resolveConfig(undefined, { arch: opts.arch, objective: opts.objective, seqLen: opts.seqLen, batchSize: opts.n, seed: opts.seed });
  const objective = getObjective(cfg.objective.name);
  const kind = getModel(opts.arch).tokenizer;
  const tok = opts.tokenizer
    ? loadTokenizer(opts.tokenizer.endsWith('.json') ? dirname(opts.tokenizer) : opts.tokenizer)
    : await previewTokenizer(opts.arch, opts.corpus);
  const o: ObjectiveOptions = { ...objectiveOptions(cfg), ...opts.overrides };
  const docs = await encodeDocuments(tok, opts.corpus, 4 * opts.n * opts.seqLen, 3);
  const [batch] = objective.evalBatches(docs, tok, o, 1);
  if (!batch) throw new Error('preview: the objective produced no batch');
  const special = new Set(tok.allSpecialIds);
  const text = previewTokenText(tok);
  const mask = tok.specialIds.mask ?? -1;
  const examples = previewExamples(batch, text, (id) => special.has(id), mask, tok.sentinelIds);
  const info: { [k: string]: JsonValue } = {
    objective: objective.name,
    arch: opts.arch,
    tokenizer: opts.tokenizer ?? `${kind} (trained on ${opts.corpus}, vocabulary ${tok.vocabSize})`,
    seq_len: opts.seqLen,
    seed: opts.seed,
  };
  write(formatPreview(examples, { color: opts.color && !opts.json, json: opts.json, info }));
}

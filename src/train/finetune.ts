// Fine-tuning a pretrained model for a task, from any model whose registry entry offers the task's head:
// - 'classify' (sequence classification): a decoder classifies the hidden state of the last token (GPT-1 style,
//   the text then EOS); an encoder classifies the pooled [CLS] state ([CLS] text [SEP], as
//   BertForSequenceClassification);
// - 'tag' (token classification, encoders): one tag per word on the word's first piece, -100 on the others
//   (run_ner.py's alignment, BertForTokenClassification);
// - 'text2text' (encoder-decoders, T5): the input text then EOS into the encoder, the target text then EOS as the
//   decoder's labels; evaluated by greedy generation (exact match, and for classification framed as text the
//   accuracy and macro-F1 over the label words);
// - 'qa' (extractive question answering, encoders and decoders): src/train/qa.ts encodes question/context windows
//   and scores answers; it trains through trainTask here, and loadFinetuned answers with QA checkpoints.
// Sentence pairs ("text_pair") take the tokenizer's pair template (encoders), text EOS pair EOS (decoders), or
// T5's "sentence1: ... sentence2: ..." (text2text).
// Labelled data -> padded batches -> the shared Trainer, which evaluates on a schedule with the task's one scorer
// (log.jsonl, curve, best model, early stopping) -> accuracy and macro-F1 on held-out data, a per-class report in
// the run folder, and a checkpoint whose config.json names the HF task class and carries id2label/label2id. Works
// from a pretrained checkpoint (body weights copied by name, head freshly initialised) or, for comparison, from
// scratch.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../graph/index.js';
import { Ctx, initParameters } from '../nn/index.js';
import { DecoderClassifier } from '../models/classifier.js';
import type { CausalLMInfo } from '../models/index.js';
import type { FinetuneTask, TaskHead, TaskInputs, TaskModel } from '../models/registry.js';
import { taskHead, taskHeads } from '../models/tasks.js';
import type { Backend } from '../runtime/backend.js';
import { Forward, type Batch } from '../runtime/step.js';
import { Seq2SeqGenerator } from '../generate/seq2seq.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import { loadCheckpoint, saveCheckpoint, saveModelInto } from '../io/checkpoint.js';
import type { HfConfig } from '../io/hf-config.js';
import type { JsonValue } from '../io/json.js';
import { writeFileAtomic } from '../io/files.js';
import {
  alignWordLabels, BROWN_CATEGORY, brownDocuments, brownPosData, encodeWithSpecials, EpochShuffler, IGNORE_INDEX, keptPositions,
  DataError, readCorpus, readJsonlObjects, readTaggedJsonl, type BrownGenre, type ShufflerState, type TaggedSentence,
} from '../data/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { accuracy, confusionMatrix, macroF1, perClassScores, squadScores, withoutIgnored, wordAccuracy } from './metrics.js';
import { readLog, type LogRecord } from './log.js';
import { writeLabelReport } from './report.js';
import { claimForNewRun, lockRunFolder } from './run-folder.js';
import { Trainer, type TrainResult } from './trainer.js';
import { QA_DEFAULTS, QaPredictor, qaTemplate, type QaSettings } from './qa-predict.js';
import type { QaAnswer } from '../data/qa-features.js';
import { weightsOf } from './pretrain-setup.js';

export interface Example {
  text: string;
  label: string;
  /** Sentence-pair classification: the second segment (HF pipelines' text_pair). */
  textPair?: string;
}

/** What makes two examples the same one (the held-out guard): the text, and the pair when there is one. */
function exampleKey(x: Example): string {
  return x.textPair === undefined ? x.text : JSON.stringify([x.text, x.textPair]);
}

export interface ClassificationData {
  labels: string[];
  train: Example[];
  eval: Example[];
  /** What the held-out set is, for errors ("held-out.jsonl", "every 10th example of data.jsonl"). */
  evalName?: string;
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** At most `n` examples (0 = all), chosen by a seeded shuffle. */
export function limitExamples<T>(xs: T[], n: number, seed: number): T[] {
  return n > 0 && n < xs.length ? shuffled(xs, seed).slice(0, n) : xs;
}

/** At most `perLabel` examples of each label (few-label training), chosen by a seeded shuffle. */
export function limitPerLabel(xs: Example[], perLabel: number, seed: number): Example[] {
  if (!(perLabel > 0)) return xs;
  const count = new Map<string, number>();
  return shuffled(xs, seed).filter((x) => {
    const n = count.get(x.label) ?? 0;
    count.set(x.label, n + 1);
    return n < perLabel;
  });
}

/**
 * Guards a held-out set: empty, or sharing examples with the training set (by `key`: the text, text and pair, the
 * tokens), is an error naming it and the first shared example, since its scores would be NaN or would measure
 * memorisation.
 */
export function checkHeldOut(trainKeys: readonly string[], evalKeys: readonly string[], evalName: string, unit: string): void {
  if (!evalKeys.length) throw new Error(`${evalName}: the evaluation set is empty (no ${unit} to score); give held-out data with --eval, or more data`);
  const train = new Set(trainKeys);
  const shared = evalKeys.filter((k) => train.has(k));
  if (shared.length)
    throw new Error(`${evalName}: ${shared.length} of its ${evalKeys.length} ${unit}s also occur in the training data (the first: ${JSON.stringify(shared[0]!.length > 80 ? `${shared[0]!.slice(0, 77)}...` : shared[0])}); held-out data must not overlap the training data`);
}

/** At most `perLabel` training examples of each label; a label with fewer is an error naming it (0 = all). */
export function requirePerLabel(xs: Example[], perLabel: number, seed: number): Example[] {
  if (!(perLabel > 0)) return xs;
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x.label, (counts.get(x.label) ?? 0) + 1);
  const short = [...counts].filter(([, n]) => n < perLabel).sort((a, b) => a[1] - b[1]);
  if (short.length)
    throw new Error(`--per-label ${perLabel}: ${short.map(([l, n]) => `label "${l}" has ${n} training example${n === 1 ? '' : 's'}`).join(', ')}; use --per-label ${short[0]![1]} or less (0 = all)`);
  return limitPerLabel(xs, perLabel, seed);
}

/**
 * The Brown genre task: each example is a run of `sentences` consecutive sentences of one document, labelled
 * with its genre (15) or its broad category (press, general prose, learned, fiction); training examples come
 * from the training documents, evaluation ones from `evalSplit` (at most `maxEvalPerLabel` of each label, genre or
 * category, so that a category's share of the held-out set does not depend on how many genres it has).
 */
export function brownGenreData(opts: { sentences?: number; evalSplit?: 'validation' | 'test'; maxEvalPerLabel?: number; seed?: number; labels?: 'genre' | 'category' } = {}): ClassificationData {
  const k = opts.sentences ?? 3;
  const chunks = (split: 'train' | 'validation' | 'test') =>
    brownDocuments(split).flatMap((d) => {
      const out: Example[] = [];
      for (let i = 0; i + k <= d.sentences.length; i += k) out.push({ text: d.sentences.slice(i, i + k).join(' '), label: d.genre });
      return out;
    });
  const train = chunks('train');
  const evalAll = chunks(opts.evalSplit ?? 'validation');
  const relabel = (xs: Example[]) => (opts.labels === 'category' ? xs.map((x) => ({ text: x.text, label: BROWN_CATEGORY[x.label as BrownGenre] })) : xs);
  const ev = limitPerLabel(relabel(evalAll), opts.maxEvalPerLabel ?? 40, (opts.seed ?? 0) + 1);
  const labels = [...new Set(relabel(train).map((x) => x.label))].sort();
  return { labels, train: relabel(train), eval: ev, evalName: `brown-genre (${opts.evalSplit ?? 'validation'} documents)` };
}

/** Labelled examples of a JSONL file: {"text", "label"}, and "text_pair" for sentence pairs (all lines or none). */
async function readLabelledJsonl(file: string): Promise<Example[]> {
  const expected = 'a classification example needs a string "text", a "label" (string or number) and optionally a string "text_pair"';
  const out: Example[] = [];
  for await (const [r, n] of readJsonlObjects(file, expected)) {
    const { text, label } = r;
    const pair = r['text_pair'];
    if (typeof text !== 'string' || (typeof label !== 'string' && typeof label !== 'number') || (pair !== undefined && typeof pair !== 'string')) throw new DataError(expected, file, n);
    if (out.length && (pair === undefined) !== (out[0]!.textPair === undefined))
      throw new DataError(`${pair === undefined ? 'no' : 'a'} "text_pair", unlike line 1: sentence-pair data has "text_pair" on every line`, file, n);
    out.push({ text, label: String(label), ...(pair !== undefined ? { textPair: pair } : {}) });
  }
  return out;
}

/**
 * Labelled JSONL ({"text", "label"}, and "text_pair" for sentence-pair classification); evaluation data from
 * `evalSpec`, or every 10th example held out.
 */
export async function jsonlData(spec: string, evalSpec?: string): Promise<ClassificationData> {
  const read = async (s: string) => {
    const out: Example[] = [];
    if (s.endsWith('.jsonl')) out.push(...(await readLabelledJsonl(s)));
    else
      for await (const d of readCorpus(s)) {
        if (d.label === undefined) throw new Error(`${d.id}: a classification example needs a "label" field`);
        out.push({ text: d.text, label: String(d.label) });
      }
    if (!out.length) throw new Error(`${s}: no labelled examples`);
    return out;
  };
  const all = await read(spec);
  const train = evalSpec ? all : all.filter((_, i) => i % 10 !== 9);
  const ev = evalSpec ? await read(evalSpec) : all.filter((_, i) => i % 10 === 9);
  if ((all[0]!.textPair === undefined) !== (ev[0]?.textPair === undefined) && ev.length)
    throw new Error(`${evalSpec}: ${ev[0]!.textPair === undefined ? 'has no' : 'has'} "text_pair", unlike ${spec}`);
  const labels = [...new Set(all.map((x) => x.label))].sort();
  for (const x of ev) if (!labels.includes(x.label)) throw new Error(`evaluation label "${x.label}" never occurs in the training data`);
  return { labels, train, eval: ev, evalName: evalSpec ?? `the held-out every 10th example of ${spec}` };
}


/** Sentences with one tag per word, and the tag set (ids are indices into `labels`). */
export interface TaggingData {
  labels: string[];
  train: TaggedSentence[];
  eval: TaggedSentence[];
  /** What the held-out set is, for errors ("held-out.jsonl", "every 10th example of data.jsonl"). */
  evalName?: string;
}

/**
 * The Brown part-of-speech task: the training documents' sentences with universal tags; evaluation sentences from
 * `evalSplit` documents (at most `maxEval`, chosen by a seeded shuffle; 0 = all).
 */
export function brownPosTagData(opts: { evalSplit?: 'validation' | 'test'; maxEval?: number; seed?: number } = {}): TaggingData {
  const train = brownPosData('train');
  // A few held-out documents' sentences are also training sentences ("." or "``" alone): they are dropped, so that
  // the held-out guard holds for the bundled split.
  const seen = new Set(train.map((x) => JSON.stringify(x.tokens)));
  const held = brownPosData(opts.evalSplit ?? 'validation').filter((x) => !seen.has(JSON.stringify(x.tokens)));
  const ev = limitExamples(held, opts.maxEval ?? 1000, (opts.seed ?? 0) + 1);
  return { labels: tagSet(train), train, eval: ev, evalName: `brown-pos (${opts.evalSplit ?? 'validation'} documents)` };
}

function tagSet(xs: TaggedSentence[]): string[] {
  return [...new Set(xs.flatMap((x) => x.tags))].sort();
}

/** Tagged JSONL ({"tokens", "tags"}); evaluation data from `evalSpec`, or every 10th sentence held out. */
export async function taggedJsonlData(spec: string, evalSpec?: string): Promise<TaggingData> {
  const all = await readTaggedJsonl(spec);
  const train = evalSpec ? all : all.filter((_, i) => i % 10 !== 9);
  const ev = evalSpec ? await readTaggedJsonl(evalSpec) : all.filter((_, i) => i % 10 === 9);
  const labels = tagSet(all);
  for (const x of ev) for (const t of x.tags) if (!labels.includes(t)) throw new Error(`evaluation tag "${t}" never occurs in the training data`);
  return { labels, train, eval: ev, evalName: evalSpec ?? `the held-out every 10th sentence of ${spec}` };
}

/** One text-to-text example: what the encoder reads and what the decoder should write. */
export interface Text2TextExample {
  input: string;
  target: string;
}

/**
 * Text-to-text data; `labels` when it is classification framed as text (the targets are label words), which adds
 * accuracy and macro-F1 over those words to the exact match.
 */
export interface Text2TextData {
  train: Text2TextExample[];
  eval: Text2TextExample[];
  /** What the held-out set is, for errors ("held-out.jsonl", "every 10th example of data.jsonl"). */
  evalName?: string;
  labels?: string[];
  /** The targets are one word per input word (tags): scored by word accuracy as well, which is then the primary metric. */
  wordTargets?: boolean;
  /**
   * Question answering written as text (T5's SQuAD): every gold answer of each held-out example. Generations are
   * then scored as the official SQuAD script scores them (normalised exact match and token F1, best over the golds,
   * F1 the primary metric), the same scores as the span heads', so the two kinds of model compare directly.
   */
  answers?: string[][];
}

/**
 * Classification as T5 frames it (GLUE): the input is "<prefix>: <text>", or for a sentence pair
 * "<prefix> sentence1: <text> sentence2: <pair>" (T5's RTE/MRPC format); the target is the label word.
 */
export function classificationAsText2Text(d: ClassificationData, prefix: string): Text2TextData {
  const input = (x: Example) =>
    x.textPair === undefined ? (prefix ? `${prefix}: ${x.text}` : x.text) : `${prefix ? `${prefix} ` : ''}sentence1: ${x.text} sentence2: ${x.textPair}`;
  const frame = (xs: Example[]) => xs.map((x) => ({ input: input(x), target: x.label }));
  return { train: frame(d.train), eval: frame(d.eval), labels: [...d.labels], ...(d.evalName ? { evalName: d.evalName } : {}) };
}

async function readText2TextJsonl(spec: string): Promise<{ pairs: Text2TextExample[]; labelled: Example[] }> {
  const pairs: Text2TextExample[] = [];
  const labelled: Example[] = [];
  const expected = 'a text2text example needs "input" and "target" (or "text" and "label" for classification)';
  for await (const [r, n] of readJsonlObjects(spec, expected)) {
    if (typeof r['input'] === 'string' && (typeof r['target'] === 'string' || typeof r['target'] === 'number')) pairs.push({ input: r['input'], target: String(r['target']) });
    else if (typeof r['text'] === 'string' && r['label'] !== undefined && r['label'] !== null) labelled.push({ text: r['text'], label: String(r['label']) });
    else throw new DataError(expected, spec, n);
  }
  if (pairs.length && labelled.length) throw new Error(`${spec}: mixes "input"/"target" and "text"/"label" examples`);
  if (!pairs.length && !labelled.length) throw new Error(`${spec}: no examples`);
  return { pairs, labelled };
}

/**
 * Text-to-text JSONL: {"input", "target"} per line, or {"text", "label"} (classification, framed with `prefix`);
 * evaluation data from `evalSpec`, or every 10th example held out.
 */
export async function text2textJsonlData(spec: string, evalSpec: string | undefined, prefix: string): Promise<Text2TextData> {
  const all = await readText2TextJsonl(spec);
  if (all.labelled.length) return classificationAsText2Text(await jsonlData(spec, evalSpec), prefix);
  const ev = evalSpec ? (await readText2TextJsonl(evalSpec)).pairs : all.pairs.filter((_, i) => i % 10 === 9);
  if (!ev.length) throw new Error(`${evalSpec ?? spec}: no "input"/"target" evaluation examples`);
  return { train: evalSpec ? all.pairs : all.pairs.filter((_, i) => i % 10 !== 9), eval: ev, evalName: evalSpec ?? `the held-out every 10th example of ${spec}` };
}

/** The pretrained model (its config, weights and tokenizer); from scratch when `scratch` is set. */
export interface FinetuneBase {
  hf: HfConfig;
  store?: ParameterStore;
  tokenizer: Tokenizer;
  tokenizerDir: string;
}

/** Options every task shares. */
export interface FinetuneCommonOptions {
  backend: Backend;
  base: FinetuneBase;
  scratch: boolean;
  /** The run folder: checkpoints, log.jsonl, curves, reports and, at the end, the fine-tuned model. */
  out: string;
  /** Tokens per example, special tokens (or EOS) included. */
  maxLen: number;
  batchSize: number;
  /** Passes over the training examples (HF num_train_epochs; default 3); `maxSteps` overrides it. */
  epochs?: number;
  /** Optimizer steps (HF max_steps); when > 0 it overrides `epochs`. */
  maxSteps?: number;
  lr: number;
  /** Linear warmup steps (HF warmup_steps); wins over warmupRatio. */
  warmupSteps?: number;
  /** Linear warmup over this fraction of the steps, rounded up (HF warmup_ratio; GPT-1: 0.002, BERT: 0.1); default 0. */
  warmupRatio?: number;
  weightDecay: number;
  gradClip: number;
  dropout: number;
  seed: number;
  /** Evaluate every this many steps (HF eval_strategy="steps", eval_steps); 0 or undefined: only at the end. */
  evalEvery?: number;
  /**
   * HF load_best_model_at_end: the checkpoint of the best evaluation is kept besides the last, and the final model
   * (and the scores returned) is the best one.
   */
  saveBest?: boolean;
  /**
   * The metric that decides the best model and early stopping (HF metric_for_best_model): default the task's
   * primaryMetric. As in HF, a name ending in "loss" is lower-is-better, every other metric higher-is-better.
   */
  metricForBestModel?: string;
  /** Stop after this many evaluations in a row without improvement (HF early_stopping_patience); needs evalEvery. */
  patience?: number;
  /** Continue the run in `out`: true = its newest checkpoint-<step>, a string = that checkpoint folder. */
  resume?: boolean | string;
  /** A new run in an `out` that holds a run deletes the old one (HF overwrite_output_dir); otherwise it is an error. */
  overwrite?: boolean;
  /** Stop (saving a checkpoint) after this many steps of this run: lets tests interrupt a run. */
  stopAfter?: number;
  progress?: boolean;
  /** Progress-bar label. */
  label?: string;
  /** Abort to stop after the current step: a checkpoint is saved, and the model is still evaluated. */
  signal?: AbortSignal;
}

export interface FinetuneOptions extends FinetuneCommonOptions {
  data: ClassificationData;
  /** Weight of a decoder's auxiliary LM loss (GPT-1: 0.5; 0 = off). */
  auxLm: number;
}

export interface TagFinetuneOptions extends FinetuneCommonOptions {
  data: TaggingData;
}

export interface Text2TextFinetuneOptions extends FinetuneCommonOptions {
  data: Text2TextData;
  /** Target tokens per example, EOS included (longer targets are cut); `maxLen` bounds the input. */
  maxTargetLen: number;
}

export interface FinetuneResult {
  /**
   * Classification: over held-out examples; tagging: over held-out words (each word's first piece). Text2text:
   * exact match, or with labels the accuracy over label words; macro-F1 is NaN for text2text without labels.
   */
  accuracy: number;
  macroF1: number;
  trainExamples: number;
  evalExamples: number;
  /** Tagging: the held-out words scored (words cut by maxLen are not). */
  evalWords?: number;
  /**
   * Text2text: the share of held-out examples whose greedy generation equals the target (whitespace-trimmed).
   * QA, and text2text with `answers`: SQuAD exact match (also `accuracy`).
   */
  exactMatch?: number;
  /** QA (span heads, and text2text with `answers`): SQuAD token F1 (the primary metric), a fraction 0..1 like every score here. */
  f1?: number;
  /** Text2text classification: the share of generations that are one of the labels. */
  validLabels?: number;
  /** Text2text: the first few held-out inputs, targets and generations. */
  samples?: { input: string; target: string; output: string }[];
  /** The metric the task is judged by: accuracy (classify, tag, text2text with labels), f1 (QA) or exact_match (text2text). */
  primaryMetric: string;
  /**
   * Every evaluation of the run (resumed runs included), as in log.jsonl: the step and the task's metrics (classify:
   * accuracy, macro_f1, loss; tag: accuracy, macro_f1, loss; text2text: exact_match, loss and, with labels,
   * accuracy, macro_f1, valid_labels).
   */
  curve: { step: number; metrics: Record<string, number> }[];
  /** With saveBest (or patience): the best evaluation of the watched metric; with saveBest the scores above are its. */
  best?: { metric: string; value: number; step: number };
  /** Classify and tag: per-class precision, recall, F1 and support on the held-out data (sklearn's definitions). */
  perClass?: { label: string; precision: number; recall: number; f1: number; support: number }[];
  /** Classify and tag: rows = true label, columns = predicted label, in `labels` order. */
  confusion?: number[][];
  /** The optimizer steps taken (fewer than plannedSteps when stopped early). */
  steps: number;
  /** The steps maxSteps or the epochs asked for. */
  plannedSteps: number;
  /** 'done', or why training stopped early ('interrupt': the signal was aborted; 'early-stop': patience ran out). */
  stoppedBy: TrainResult['stoppedBy'];
  /** The final checkpoint folder (the best one with saveBest); the run folder when training stopped before the end. */
  dir: string;
  losses: number[];
  /** The HF class of the saved checkpoint. */
  architecture: string;
}

/** Encoded examples: rows of maxLen ids, masks, and `width` labels per row (1: classify; maxLen: tag; 2: qa). */
export interface Encoded {
  rows: number;
  width: number;
  ids: Int32Array;
  mask: Int32Array;
  /** Segment ids (sentence pairs and QA's question/context: 0 for the first, 1 for the second with BERT's template); absent = all 0. */
  types?: Int32Array;
  y: Int32Array;
}

function padId(tok: Tokenizer, hf: HfConfig, fallback?: number): number {
  return tok.specialIds.pad ?? hf.pad_token_id ?? fallback ?? 0;
}

function eosId(tok: Tokenizer, hf: HfConfig): number {
  const e = tok.specialIds.eos ?? (Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id);
  if (e === undefined || e === null) throw new Error(`${hf.model_type}: no EOS token (tokenizer or config.json) to classify from`);
  return e;
}

/** Token counts of a pair's two segments within `budget`, cut as HF's truncation="longest_first" (the longer loses one at a time). */
export function longestFirst(a: number, b: number, budget: number): [number, number] {
  if (budget < 0) throw new Error(`a sentence pair needs more special tokens than --max-len allows (${budget} left)`);
  while (a + b > budget) {
    if (a > b) a--;
    else b--;
  }
  return [a, b];
}

/** One framed example: token ids and segment ids. */
interface Framed {
  ids: number[];
  types: number[];
}

function zeroTypes(ids: number[]): Framed {
  return { ids, types: new Array<number>(ids.length).fill(0) };
}

/**
 * Token ids of examples as the head frames them, truncated to maxLen: the text then EOS (decoders; a pair is
 * text EOS pair EOS), or the tokenizer's template (encoders: [CLS] text [SEP]; for a pair the tokenizer's pair
 * template, [CLS] A [SEP] B [SEP] with token types 0/1 for BERT, <s> A </s></s> B </s> for RoBERTa).
 */
async function frameExamples(tok: Tokenizer, hf: HfConfig, head: TaskHead, xs: readonly Pick<Example, 'text' | 'textPair'>[], maxLen: number): Promise<Framed[]> {
  const texts = xs.map((x) => x.text);
  const pairs = xs.some((x) => x.textPair !== undefined);
  if (head.framing === 'eos') {
    const eos = eosId(tok, hf);
    const a = await tok.encodeIdsBatch(texts);
    const b = pairs ? await tok.encodeIdsBatch(xs.map((x) => x.textPair ?? '')) : [];
    return xs.map((x, i) => {
      if (x.textPair === undefined) return zeroTypes([...a[i]!.slice(0, maxLen - 1), eos]);
      const [ka, kb] = longestFirst(a[i]!.length, b[i]!.length, maxLen - 2);
      return zeroTypes([...a[i]!.slice(0, ka), eos, ...b[i]!.slice(0, kb), eos]);
    });
  }
  const singles = await encodeWithSpecials(tok, texts);
  const lenA = pairs ? (await tok.encodeIdsBatch(texts)).map((e) => e.length) : [];
  const lenB = pairs ? (await tok.encodeIdsBatch(xs.map((x) => x.textPair ?? ''))).map((e) => e.length) : [];
  const out: Framed[] = [];
  for (let i = 0; i < xs.length; i++) {
    const pair = xs[i]!.textPair;
    if (pair === undefined) {
      const e = singles[i]!;
      out.push(zeroTypes(keptPositions(e, maxLen).map((j) => e.ids[j]!)));
      continue;
    }
    const e = await tok.encode(xs[i]!.text, { pair });
    const specials = e.specialTokensMask.filter((m) => m === 1).length;
    if (!specials) throw new Error(`${hf.model_type}: the tokenizer has no pair template (post_processor) to join a text and its text_pair`);
    // The template's other positions are the text's pieces, then the pair's; each segment keeps its first pieces.
    const [ka, kb] = longestFirst(lenA[i]!, lenB[i]!, maxLen - specials);
    let seen = 0;
    const keep = e.ids.map((_, j) => {
      if (e.specialTokensMask[j] === 1) return true;
      const k = seen++;
      return k < lenA[i]! ? k < ka : k - lenA[i]! < kb;
    });
    out.push({ ids: e.ids.filter((_, j) => keep[j]), types: e.typeIds.filter((_, j) => keep[j]) });
  }
  return out;
}

function packRows(rows: number[][], maxLen: number, pad: number): Pick<Encoded, 'rows' | 'ids' | 'mask'> {
  const ids = new Int32Array(rows.length * maxLen).fill(pad);
  const mask = new Int32Array(rows.length * maxLen);
  rows.forEach((r, i) => {
    ids.set(r, i * maxLen);
    mask.fill(1, i * maxLen, i * maxLen + r.length);
  });
  return { rows: rows.length, ids, mask };
}

async function encodeClassification(tok: Tokenizer, hf: HfConfig, head: TaskHead, xs: Example[], labels: string[], maxLen: number, pad: number): Promise<Encoded> {
  const framed = await frameExamples(tok, hf, head, xs, maxLen);
  const types = new Int32Array(xs.length * maxLen);
  framed.forEach((f, i) => types.set(f.types, i * maxLen));
  return { ...packRows(framed.map((f) => f.ids), maxLen, pad), types, width: 1, y: Int32Array.from(xs, (x) => labels.indexOf(x.label)) };
}

/**
 * The model inputs of classification examples as fine-tuning feeds them (input_ids, attention_mask, token_type_ids
 * for heads that read them, labels), padded to maxLen: what tests and tools inspect.
 */
export async function classificationBatch(base: Pick<FinetuneBase, 'hf' | 'tokenizer'>, task: FinetuneTask, xs: Example[], labels: string[], maxLen: number): Promise<Batch> {
  const head = taskHead(base.hf.model_type, task);
  const pad = padId(base.tokenizer, base.hf, head.framing === 'eos' ? eosId(base.tokenizer, base.hf) : undefined);
  const enc = await encodeClassification(base.tokenizer, base.hf, head, xs, labels, maxLen, pad);
  return batchOf(enc, xs.map((_, i) => i), maxLen, head.tokenTypes);
}

async function encodeTagging(tok: Tokenizer, xs: TaggedSentence[], labels: string[], maxLen: number, pad: number): Promise<Encoded> {
  const index = new Map(labels.map((l, i) => [l, i]));
  const aligned = await alignWordLabels(tok, xs.map((x) => x.tokens), maxLen, xs.map((x) => x.tags.map((t) => index.get(t) ?? IGNORE_INDEX)));
  const y = new Int32Array(xs.length * maxLen).fill(IGNORE_INDEX);
  aligned.forEach((a, i) => y.set(a.labels, i * maxLen));
  return { ...packRows(aligned.map((a) => a.ids), maxLen, pad), width: maxLen, y };
}

function batchOf(d: Encoded, rows: number[], maxLen: number, tokenTypes: boolean): Batch {
  const ids = new BigInt64Array(rows.length * maxLen);
  const mask = new BigInt64Array(rows.length * maxLen);
  const y = new BigInt64Array(rows.length * d.width);
  rows.forEach((r, i) => {
    for (let t = 0; t < maxLen; t++) {
      ids[i * maxLen + t] = BigInt(d.ids[r * maxLen + t]!);
      mask[i * maxLen + t] = BigInt(d.mask[r * maxLen + t]!);
    }
    for (let k = 0; k < d.width; k++) y[i * d.width + k] = BigInt(d.y[r * d.width + k]!);
  });
  const shape = [rows.length, maxLen];
  const b: Batch = {
    input_ids: { dtype: 'int64', shape, data: ids },
    attention_mask: { dtype: 'int64', shape, data: mask },
    labels: { dtype: 'int64', shape: d.width === 1 ? [rows.length] : [rows.length, d.width], data: y },
  };
  if (tokenTypes) {
    const types = new BigInt64Array(rows.length * maxLen);
    if (d.types) rows.forEach((r, i) => { for (let t = 0; t < maxLen; t++) types[i * maxLen + t] = BigInt(d.types![r * maxLen + t]!); });
    b['token_type_ids'] = { dtype: 'int64', shape, data: types };
  }
  return b;
}

/** The graph inputs of a task model: ids, mask, token types where the head reads them. */
function taskInputs(g: Graph, head: TaskHead, b: number | string, t: number | string): TaskInputs {
  return {
    inputIds: g.input('input_ids', 'int64', [b, t]),
    attentionMask: g.input('attention_mask', 'int64', [b, t]),
    ...(head.tokenTypes ? { tokenTypeIds: g.input('token_type_ids', 'int64', [b, t]) } : {}),
  };
}

/**
 * Parameters for a task model: pretrained ones copied by name (unless scratch; the head's basePrefix stripped where
 * the pretrained checkpoint lacks it), the rest freshly initialised.
 */
function initTaskStore(model: TaskModel, head: TaskHead, base: FinetuneBase, scratch: boolean, seed: number): ParameterStore {
  const specs = model.parameters();
  const pretrained = new Map<string, { shape: number[]; data: Float32Array }>();
  const prefix = head.basePrefix ? `${head.basePrefix}.` : undefined;
  const source = (name: string) => (prefix && name.startsWith(prefix) && !base.store?.params.has(name) ? name.slice(prefix.length) : name);
  for (const s of specs) {
    const from = source(s.name);
    if (!scratch && base.store?.params.has(from)) pretrained.set(s.name, { shape: base.store.shapes.get(from)!, data: base.store.get(from).slice() });
  }
  if (!scratch && base.store && pretrained.size === 0) throw new Error(`no parameter of the pretrained ${base.hf.model_type} checkpoint matches the task model's names`);
  return storeFromWeights(specs, pretrained, `the pretrained ${base.hf.model_type} checkpoint`, initParameters(specs, seed));
}

/** What a task's scorer sees: the model being trained, its parameters and the encoded evaluation data. */
export interface ScoreContext {
  model: TaskModel;
  store: ParameterStore;
  head: TaskHead;
  ev: Encoded;
  pad: number;
}

/** A task's evaluation of the current weights: its metrics (log.jsonl, curve) and what the final report needs. */
export interface Scores {
  metrics: Record<string, number>;
}

/** A trained task model and its scores (those of the final weights: the best ones with saveBest). */
interface Trained<S extends Scores> {
  head: TaskHead;
  scores: S;
  steps: number;
  plannedSteps: number;
  stoppedBy: TrainResult['stoppedBy'];
  dir: string;
  losses: number[];
  architecture: string;
  primaryMetric: string;
  curve: FinetuneResult['curve'];
  best?: FinetuneResult['best'];
}

/** The optimizer steps a run plans: maxSteps, else the epochs over the examples (HF's rounding up). */
export function plannedSteps(o: Pick<FinetuneCommonOptions, 'maxSteps' | 'epochs'>, examples: number, batchSize: number): number {
  if (o.maxSteps !== undefined && o.maxSteps > 0) {
    if (!Number.isInteger(o.maxSteps)) throw new Error(`--max-steps must be an integer >= 1, got ${o.maxSteps}`);
    return o.maxSteps;
  }
  const epochs = o.epochs ?? 3;
  if (!(epochs > 0)) throw new Error(`--epochs must be > 0, got ${epochs}`);
  return Math.max(1, Math.ceil((epochs * examples) / batchSize));
}

/** Warmup steps as HF computes them: warmup_steps if given, else ceil(warmup_ratio * steps). */
export function warmupSteps(o: Pick<FinetuneCommonOptions, 'warmupSteps' | 'warmupRatio'>, steps: number): number {
  if (o.warmupSteps !== undefined) {
    if (!(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0)) throw new Error(`--warmup-steps must be an integer >= 0, got ${o.warmupSteps}`);
    return o.warmupSteps;
  }
  const r = o.warmupRatio ?? 0;
  if (!(r >= 0 && r <= 1)) throw new Error(`--warmup-ratio must be in [0, 1], got ${r}`);
  return Math.ceil(r * steps);
}

/** Held-out rows in batches of 32 (evaluation and prediction). */
function evalRowBatches(ev: Encoded, maxLen: number, tokenTypes: boolean): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < ev.rows; i += 32) out.push(batchOf(ev, Array.from({ length: Math.min(32, ev.rows - i) }, (_, k) => i + k), maxLen, tokenTypes));
  return out;
}

/** An eval record's numbers less its kind and step: a point of the metric curve. */
function curveOf(records: readonly LogRecord[]): FinetuneResult['curve'] {
  return records.filter((r) => r.kind === 'eval').map((r) => ({
    step: r.step,
    metrics: Object.fromEntries(Object.entries(r).filter(([k, v]) => typeof v === 'number' && k !== 'step' && k !== 'perplexity')) as Record<string, number>,
  }));
}

/**
 * Train a task model on encoded data with the shared Trainer and save the checkpoint (config.json with the HF
 * task class and, with labels, id2label/label2id). Every task goes through here; only the encoding and the
 * scorer differ. The scorer is the task's one evaluation: the Trainer calls it at each scheduled evaluation
 * (log.jsonl, best model, patience) and its result on the final weights is what the task reports.
 */
export async function trainTask<S extends Scores>(o: FinetuneCommonOptions, task: FinetuneTask, labels: string[], examples: number,
  encodeSet: (head: TaskHead, pad: number) => Promise<{ train: Encoded; ev: Encoded }>,
  scorer: (c: ScoreContext) => () => Promise<S>, metrics: { primary: string; all: string[] }, auxLm = 0): Promise<Trained<S>> {
  const primaryMetric = metrics.primary;
  if (examples === 0) throw new Error('no training examples');
  const { maxLen } = o;
  const head = taskHead(o.base.hf.model_type, task);
  // Fewer examples than a batch (a tiny label budget): one batch holds them all.
  const batchSize = Math.min(o.batchSize, examples);
  const model = head.build(o.base.hf, labels.length, { dropout: o.dropout, auxLm });
  const store = initTaskStore(model, head, o.base, o.scratch, o.seed);
  const pad = padId(o.base.tokenizer, o.base.hf, head.framing === 'eos' ? eosId(o.base.tokenizer, o.base.hf) : undefined);
  const { train, ev } = await encodeSet(head, pad);

  const steps = plannedSteps(o, examples, batchSize);
  const warmup = warmupSteps(o, steps);
  const evalEvery = o.evalEvery ?? 0;
  if (!(Number.isInteger(evalEvery) && evalEvery >= 0)) throw new Error(`--eval-every must be an integer >= 0, got ${evalEvery}`);
  if ((o.patience ?? 0) > 0 && evalEvery === 0) throw new Error('--patience counts evaluations: give --eval-every too (with evaluation only at the end there is nothing to stop early)');
  const watched = o.metricForBestModel ?? primaryMetric;
  const known = ['loss', ...metrics.all];
  if (!known.includes(watched.replace(/^eval_/, ''))) throw new Error(`--save-best ${watched}: not a metric of --task ${task} (its metrics: ${known.join(', ')})`);
  const shuffler = new EpochShuffler(examples, o.seed);
  const labelsInput = (g: Graph, b: number | string): Tensor => g.input('labels', 'int64', train.width === 1 ? [b] : [b, train.width]);
  const hf: HfConfig = {
    ...o.base.hf,
    ...(labels.length
      ? { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) }
      : {}),
    pad_token_id: pad,
  };
  await checkRunSettings(o, {
    task, model_type: o.base.hf.model_type, scratch: o.scratch, labels, train_examples: examples, eval_examples: ev.rows, batch_size: batchSize,
    max_len: maxLen, max_steps: steps, warmup_steps: warmup, lr: o.lr, weight_decay: o.weightDecay, grad_clip: o.gradClip, dropout: o.dropout,
    seed: o.seed, eval_every: evalEvery, metric_for_best_model: watched, save_best: o.saveBest === true, patience: o.patience ?? 0,
  });
  const score = scorer({ model, store, head, ev, pad });
  let last: { step: number; scores: S } | undefined;
  const evalBatches = evalRowBatches(ev, maxLen, head.tokenTypes);
  const trainer = new Trainer(o.backend, store, {
    trainLoss: (g) => model.loss(new Ctx(g, true, o.dropout), taskInputs(g, head, batchSize, maxLen), labelsInput(g, batchSize)),
    evalOutputs: (g) => ({ loss: model.loss(new Ctx(g, false), taskInputs(g, head, 'batch', maxLen), labelsInput(g, 'batch')) }),
    evalBatches: () => evalBatches,
    evaluateTask: async () => {
      last = { step: store.step, scores: await score() };
      return last.scores.metrics;
    },
    train: {
      next: () => batchOf(train, Array.from({ length: batchSize }, () => shuffler.next()), maxLen, head.tokenTypes),
      state: () => shuffler.getState() as unknown as JsonValue,
      restore: (s) => shuffler.setState(s as unknown as ShufflerState),
    },
    tokensPerMicroBatch: batchSize * maxLen,
    save: async (dir, resume, final) => {
      const files = { config: hf, architectures: [head.architecture], weights: weightsOf(store), tokenizer: { dir: o.base.tokenizerDir } };
      await saveCheckpoint(dir, { ...files, ...resume });
      // The finished model is also written at the run folder's root (from_pretrained(run folder), predict --model).
      if (final) await saveModelInto(o.out, files);
    },
  }, {
    outDir: o.out, maxSteps: steps, gradAccum: 1, lr: o.lr, warmup, decay: 'linear',
    minLrRatio: 0, gradClip: o.gradClip, evalEvery, saveEvery: 0, keepLast: 1, seed: o.seed, resume: o.resume ?? false,
    progress: o.progress, label: o.label ?? 'fine-tune', signal: o.signal, stopAfter: o.stopAfter,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay },
    bestMetric: { name: watched, greaterIsBetter: !watched.endsWith('loss') }, saveBest: o.saveBest, patience: o.patience,
  });
  const r = await trainer.run();
  // The final weights are the last evaluated ones unless the best were loaded back (saveBest) or training stopped
  // between evaluations; then they are scored again, by the same scorer.
  const reloaded = r.best?.checkpoint !== undefined && r.finalDir === r.best.checkpoint && r.best.step !== r.step;
  const scores = last && last.step === r.step && !reloaded ? last.scores : await score();
  const watchBest = o.saveBest || (o.patience ?? 0) > 0;
  return {
    head, scores, primaryMetric, steps: r.step, plannedSteps: steps, stoppedBy: r.stoppedBy, dir: r.finalDir ?? o.out, losses: r.losses,
    architecture: head.architecture, curve: curveOf((await readLog(path.join(o.out, 'log.jsonl'))).records),
    ...(watchBest && r.best ? { best: { metric: r.best.metric, value: r.best.value, step: r.best.step } } : {}),
  };
}

/** The settings of a fine-tuning run, in its folder: a resume must keep them (the same data, steps and schedule). */
export const FINETUNE_CONFIG_FILE = 'finetune_config.json';

/**
 * What a resume cannot change, as `pretrain train`'s: the model, the data and the batches (the learning rate, the
 * steps and the evaluation schedule may change, as there).
 */
const FIXED_ON_RESUME = ['task', 'model_type', 'scratch', 'labels', 'train_examples', 'eval_examples', 'batch_size', 'max_len'];

/**
 * A new run records its settings; a resumed one must keep the FIXED_ON_RESUME ones, or it would not continue the
 * same run (an error lists every difference).
 */
async function checkRunSettings(o: FinetuneCommonOptions, settings: Record<string, JsonValue>): Promise<void> {
  const file = path.join(o.out, FINETUNE_CONFIG_FILE);
  if (o.resume && existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, JsonValue>;
    const changed = FIXED_ON_RESUME.filter((k) => k in saved && JSON.stringify(saved[k]) !== JSON.stringify(settings[k]))
      .map((k) => `${k} ${JSON.stringify(settings[k])} (the run has ${JSON.stringify(saved[k])})`);
    if (changed.length)
      throw new Error(`--resume: ${changed.join(', ')}: a resumed fine-tuning keeps the settings and data of ${file}; use them, or start a new run in another --out`);
    return;
  }
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}

/**
 * Runs `fn` holding the run folder's lock; a new run refuses a folder that holds a run unless `overwrite` (as
 * `pretrain train`), and `resume` with `overwrite` is an error.
 */
export async function inRunFolder<T>(o: FinetuneCommonOptions, fn: () => Promise<T>): Promise<T> {
  if (o.resume && o.overwrite) throw new Error('--resume continues the run in --out and --overwrite deletes it: give one of them');
  await mkdir(o.out, { recursive: true });
  const lock = lockRunFolder(o.out);
  try {
    if (!o.resume) claimForNewRun(o.out, o.overwrite === true, [path.resolve(o.base.tokenizerDir)]);
    return await fn();
  } finally {
    lock.release();
  }
}

/** The argmax class of every evaluation row ([rows * width]): classification and tagging. */
function argmaxScorer(o: FinetuneCommonOptions, task: FinetuneTask, numLabels: number, c: ScoreContext): () => Promise<Int32Array> {
  const { maxLen } = o;
  const { ev, head } = c;
  let fwd: Forward | undefined;
  const batches = evalRowBatches(ev, maxLen, head.tokenTypes);
  return async () => {
    fwd ??= await Forward.compile(o.backend, (g) => ({ logits: c.model.forward(new Ctx(g), taskInputs(g, head, 'batch', maxLen)) }), c.store, task);
    const pred = new Int32Array(ev.rows * ev.width);
    let at = 0;
    for (const b of batches) {
      const logits = (await fwd.run(b, ['logits'])).logits.data as Float32Array;
      const n = logits.length / numLabels;
      for (let k = 0; k < n; k++) pred[at + k] = argmax(logits.subarray(k * numLabels, (k + 1) * numLabels));
      at += n;
    }
    return pred;
  };
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

export function classifierFor(info: CausalLMInfo, numLabels: number): DecoderClassifier {
  return new DecoderClassifier(info.model, info.hiddenSize, numLabels);
}

/** Label-id predictions against the truth, with the report's numbers: argmax tasks (classify, tag). */
interface LabelScores extends Scores {
  truth: number[];
  pred: number[];
}

/** Accuracy and macro-F1 over the pairs whose truth is not IGNORE_INDEX (tagging's continuation pieces). */
function labelScores(truth: ArrayLike<number>, pred: ArrayLike<number>): LabelScores {
  const { yTrue: t, yPred: p } = withoutIgnored(truth, pred, IGNORE_INDEX);
  return { truth: t, pred: p, metrics: { accuracy: accuracy(t, p), macro_f1: macroF1(t, p) } };
}

/**
 * The per-class scores (over the labels in the truth or the predictions, as sklearn's classification_report, so
 * that their macro average is the macro-F1) and the confusion matrix over all labels.
 */
function labelReport(s: LabelScores, labels: string[]): Pick<FinetuneResult, 'perClass' | 'confusion'> {
  const ids = labels.map((_, i) => i);
  return {
    perClass: perClassScores(s.truth, s.pred).map((c) => ({ label: labels[c.label]!, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
    confusion: confusionMatrix(s.truth, s.pred, ids).matrix,
  };
}

/**
 * Sequence classification: a decoder classifies its last token (the text then EOS), an encoder its pooled [CLS]
 * state; which one the checkpoint's model_type decides (its registry entry's 'classify' head).
 */
export async function finetuneClassifier(o: FinetuneOptions): Promise<FinetuneResult> {
  const { data } = o;
  checkHeldOut(data.train.map(exampleKey), data.eval.map(exampleKey), data.evalName ?? 'the evaluation set', 'example');
  return inRunFolder(o, async () => {
    const r = await trainTask(o, 'classify', data.labels, data.train.length, async (head, pad) => ({
      train: await encodeClassification(o.base.tokenizer, o.base.hf, head, data.train, data.labels, o.maxLen, pad),
      ev: await encodeClassification(o.base.tokenizer, o.base.hf, head, data.eval, data.labels, o.maxLen, pad),
    }), (c) => {
      const predict = argmaxScorer(o, 'classify', data.labels.length, c);
      return async () => labelScores(c.ev.y, await predict());
    }, { primary: 'accuracy', all: ['accuracy', 'macro_f1'] }, o.auxLm);
    const result: FinetuneResult = {
      accuracy: r.scores.metrics.accuracy!, macroF1: r.scores.metrics.macro_f1!, trainExamples: data.train.length, evalExamples: data.eval.length,
      ...labelReport(r.scores, data.labels), ...common(r),
    };
    await writeLabelReport(o.out, { task: 'classify', labels: data.labels, ...result, perClass: result.perClass!, confusion: result.confusion! });
    return result;
  });
}

/** The fields every task's result takes from training. */
export function common(r: Trained<Scores>): Pick<FinetuneResult, 'primaryMetric' | 'curve' | 'best' | 'steps' | 'plannedSteps' | 'stoppedBy' | 'dir' | 'losses' | 'architecture'> {
  return {
    primaryMetric: r.primaryMetric, curve: r.curve, ...(r.best ? { best: r.best } : {}), steps: r.steps, plannedSteps: r.plannedSteps,
    stoppedBy: r.stoppedBy, dir: r.dir, losses: r.losses, architecture: r.architecture,
  };
}

/** Token classification (part-of-speech tagging, NER): the first piece of each word predicts its tag. */
export async function finetuneTagger(o: TagFinetuneOptions): Promise<FinetuneResult> {
  const { data } = o;
  checkHeldOut(data.train.map((x) => JSON.stringify(x.tokens)), data.eval.map((x) => JSON.stringify(x.tokens)), data.evalName ?? 'the evaluation set', 'sentence');
  return inRunFolder(o, async () => {
    const r = await trainTask(o, 'tag', data.labels, data.train.length, async (_head, pad) => ({
      train: await encodeTagging(o.base.tokenizer, data.train, data.labels, o.maxLen, pad),
      ev: await encodeTagging(o.base.tokenizer, data.eval, data.labels, o.maxLen, pad),
    }), (c) => {
      const predict = argmaxScorer(o, 'tag', data.labels.length, c);
      return async () => labelScores(c.ev.y, await predict());
    }, { primary: 'accuracy', all: ['accuracy', 'macro_f1'] });
    const result: FinetuneResult = {
      accuracy: r.scores.metrics.accuracy!, macroF1: r.scores.metrics.macro_f1!, trainExamples: data.train.length, evalExamples: data.eval.length,
      evalWords: r.scores.truth.length, ...labelReport(r.scores, data.labels), ...common(r),
    };
    await writeLabelReport(o.out, { task: 'tag', labels: data.labels, ...result, perClass: result.perClass!, confusion: result.confusion! });
    return result;
  });
}
async function encodeText2Text(tok: Tokenizer, hf: HfConfig, xs: Text2TextExample[], maxLen: number, targetLen: number, pad: number): Promise<Encoded> {
  const eos = eosId(tok, hf);
  const inputs = (await tok.encodeIdsBatch(xs.map((x) => x.input))).map((e) => [...e.slice(0, maxLen - 1), eos]);
  const targets = (await tok.encodeIdsBatch(xs.map((x) => x.target))).map((e) => [...e.slice(0, targetLen - 1), eos]);
  const y = new Int32Array(xs.length * targetLen).fill(IGNORE_INDEX);
  targets.forEach((t, i) => y.set(t, i * targetLen));
  return { ...packRows(inputs, maxLen, pad), width: targetLen, y };
}

/** The decoder's start token: config.json's decoder_start_token_id, else the padding id (T5). */
function decoderStart(hf: HfConfig, pad: number): number {
  const v = (hf as unknown as Record<string, unknown>)['decoder_start_token_id'];
  return typeof v === 'number' ? v : pad;
}

/** Greedy generations (decoded, special tokens skipped, trimmed) for token inputs, in batches of 32. */
async function generateTexts(gen: Seq2SeqGenerator, tok: Tokenizer, hf: HfConfig, inputs: number[][], maxNewTokens: number, pad: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < inputs.length; i += 32) {
    const r = await gen.generate(inputs.slice(i, i + 32), { maxNewTokens, decoderStartTokenId: decoderStart(hf, pad), eosTokenId: eosId(tok, hf), padTokenId: pad });
    for (const t of r.tokens) out.push((await tok.decode(t, { skipSpecialTokens: true })).trim());
  }
  return out;
}

/** Whitespace-trimmed and collapsed: how generations and targets are compared (exact match). */
export const normalise = (s: string): string => s.trim().replace(/\s+/g, ' ');


/** Text2text scores of greedy generations: exact match and, for label words, accuracy, macro-F1, valid labels. */
interface GenerationScores extends Scores {
  outputs: string[];
}

function generationScores(outputs: string[], targetsRaw: string[], labels?: string[], wordTargets?: boolean, answers?: string[][]): GenerationScores {
  if (answers) {
    const { exactMatch, f1 } = squadScores(outputs, answers);
    return { metrics: { exact_match: exactMatch, f1 }, outputs };
  }
  const targets = targetsRaw.map(normalise);
  const metrics: Record<string, number> = { exact_match: outputs.filter((p, i) => normalise(p) === targets[i]).length / Math.max(1, outputs.length) };
  if (wordTargets) metrics.word_accuracy = wordAccuracy(targets, outputs);
  if (labels) {
    const index = new Map(labels.map((l, i) => [normalise(l), i]));
    const truth = targets.map((t) => index.get(t) ?? -1);
    const pred = outputs.map((p) => index.get(normalise(p)) ?? -1);
    metrics.accuracy = accuracy(truth, pred);
    // sklearn's label set (the labels in the truth or the predictions), less the "no label" of -1.
    metrics.macro_f1 = macroF1(truth, pred, [...new Set([...truth, ...pred])].filter((l) => l >= 0).sort((a, b) => a - b));
    metrics.valid_labels = pred.filter((p) => p >= 0).length / Math.max(1, pred.length);
  }
  return { metrics, outputs };
}

/**
 * Text-to-text fine-tuning (T5): the same Trainer loop as classification and tagging, over (input + EOS, target +
 * EOS) pairs; evaluated by greedy generation on the held-out inputs, scored by exact match and, for classification
 * data, accuracy and macro-F1 over the label words (a generation that is no label counts wrong).
 */
export async function finetuneText2Text(o: Text2TextFinetuneOptions): Promise<FinetuneResult> {
  const { data } = o;
  const tok = o.base.tokenizer;
  checkHeldOut(data.train.map((x) => x.input), data.eval.map((x) => x.input), data.evalName ?? 'the evaluation set', 'input');
  // Checked before training, not at the first evaluation.
  if (data.answers && (data.answers.length !== data.eval.length || data.answers.some((g) => !g.length))) {
    throw new Error(`text2text answers: expected at least one gold answer for each of the ${data.eval.length} held-out examples, got ${data.answers.length} lists${data.answers.some((g) => !g.length) ? ' (some empty)' : ''}`);
  }
  // The target length: the longest training or evaluation target (+ EOS), at most maxTargetLen.
  const longest = Math.max(...(await tok.encodeIdsBatch([...data.train, ...data.eval].map((x) => x.target))).map((e) => e.length + 1));
  const targetLen = Math.max(2, Math.min(o.maxTargetLen, longest));
  return inRunFolder(o, async () => {
    const r = await trainTask(o, 'text2text', [], data.train.length, async (head, pad) => {
      if (head.framing !== 'seq2seq') throw new Error(`--task text2text needs an encoder-decoder; ${o.base.hf.model_type} frames texts as ${head.framing}`);
      return {
        train: await encodeText2Text(tok, o.base.hf, data.train, o.maxLen, targetLen, pad),
        ev: await encodeText2Text(tok, o.base.hf, data.eval, o.maxLen, targetLen, pad),
      };
    }, (c) => {
      if (!c.model.seq2seq) throw new Error(`${c.head.architecture}: the text2text head has no generator`);
      const seq2seq = c.model.seq2seq;
      let gen: Seq2SeqGenerator | undefined;
      const inputs = Array.from({ length: c.ev.rows }, (_, i) => {
        const len = c.ev.mask.subarray(i * o.maxLen, (i + 1) * o.maxLen).reduce((a, b) => a + b, 0);
        return Array.from(c.ev.ids.subarray(i * o.maxLen, i * o.maxLen + len));
      });
      return async () => {
        gen ??= await Seq2SeqGenerator.create(o.backend, seq2seq, c.store);
        return generationScores(await generateTexts(gen, tok, o.base.hf, inputs, targetLen, c.pad), data.eval.map((x) => x.target), data.labels, data.wordTargets, data.answers);
      };
    }, data.answers ? { primary: 'f1', all: ['f1', 'exact_match'] }
      : data.labels ? { primary: 'accuracy', all: ['exact_match', 'accuracy', 'macro_f1', 'valid_labels'] }
      : data.wordTargets ? { primary: 'word_accuracy', all: ['word_accuracy', 'exact_match'] } : { primary: 'exact_match', all: ['exact_match'] });
    const m = r.scores.metrics;
    return {
      accuracy: m.accuracy ?? m.word_accuracy ?? m.exact_match!, macroF1: m.macro_f1 ?? NaN, exactMatch: m.exact_match, validLabels: m.valid_labels,
      ...(m.f1 !== undefined ? { f1: m.f1 } : {}),
      trainExamples: data.train.length, evalExamples: data.eval.length,
      samples: data.eval.slice(0, 5).map((x, i) => ({ input: x.input, target: x.target, output: r.scores.outputs[i]! })),
      ...common(r),
    };
  });
}

/** A fine-tuned checkpoint ready to label texts (classify), words (tag), or write a target text (text2text). */
export interface Finetuned {
  task: FinetuneTask;
  architecture: string;
  labels: string[];
  dir: string;
  /** Class probabilities of one text (or sentence pair), by label, and the best label. */
  classify(text: string, textPair?: string): Promise<{ label: string; probabilities: Record<string, number> }>;
  /** One tag per word ('' for a word the tokenizer gives no piece, or cut by the model's maximum length). */
  tag(words: string[]): Promise<string[]>;
  /** Text2text: the greedy generation for one input (special tokens skipped). */
  generate(text: string, opts?: { maxNewTokens?: number }): Promise<string>;
  /** QA: the n best answers to a question about a context, best first (run_qa.py's defaults unless given). */
  answer(question: string, context: string, opts?: Partial<QaSettings>): Promise<QaAnswer[]>;
}

/**
 * Load a fine-tuned checkpoint: its task is the one whose head's HF class config.json's `architectures` names,
 * among the heads its model_type offers.
 */
export async function loadFinetuned(backend: Backend, dir: string): Promise<Finetuned> {
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const hf = ck.config;
  const heads = Object.entries(taskHeads(hf.model_type)) as [FinetuneTask, TaskHead][];
  const arch = hf.architectures?.[0];
  const found = heads.find(([, h]) => h.architecture === arch) ?? (arch === undefined && heads.length === 1 ? heads[0] : undefined);
  const id2label = hf.id2label;
  if (!id2label && found?.[1].framing !== 'seq2seq' && found?.[0] !== 'qa')
    throw new Error(`${dir}/config.json has no id2label: not a fine-tuned classifier or tagger (use \`pretrain generate\` for a language model)`);
  const labels = id2label ? Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]!) : [];
  if (!found) throw new Error(`${dir}/config.json: architectures ${JSON.stringify(hf.architectures ?? [])} is none of the fine-tuning heads of ${hf.model_type} (${heads.map(([, h]) => h.architecture).join(', ') || 'none'})`);
  const [task, head] = found;
  if (head.framing === 'seq2seq') return loadText2Text(backend, dir, hf, head, ck.weights);
  if (task === 'qa') return loadQa(backend, dir, hf, head, ck.weights);
  const model = head.build(hf, labels.length);
  const store = storeFromWeights(model.parameters(), ck.weights, `${dir}/model.safetensors`);
  const tok = loadTokenizer(dir);
  const maxLen = maxPositions(hf, head);
  const fwd = await Forward.compile(backend, (g) => ({ logits: model.forward(new Ctx(g), taskInputs(g, head, 1, 'seq')) }), store, task);
  const run = async (ids: number[], types?: number[]): Promise<Float32Array> => {
    const t = ids.length;
    const b: Batch = {
      input_ids: { dtype: 'int64', shape: [1, t], data: BigInt64Array.from(ids, BigInt) },
      attention_mask: { dtype: 'int64', shape: [1, t], data: new BigInt64Array(t).fill(1n) },
    };
    if (head.tokenTypes) b['token_type_ids'] = { dtype: 'int64', shape: [1, t], data: types ? BigInt64Array.from(types, BigInt) : new BigInt64Array(t) };
    return (await fwd.run(b, ['logits'])).logits.data as Float32Array;
  };
  const n = labels.length;
  return {
    task, architecture: head.architecture, labels, dir,
    classify: async (text, textPair) => {
      if (task !== 'classify') throw new Error(`${dir} is a ${head.architecture} (task ${task}), not a sequence classifier`);
      const [f] = await frameExamples(tok, hf, head, [{ text, ...(textPair !== undefined ? { textPair } : {}) }], maxLen);
      const logits = Array.from(await run(f!.ids, f!.types));
      const m = Math.max(...logits);
      const e = logits.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b);
      return { label: labels[argmax(logits)]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, e[i]! / z])) };
    },
    tag: async (words) => {
      if (task !== 'tag') throw new Error(`${dir} is a ${head.architecture} (task ${task}), not a tagger`);
      const [a] = await alignWordLabels(tok, [words], maxLen);
      const logits = await run(a!.ids);
      return a!.firstToken.map((j) => (j < 0 ? '' : labels[argmax(logits.subarray(j * n, (j + 1) * n))]!));
    },
    generate: async () => {
      throw new Error(`${dir} is a ${head.architecture} (task ${task}), not a text-to-text model`);
    },
    answer: async () => {
      throw new Error(`${dir} is a ${head.architecture} (task ${task}), not a question-answering model`);
    },
  };
}

/** A QA checkpoint: `answer` runs its windows through the start/end head and post-processes them. */
async function loadQa(backend: Backend, dir: string, hf: HfConfig, head: TaskHead, weights: Parameters<typeof storeFromWeights>[1]): Promise<Finetuned> {
  const model = head.build(hf, 0);
  const store = storeFromWeights(model.parameters(), weights, `${dir}/model.safetensors`);
  const tok = loadTokenizer(dir);
  const pad = padId(tok, hf, head.framing === 'eos' ? eosId(tok, hf) : undefined);
  const predictor = await QaPredictor.create(backend, model, store, head, tok, pad, await qaTemplate(tok, head, hf));
  const maxLen = maxPositions(hf, head);
  const wrong = (what: string) => async (): Promise<never> => {
    throw new Error(`${dir} is a ${head.architecture} (task qa): it answers questions about a context, it does not ${what}`);
  };
  return {
    task: 'qa', architecture: head.architecture, labels: [], dir,
    classify: wrong('classify'), tag: wrong('tag'), generate: wrong('generate text'),
    answer: async (question, context, opts = {}) => {
      const s = { ...QA_DEFAULTS, ...opts };
      const [answers] = await predictor.answer([{ question, context }], { ...s, maxLen: Math.min(s.maxLen, maxLen) });
      return answers!;
    },
  };
}

/** A text2text checkpoint (an encoder-decoder): `generate` decodes greedily through the KV cache. */
async function loadText2Text(backend: Backend, dir: string, hf: HfConfig, head: TaskHead, weights: Parameters<typeof storeFromWeights>[1]): Promise<Finetuned> {
  const model = head.build(hf, 0);
  if (!model.seq2seq) throw new Error(`${head.architecture}: the text2text head has no generator`);
  const store = storeFromWeights(model.parameters(), weights, `${dir}/model.safetensors`);
  const tok = loadTokenizer(dir);
  const gen = await Seq2SeqGenerator.create(backend, model.seq2seq, store);
  const pad = padId(tok, hf);
  const wrong = (what: string) => async (): Promise<never> => {
    throw new Error(`${dir} is a ${head.architecture} (task text2text): it generates text, it does not ${what}`);
  };
  return {
    task: 'text2text', architecture: head.architecture, labels: [], dir,
    classify: wrong('classify'), tag: wrong('tag'), answer: wrong('answer questions'),
    generate: async (text, opts = {}) => {
      const [ids] = await tok.encodeIdsBatch([text]);
      const [out] = await generateTexts(gen, tok, hf, [[...ids!.slice(0, 511), eosId(tok, hf)]], opts.maxNewTokens ?? 32, pad);
      return out!;
    },
  };
}

/**
 * The longest input to feed a config's model: its position table, less two rows for a template head (RoBERTa's
 * table reserves padding_idx + 1 rows; BERT merely loses two positions).
 */
export function maxPositions(hf: HfConfig, head: TaskHead): number {
  const o = hf as unknown as Record<string, unknown>;
  const n = [o['max_position_embeddings'], o['n_positions']].find((v): v is number => typeof v === 'number') ?? 512;
  return head.framing === 'template' ? n - 2 : n;
}

// Fine-tuning a decoder as a sequence classifier (GPT-1 style): labelled texts -> token ids ending in EOS (the
// "extract" token whose hidden state is classified), padded batches, the shared Trainer, then accuracy and
// macro-F1 on held-out data. Works from a pretrained checkpoint or, for comparison, from scratch.
import path from 'node:path';
import type { Graph } from '../graph/index.js';
import { Ctx, initParameters } from '../nn/index.js';
import { DecoderClassifier } from '../models/classifier.js';
import { causalLMFromHf, type CausalLMInfo } from '../models/index.js';
import type { Backend } from '../runtime/backend.js';
import { Forward, type Batch } from '../runtime/step.js';
import { ParameterStore } from '../runtime/store.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import type { HfConfig } from '../io/hf-config.js';
import type { JsonValue } from '../io/json.js';
import { BROWN_CATEGORY, brownDocuments, EpochShuffler, readCorpus, type BrownGenre, type ShufflerState } from '../data/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { accuracy, macroF1 } from './metrics.js';
import { Trainer } from './trainer.js';
import { weightsOf } from './pretrain.js';

export interface Example {
  text: string;
  label: string;
}

export interface ClassificationData {
  labels: string[];
  train: Example[];
  eval: Example[];
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
 * The Brown genre task: each example is a run of `sentences` consecutive sentences of one document, labelled
 * with its genre (15) or its broad category (press, general prose, learned, fiction); training examples come
 * from the training documents, evaluation ones from `evalSplit` (at most `maxEvalPerLabel` genre-chunks each).
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
  const ev = limitPerLabel(evalAll, opts.maxEvalPerLabel ?? 40, (opts.seed ?? 0) + 1);
  const relabel = (xs: Example[]) => (opts.labels === 'category' ? xs.map((x) => ({ text: x.text, label: BROWN_CATEGORY[x.label as BrownGenre] })) : xs);
  const labels = [...new Set(relabel(train).map((x) => x.label))].sort();
  return { labels, train: relabel(train), eval: relabel(ev) };
}

/** Labelled JSONL ({"text", "label"}); evaluation data from `evalSpec`, or every 10th example held out. */
export async function jsonlData(spec: string, evalSpec?: string): Promise<ClassificationData> {
  const read = async (s: string) => {
    const out: Example[] = [];
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
  const labels = [...new Set(all.map((x) => x.label))].sort();
  for (const x of ev) if (!labels.includes(x.label)) throw new Error(`evaluation label "${x.label}" never occurs in the training data`);
  return { labels, train, eval: ev };
}

export interface FinetuneOptions {
  backend: Backend;
  /** The pretrained decoder (its config and weights); from scratch when `scratch` is set. */
  base: { hf: HfConfig; store?: ParameterStore; tokenizer: Tokenizer; tokenizerDir: string };
  scratch: boolean;
  data: ClassificationData;
  out: string;
  maxLen: number;
  batchSize: number;
  epochs: number;
  lr: number;
  /** Warmup as a fraction of the steps (GPT-1: 0.002). */
  warmupFraction: number;
  weightDecay: number;
  gradClip: number;
  /** Weight of the auxiliary LM loss (GPT-1: 0.5; 0 = off). */
  auxLm: number;
  dropout: number;
  seed: number;
  progress?: boolean;
  /** Progress-bar label. */
  label?: string;
}

export interface FinetuneResult {
  accuracy: number;
  macroF1: number;
  trainExamples: number;
  evalExamples: number;
  steps: number;
  dir: string;
  losses: number[];
}

/** Token ids ending in EOS (truncated to fit), padded to maxLen on the right. */
async function encode(tok: Tokenizer, xs: Example[], labels: string[], maxLen: number, eos: number, pad: number): Promise<{ ids: Int32Array; mask: Int32Array; y: Int32Array }> {
  const enc = await tok.encodeIdsBatch(xs.map((x) => x.text));
  const ids = new Int32Array(xs.length * maxLen).fill(pad);
  const mask = new Int32Array(xs.length * maxLen);
  const y = new Int32Array(xs.length);
  enc.forEach((e, i) => {
    const row = [...e.slice(0, maxLen - 1), eos];
    ids.set(row, i * maxLen);
    mask.fill(1, i * maxLen, i * maxLen + row.length);
    y[i] = labels.indexOf(xs[i].label);
  });
  return { ids, mask, y };
}

function batchOf(d: { ids: Int32Array; mask: Int32Array; y: Int32Array }, rows: number[], maxLen: number): Batch {
  const ids = new BigInt64Array(rows.length * maxLen);
  const mask = new BigInt64Array(rows.length * maxLen);
  rows.forEach((r, i) => {
    for (let t = 0; t < maxLen; t++) {
      ids[i * maxLen + t] = BigInt(d.ids[r * maxLen + t]);
      mask[i * maxLen + t] = BigInt(d.mask[r * maxLen + t]);
    }
  });
  const shape = [rows.length, maxLen];
  return {
    input_ids: { dtype: 'int64', shape, data: ids },
    attention_mask: { dtype: 'int64', shape, data: mask },
    labels: { dtype: 'int64', shape: [rows.length], data: BigInt64Array.from(rows, (r) => BigInt(d.y[r])) },
  };
}

export function classifierFor(info: CausalLMInfo, numLabels: number): DecoderClassifier {
  return new DecoderClassifier(info.model, info.hiddenSize, numLabels);
}

export async function finetuneClassifier(o: FinetuneOptions): Promise<FinetuneResult> {
  const { data, maxLen } = o;
  if (data.train.length === 0) throw new Error('no training examples');
  // Fewer examples than a batch (a tiny label budget): one batch holds them all.
  const batchSize = Math.min(o.batchSize, data.train.length);
  const info = causalLMFromHf(o.base.hf, { dropout: o.dropout });
  const clf = classifierFor(info, data.labels.length);
  const store = new ParameterStore();
  const specs = clf.parameters();
  const init = initParameters(specs, o.seed);
  for (const s of specs) {
    const pretrained = !o.scratch && o.base.store?.params.has(s.name);
    store.set(s.name, s.shape, pretrained ? o.base.store!.get(s.name).slice() : init.get(s.name)!);
  }
  const eos = info.eosTokenId;
  const pad = o.base.tokenizer.specialIds.pad ?? eos;
  const train = await encode(o.base.tokenizer, data.train, data.labels, maxLen, eos, pad);
  const ev = await encode(o.base.tokenizer, data.eval, data.labels, maxLen, eos, pad);

  const steps = Math.max(1, Math.ceil((o.epochs * data.train.length) / batchSize));
  const shuffler = new EpochShuffler(data.train.length, o.seed);
  const inputs = (g: Graph, b: number | string) =>
    [g.input('input_ids', 'int64', [b, maxLen]), g.input('attention_mask', 'int64', [b, maxLen]), g.input('labels', 'int64', [b])] as const;
  const hf: HfConfig = {
    ...info.hf,
    id2label: Object.fromEntries(data.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(data.labels.map((l, i) => [l, i])),
    pad_token_id: pad,
  };
  const arch = info.model.modelType === 'gpt2' ? 'GPT2ForSequenceClassification' : 'LlamaForSequenceClassification';
  const trainer = new Trainer(o.backend, store, {
    trainLoss: (g) => clf.loss(new Ctx(g, true, o.dropout), ...inputs(g, batchSize), o.auxLm),
    evalOutputs: (g) => ({ loss: clf.loss(new Ctx(g, false), ...inputs(g, 'batch')) }),
    train: {
      next: () => batchOf(train, Array.from({ length: batchSize }, () => shuffler.next()), maxLen),
      state: () => shuffler.getState() as unknown as JsonValue,
      restore: (s) => shuffler.setState(s as unknown as ShufflerState),
    },
    tokensPerMicroBatch: batchSize * maxLen,
    save: (dir, resume) =>
      saveCheckpoint(dir, { config: hf, architectures: [arch], weights: weightsOf(store), tokenizer: { dir: o.base.tokenizerDir }, ...resume }),
  }, {
    outDir: o.out, maxSteps: steps, gradAccum: 1, lr: o.lr, warmup: Math.round(o.warmupFraction * steps), decay: 'linear',
    minLrRatio: 0, gradClip: o.gradClip, evalEvery: 0, saveEvery: 0, keepLast: 1, seed: o.seed, resume: false,
    progress: o.progress, label: o.label ?? 'fine-tune', optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay },
  });
  const r = await trainer.run();

  const fwd = await Forward.compile(o.backend, (g) => {
    const [ids, mask] = inputs(g, 'batch');
    return { logits: clf.forward(new Ctx(g), ids, mask).logits };
  }, store, 'classify');
  const pred: number[] = [];
  for (let i = 0; i < data.eval.length; i += 32) {
    const rows = Array.from({ length: Math.min(32, data.eval.length - i) }, (_, k) => i + k);
    const logits = (await fwd.run(batchOf(ev, rows, maxLen), ['logits'])).logits.data as Float32Array;
    for (let k = 0; k < rows.length; k++) {
      const row = logits.subarray(k * data.labels.length, (k + 1) * data.labels.length);
      pred.push(row.indexOf(Math.max(...row)));
    }
  }
  const truth = Array.from(ev.y);
  return {
    accuracy: accuracy(truth, pred),
    macroF1: macroF1(truth, pred),
    trainExamples: data.train.length,
    evalExamples: data.eval.length,
    steps,
    dir: r.finalDir ?? path.join(o.out),
    losses: r.losses,
  };
}

// Pretraining on a text held in memory, as `pretrain train --corpus that.txt` does it: the same settings (defaults,
// the architecture's recipe), the same documents, tokenizer, held-out split, model, batches, schedule and train
// step (all from src/train, src/data and src/objectives). What differs: the corpus is a string, the tokenizer is the
// pure encoder, and nothing is written; the page turns the result into a checkpoint zip. Pure: no Node imports.
import { getModel } from '../models/registry.js';
import type { Backend } from '../runtime/backend.js';
import { TrainStep } from '../runtime/step.js';
import { resolveTrainConfig, type FlatTrainConfig, type TrainConfig } from '../train/config.js';
import { holdout, pretrainingRun, trainArchTokenizer, weightsOf, type PretrainingRun } from '../train/pretrain-setup.js';
import { optimizerSteps } from '../train/steps.js';
import { jsonlDocuments, textDocuments, textLines } from '../data/text.js';
import { tokenizeDocuments } from '../data/memory.js';
import type { CorpusDocument, DocumentSource } from '../data/types.js';
import { pureTokenizer, type PureTokenizer } from '../tokenizers/encoder.js';
import { checkpointFilesOf, tokenizerTextFiles } from '../io/checkpoint-files.js';
import { onnxExports } from '../generate/export.js';
import { specialTokensMap, type TokenizerConfig, type TokenizerJson } from '../tokenizers/json.js';

/** The settings of `pretrain train` (the same names as its flags, in camelCase) and the training text. */
export interface TextTrainOptions extends Partial<Omit<FlatTrainConfig, 'corpus' | 'out' | 'tokenizer' | 'resume' | 'overwrite'>> {
  /** The corpus: plain text (a blank line ends a document) or, with `format: 'jsonl'`, one {"text": ...} per line. */
  text: string;
  format?: 'txt' | 'jsonl';
}

export interface StepEvent {
  step: number;
  maxSteps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  /** Wall time of this step, ms. */
  ms: number;
}

export interface TextTrainHooks {
  backend: Backend;
  /** Called after every optimizer step. */
  onStep?: (e: StepEvent) => void;
  /** Called when the data and the model are ready, before the first step (e.g. to preview a batch). */
  onReady?: (run: TextRun) => void;
  /** Log lines (what the CLI prints to stderr). */
  log?: (s: string) => void;
  /** Stops after the current step. */
  signal?: AbortSignal;
}

/** A model with its tokenizer: trained in the page or opened from a checkpoint folder. */
export type TrainedModel = Pick<PretrainingRun, 'entry' | 'hf' | 'model' | 'store' | 'architectures'> & { tokenizer: PureTokenizer };

/** A run's model, tokenizer and data: what the page shows, tries and downloads. */
export interface TextRun extends PretrainingRun {
  config: TrainConfig;
  tokenizer: PureTokenizer;
  documents: { train: DocumentSource; eval: DocumentSource };
}

export interface TextTrainResult {
  losses: number[];
  /** Training tokens per second of wall time over the steps (compilation excluded). */
  tokensPerSecond: number;
  /** Wall time of each step, ms. */
  stepMs: number[];
  stoppedBy: 'done' | 'interrupt' | 'nonfinite';
  run: TextRun;
}

/** The documents of a text, as readCorpus reads a .txt or .jsonl file. */
export async function documentsOfText(text: string, format: 'txt' | 'jsonl' = 'txt'): Promise<CorpusDocument[]> {
  const docs: CorpusDocument[] = [];
  const gen = format === 'jsonl' ? jsonlDocuments(textLines(text), 'text.jsonl') : textDocuments(textLines(text));
  for await (const d of gen) if (d.sentences.length) docs.push(d);
  if (!docs.length) throw new Error('the text holds no document: expected some text (a blank line ends a document)');
  return docs;
}

/** Settings, tokenizer, documents and model of a run on `text`, before training. */
export async function prepareTextRun(o: TextTrainOptions, log: (s: string) => void = () => {}): Promise<TextRun> {
  const { text, format, ...values } = o;
  const config = resolveTrainConfig(values as Partial<FlatTrainConfig>);
  const docs = await documentsOfText(text, format);
  const entry = getModel(config.arch);
  log(`training a ${entry.tokenizer} tokenizer (vocabulary ${config.vocabSize}) on ${docs.length} documents ...`);
  const trained = await trainArchTokenizer(entry, docs.map((d) => d.text), config.vocabSize);
  // The CLI saves the tokenizer and loads it back: the same JSON round trip here.
  const tokenizer = pureTokenizer(JSON.parse(JSON.stringify(trained.tokenizerJson)) as TokenizerJson, JSON.parse(JSON.stringify(trained.tokenizerConfig)) as TokenizerConfig);
  const documents = holdout(await tokenizeDocuments(docs, tokenizer));
  log(`corpus: ${documents.train.documentCount} training documents, ${documents.train.tokenCount} tokens; ${documents.evalOnTrain ? 'none' : documents.eval.documentCount} held out`);
  const run = pretrainingRun(config, tokenizer, documents);
  log(`model ${config.arch} (${run.objective.name}): ${(run.store.count() / 1e6).toFixed(2)} M parameters`);
  return { ...run, config, tokenizer, documents };
}

/** Trains a prepared run to its maxSteps (or until the signal fires, or the loss is not finite). */
export async function trainRun(run: TextRun, hooks: TextTrainHooks): Promise<TextTrainResult> {
  const c = run.config;
  const step = await TrainStep.compile(hooks.backend, run.trainLoss, run.store, {
    optimizer: { kind: 'adamw', beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay },
    gradClip: c.gradClip,
  });
  const losses: number[] = [];
  const stepMs: number[] = [];
  const tokensPerStep = c.batchSize * c.seqLen * c.gradAccum;
  let ms = 0;
  let stoppedBy: TextTrainResult['stoppedBy'] = 'done';
  let t0 = performance.now();
  for await (const r of optimizerSteps(step, run.store, run.train, { lr: c.lr, warmupSteps: c.warmup, maxSteps: c.maxSteps, decay: c.decay, minLrRatio: c.minLrRatio, gradAccum: c.gradAccum })) {
    const t1 = performance.now();
    ms += t1 - t0;
    stepMs.push(t1 - t0);
    if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
      hooks.log?.(`non-finite loss (${r.loss}) at step ${run.store.step}; stopping. Try a lower lr or gradClip.`);
      stoppedBy = 'nonfinite';
      break;
    }
    losses.push(r.loss);
    hooks.onStep?.({ step: run.store.step, maxSteps: c.maxSteps, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, tokensPerSecond: (losses.length * tokensPerStep) / (ms / 1000), ms: t1 - t0 });
    if (hooks.signal?.aborted) {
      stoppedBy = 'interrupt';
      break;
    }
    // Let the page paint between steps.
    await new Promise((res) => setTimeout(res, 0));
    t0 = performance.now();
  }
  return { losses, tokensPerSecond: losses.length ? (losses.length * tokensPerStep) / (ms / 1000) : 0, stepMs, stoppedBy, run };
}

/** prepareTextRun then trainRun. */
export async function trainText(o: TextTrainOptions, hooks: TextTrainHooks): Promise<TextTrainResult> {
  const run = await prepareTextRun(o, hooks.log);
  hooks.onReady?.(run);
  return trainRun(run, hooks);
}

/**
 * The run's model as a Hugging Face checkpoint folder in memory: config.json, model.safetensors, the tokenizer files
 * and generation_config.json, plus the onnx/ graphs transformers.js loads, as `pretrain train` writes at the end.
 */
export function runCheckpointFiles(run: TrainedModel): Record<string, Uint8Array | string> {
  const tokenizer = tokenizerTextFiles({
    json: `${JSON.stringify(run.tokenizer.json, null, 2)}\n`,
    config: `${JSON.stringify(run.tokenizer.config, null, 2)}\n`,
    specialTokensMap: `${JSON.stringify(specialTokensMap(run.tokenizer.config), null, 2)}\n`,
  });
  return checkpointFilesOf({
    config: run.hf,
    architectures: run.architectures,
    weights: weightsOf(run.store),
    generationConfig: run.entry.family !== 'encoder' ? true : undefined,
    extraFiles: onnxExports(run.entry.family, run.model, run.store),
  }, tokenizer);
}

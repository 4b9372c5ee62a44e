// The parts of a pretraining run that touch no files: the tokenizer trainer of an architecture, the held-out split,
// a new model and its seeded parameters, the objective's options, streams and loss graphs. `pretrain train`
// (pretrain.ts) and the browser playground (src/browser) both build their runs here, so the same settings and the
// same text give the same batches and the same losses. Pure: no Node imports.
import type { Graph, Tensor } from '../graph/index.js';
import { Ctx, initParameters } from '../nn/index.js';
import '../models/index.js';
import { getModel, type ModelEntry, type PretrainingModel } from '../models/registry.js';
import '../objectives/index.js';
import { getObjective, objectiveHeads, type BatchStream, type Objective, type ObjectiveOptions } from '../objectives/objective.js';
import type { Batch } from '../runtime/step.js';
import { ParameterStore } from '../runtime/store.js';
import type { HfConfig } from '../io/hf-config.js';
import type { F32Tensor } from '../io/safetensors.js';
import type { DocumentSource, TokenDocument } from '../data/types.js';
import type { Tokenizer } from '../tokenizers/base.js';
import type { TrainedTokenizer } from '../tokenizers/json.js';
import { trainTokenizerAsync } from '../tokenizers/train.js';
import type { TrainConfig } from './config.js';

/** Trains the kind of tokenizer the architecture uses (byte-level BPE, WordPiece or Unigram) on the texts. */
export function trainArchTokenizer(entry: ModelEntry, texts: AsyncIterable<string> | Iterable<string>, vocabSize: number): Promise<TrainedTokenizer> {
  return trainTokenizerAsync(entry.tokenizer, texts, { vocabSize, style: entry.tokenizerStyle });
}

export class Subset implements DocumentSource {
  readonly documentCount: number;
  readonly tokenCount: number;
  constructor(private readonly src: DocumentSource, private readonly ids: number[]) {
    this.documentCount = ids.length;
    this.tokenCount = ids.reduce((n, i) => n + src.document(i).tokens.length, 0);
  }
  document(i: number): TokenDocument {
    return this.src.document(this.ids[i]!);
  }
}

/**
 * Every 10th document held out for evaluation (every 50th from 1000 documents). `evalOnTrain`: too few documents
 * to hold one out, so evaluation uses the training documents.
 */
export function holdout(src: DocumentSource): { train: DocumentSource; eval: DocumentSource; evalOnTrain: boolean } {
  const every = src.documentCount >= 1000 ? 50 : 10;
  const all = [...Array(src.documentCount).keys()];
  const ev = all.filter((i) => i % every === every - 1);
  if (!ev.length) return { train: src, eval: src, evalOnTrain: true };
  return { train: new Subset(src, all.filter((i) => i % every !== every - 1)), eval: new Subset(src, ev), evalOnTrain: false };
}

/** The Hugging Face config for a new model of the configured size. */
export function newModelConfig(cfg: TrainConfig, tok: Tokenizer): HfConfig {
  return getModel(cfg.arch).newConfig({ ...cfg.model, positions: Math.max(cfg.seqLen, 512) }, tok);
}

/** A store with freshly initialised parameters (seeded); the seed also drives dropout, as the Trainer sets it. */
export function freshStore(model: Pick<PretrainingModel, 'parameters'>, seed: number): ParameterStore {
  const store = new ParameterStore();
  store.seed = seed;
  const specs = model.parameters();
  const init = initParameters(specs, seed);
  for (const s of specs) store.set(s.name, s.shape, init.get(s.name)!);
  return store;
}

/** The store's weights under their Hugging Face names. */
export function weightsOf(store: ParameterStore): Map<string, F32Tensor> {
  return new Map(store.names().map((n) => [n, { shape: store.shapes.get(n)!, data: store.get(n) }]));
}

/**
 * The objective's options from a run's settings, with the model family of --arch: an objective that means two
 * things for two families (prefix-lm: a prefix -> rest pair for an encoder-decoder, one sequence with a
 * bidirectional prefix for a decoder) reads it, so one --objective name serves both.
 */
export function objectiveOptions(cfg: TrainConfig): ObjectiveOptions {
  const { name: _name, ...opts } = cfg.objective;
  return { ...opts, seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: cfg.seed, family: getModel(cfg.arch).family };
}

/** The pretraining loss graph: the objective's inputs fed to the model's heads. */
export function pretrainingGraph(g: Graph, model: PretrainingModel, objective: Objective, opts: ObjectiveOptions, ctx: Ctx): { loss: Tensor; stats: Record<string, Tensor> } {
  const inputs = Object.fromEntries(objective.inputs(opts).map((s) => [s.name, g.input(s.name, s.dtype, s.shape)]));
  return model.pretrainingLoss(ctx, inputs, objectiveHeads(objective, opts.family));
}

/** A pretraining run before any step: the model, its parameters, the batch streams and the loss graphs. */
export interface PretrainingRun {
  entry: ModelEntry;
  objective: Objective;
  hf: HfConfig;
  model: PretrainingModel;
  store: ParameterStore;
  options: ObjectiveOptions;
  /** config.json's architectures: the class with the objective's heads. */
  architectures: string[];
  train: BatchStream;
  evalBatches: Batch[];
  trainLoss(g: Graph): Tensor;
  evalOutputs(g: Graph): { loss: Tensor; stats: Record<string, Tensor> };
}

/** Builds the run of `cfg` on tokenised documents; `hf` is the config of a resumed model (else a new one). */
export function pretrainingRun(cfg: TrainConfig, tok: Tokenizer, docs: { train: DocumentSource; eval: DocumentSource }, hf?: HfConfig): PretrainingRun {
  const entry = getModel(cfg.arch);
  const objective = getObjective(cfg.objective.name);
  const config = hf ?? newModelConfig(cfg, tok);
  const heads = objectiveHeads(objective, entry.family);
  const model = entry.build(config, { dropout: cfg.model.dropout, heads, sboWeight: cfg.objective.sboWeight });
  const store = freshStore(model, cfg.seed);
  const options = objectiveOptions(cfg);
  return {
    entry, objective, hf: config, model, store, options,
    architectures: [entry.architecture(heads)],
    train: objective.stream(docs.train, tok, options),
    evalBatches: objective.evalBatches(docs.eval, tok, options, cfg.evalBatches),
    trainLoss: (g) => pretrainingGraph(g, model, objective, options, new Ctx(g, true, cfg.model.dropout, 'float32', cfg.gradientCheckpointing ?? false)).loss,
    evalOutputs: (g) => pretrainingGraph(g, model, objective, options, new Ctx(g, false)),
  };
}

// Pretraining from a TrainConfig, for any registered model and objective: a tokenizer (given, or trained on the
// corpus as the model wants it), token shards, a model from its registry entry, the objective's batch stream, and
// the shared Trainer. It knows no model or objective by name: `pretrain train` calls it, and adding a model or an
// objective touches only src/models or src/objectives.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../graph/index.js';
import { Ctx, initParameters } from '../nn/index.js';
import '../models/index.js';
import { checkPairing, getModel, type ModelEntry, type PretrainingModel } from '../models/registry.js';
import '../objectives/index.js';
import { getObjective, objectiveHeads, type Objective, type ObjectiveOptions } from '../objectives/objective.js';
import type { Backend } from '../runtime/backend.js';
import { ParameterStore } from '../runtime/store.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, saveModelInto } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/files.js';
import type { HfConfig } from '../io/hf-config.js';
import type { F32Tensor } from '../io/safetensors.js';
import { buildShards, readCorpus, type DocumentSource, type TokenDocument } from '../data/index.js';
import { loadTokenizer, saveTokenizer, trainTokenizerAsync, type Tokenizer } from '../tokenizers/index.js';
import { onnxExports } from '../generate/export.js';
import { Trainer, type TrainResult } from './trainer.js';
import type { TrainConfig } from './config.js';

/** Train and eval corpus specs: Brown has a fixed split; other corpora hold out every 10th (or 50th) document. */
function corpusSplits(spec: string): { train: string; eval: string; holdout: boolean } {
  if (spec === 'brown') return { train: 'brown:train', eval: 'brown:validation', holdout: false };
  return { train: spec, eval: spec, holdout: true };
}

class Subset implements DocumentSource {
  readonly documentCount: number;
  readonly tokenCount: number;
  constructor(private readonly src: DocumentSource, private readonly ids: number[]) {
    this.documentCount = ids.length;
    this.tokenCount = ids.reduce((n, i) => n + src.document(i).tokens.length, 0);
  }
  document(i: number): TokenDocument {
    return this.src.document(this.ids[i]);
  }
}

function holdout(src: DocumentSource): { train: DocumentSource; eval: DocumentSource } {
  const every = src.documentCount >= 1000 ? 50 : 10;
  const all = [...Array(src.documentCount).keys()];
  const ev = all.filter((i) => i % every === every - 1);
  if (!ev.length) return { train: src, eval: src };
  return { train: new Subset(src, all.filter((i) => i % every !== every - 1)), eval: new Subset(src, ev) };
}

/** The training and held-out documents of a corpus spec, tokenised into shards. */
export async function corpusDocuments(spec: string, tok: Tokenizer): Promise<{ train: DocumentSource; eval: DocumentSource }> {
  const splits = corpusSplits(spec);
  const train = await buildShards(splits.train, tok);
  if (splits.holdout) return holdout(train);
  return { train, eval: await buildShards(splits.eval, tok) };
}

export async function prepareTokenizer(cfg: TrainConfig, entry: ModelEntry, log: (s: string) => void): Promise<Tokenizer> {
  const dir = path.join(cfg.out, 'tokenizer');
  if (cfg.resume && existsSync(path.join(dir, 'tokenizer.json'))) return loadTokenizer(dir);
  if (cfg.tokenizer) {
    const src = cfg.tokenizer.endsWith('.json') ? path.dirname(cfg.tokenizer) : cfg.tokenizer;
    const t = loadTokenizer(src);
    return saveTokenizer(dir, { tokenizerJson: t.json, tokenizerConfig: t.config });
  }
  const kind = entry.tokenizer === 'bpe' ? 'byte-level BPE' : entry.tokenizer === 'wordpiece' ? 'WordPiece' : 'Unigram';
  log(`training a ${kind} tokenizer (vocabulary ${cfg.vocabSize}) on ${cfg.corpus} ...`);
  const t0 = performance.now();
  const { train } = corpusSplits(cfg.corpus);
  async function* texts() {
    for await (const d of readCorpus(train)) yield d.text;
  }
  const trained = await trainTokenizerAsync(entry.tokenizer, texts(), { vocabSize: cfg.vocabSize, style: entry.tokenizerStyle });
  log(`tokenizer trained in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${dir}`);
  return saveTokenizer(dir, trained);
}

/** The Hugging Face config for a new model of the configured size. */
export function newModelConfig(cfg: TrainConfig, tok: Tokenizer): HfConfig {
  return getModel(cfg.arch).newConfig({ ...cfg.model, positions: Math.max(cfg.seqLen, 512) }, tok);
}

/** A store with freshly initialised parameters (seeded). */
export function freshStore(model: Pick<PretrainingModel, 'parameters'>, seed: number): ParameterStore {
  const store = new ParameterStore();
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

export interface PretrainOptions {
  backend: Backend;
  progress?: boolean;
  log?: (s: string) => void;
  stopAfter?: number;
  /** Stops training cleanly (a checkpoint is saved); the CLI turns Ctrl-C into it. */
  signal?: AbortSignal;
}

/** The resolved settings of a run, kept in its folder so that `--resume` continues with them. */
export const TRAIN_CONFIG_FILE = 'train_config.json';

/** The checkpoint a resume starts from: a named checkpoint folder, or the newest in the run folder. */
export async function resumeCheckpoint(cfg: TrainConfig): Promise<string> {
  if (typeof cfg.resume === 'string') {
    if (!existsSync(path.join(cfg.resume, 'trainer_state.json'))) throw new Error(`--resume ${cfg.resume}: not a checkpoint folder with trainer_state.json`);
    return cfg.resume;
  }
  const last = await latestCheckpoint(cfg.out);
  if (!last) throw new Error(`--resume: no checkpoint-<step> folder in ${cfg.out}`);
  return last;
}

export interface PretrainResult extends TrainResult {
  entry: ModelEntry;
  model: PretrainingModel;
  hf: HfConfig;
  store: ParameterStore;
  tokenizer: Tokenizer;
}

export async function pretrain(cfg: TrainConfig, o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? ((s: string) => console.error(s));
  checkPairing(cfg.arch, cfg.objective.name);
  const entry = getModel(cfg.arch);
  const objective = getObjective(cfg.objective.name);
  // Everything that can fail on the settings is checked before any work is done or any file is written.
  let hf: HfConfig | undefined;
  let from: string | undefined;
  if (cfg.resume) {
    from = await resumeCheckpoint(cfg);
    const ck = await loadCheckpoint(from, { skipOptimizer: true });
    if (ck.config.model_type !== cfg.arch) throw new Error(`--resume ${from}: the checkpoint is a ${ck.config.model_type} model, not --arch ${cfg.arch}`);
    hf = ck.config;
    const seed = (ck.trainerState as { seed?: number } | undefined)?.seed;
    if (seed !== undefined && seed !== cfg.seed) {
      log(`--resume: continuing with the run's seed ${seed} (not ${cfg.seed})`);
      cfg = { ...cfg, seed };
    }
    log(`resuming from ${from}`);
  }
  await mkdir(cfg.out, { recursive: true });
  await writeFileAtomic(path.join(cfg.out, TRAIN_CONFIG_FILE), `${JSON.stringify({ ...cfg, resume: false }, null, 2)}\n`);
  const tok = await prepareTokenizer(cfg, entry, log);
  const docs = await corpusDocuments(cfg.corpus, tok);
  log(`corpus ${cfg.corpus}: ${docs.train.documentCount} training documents, ${docs.train.tokenCount} tokens; ${docs.eval.documentCount} held out`);

  hf ??= newModelConfig(cfg, tok);
  const heads = objectiveHeads(objective, entry.family);
  const model = entry.build(hf, { dropout: cfg.model.dropout, heads });
  const store = freshStore(model, cfg.seed);
  log(`model ${cfg.arch} (${objective.name}): ${(store.count() / 1e6).toFixed(2)} M parameters`);

  const opts = objectiveOptions(cfg);
  const train = objective.stream(docs.train, tok, opts);
  const evalBatches = objective.evalBatches(docs.eval, tok, opts, cfg.evalBatches);
  if (!evalBatches.length) log(`warning: the held-out documents do not fill one batch of ${cfg.batchSize}x${cfg.seqLen} tokens; evaluation is skipped`);

  const tokDir = path.join(cfg.out, 'tokenizer');
  const architectures = [entry.architecture(heads)];
  const trainer = new Trainer(o.backend, store, {
    trainLoss: (g) => pretrainingGraph(g, model, objective, opts, new Ctx(g, true, cfg.model.dropout)).loss,
    evalOutputs: (g) => pretrainingGraph(g, model, objective, opts, new Ctx(g, false)),
    train,
    evalBatches: () => evalBatches,
    tokensPerMicroBatch: cfg.batchSize * cfg.seqLen,
    save: async (dir, resume, final) => {
      // The final checkpoint also carries the inference graphs transformers.js loads (onnx/...), and the finished
      // model is written at the run folder's root too, so from_pretrained(run folder) works.
      const files = { config: hf, architectures, weights: weightsOf(store), tokenizer: { dir: tokDir }, generationConfig: entry.family !== 'encoder' ? (true as const) : undefined };
      const extraFiles = final ? onnxExports(entry.family, model, store) : undefined;
      await saveCheckpoint(dir, { ...files, ...resume, extraFiles });
      if (final) await saveModelInto(cfg.out, { ...files, extraFiles });
    },
  }, {
    outDir: cfg.out, maxSteps: cfg.maxSteps, gradAccum: cfg.gradAccum, lr: cfg.lr, warmup: cfg.warmup, decay: cfg.decay,
    minLrRatio: cfg.minLrRatio, gradClip: cfg.gradClip, evalEvery: cfg.evalEvery, saveEvery: cfg.saveEvery,
    keepLast: cfg.keepLast, seed: cfg.seed, resume: from ?? false, progress: o.progress, stopAfter: o.stopAfter, signal: o.signal,
    optimizer: { kind: 'adamw', beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay },
  });
  const result = await trainer.run();
  return { ...result, entry, model, hf, store, tokenizer: tok };
}

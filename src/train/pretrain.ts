// Pretraining from a TrainConfig, for any registered model and objective: a tokenizer (given, or trained on the
// corpus as the model wants it), token shards, a model from its registry entry, the objective's batch stream, and
// the shared Trainer. It knows no model or objective by name: `pretrain train` calls it, and adding a model or an
// objective touches only src/models or src/objectives.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import '../models/index.js';
import { checkPairing, getModel, type ModelEntry, type PretrainingModel } from '../models/registry.js';
import '../objectives/index.js';
import { getObjective, type Objective } from '../objectives/objective.js';
import type { Backend } from '../runtime/backend.js';
import { ParameterStore } from '../runtime/store.js';
import { checkTokenizerHash, latestCheckpoint, loadCheckpoint, saveCheckpoint, saveModelInto } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/files.js';
import type { HfConfig } from '../io/hf-config.js';
import { buildShards, readCorpus, type DocumentSource } from '../data/index.js';
import { loadTokenizer, saveTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { onnxExports } from '../generate/export.js';
import { Trainer, type TrainResult } from './trainer.js';
import { holdout, pretrainingRun, trainArchTokenizer, weightsOf } from './pretrain-setup.js';

export { freshStore, newModelConfig, objectiveOptions, pretrainingGraph, weightsOf } from './pretrain-setup.js';
import { flattened, OBJECTIVE_KEYS, type FlatTrainConfig, type TrainConfig } from './config.js';
import { checkTrainingMemory } from './memory.js';
import { claimForNewRun, lockRunFolder } from './run-folder.js';

/** Train and eval corpus specs: Brown has a fixed split; other corpora hold out every 10th (or 50th) document. */
function corpusSplits(spec: string): { train: string; eval: string; holdout: boolean } {
  if (spec === 'brown') return { train: 'brown:train', eval: 'brown:validation', holdout: false };
  return { train: spec, eval: spec, holdout: true };
}

/**
 * The training and held-out documents of a corpus spec, tokenised into shards. `evalOnTrain`: the corpus has
 * fewer than 10 documents, too few to hold one out, so evaluation uses the training documents.
 */
export async function corpusDocuments(spec: string, tok: Tokenizer): Promise<{ train: DocumentSource; eval: DocumentSource; evalOnTrain: boolean }> {
  const splits = corpusSplits(spec);
  const train = await buildShards(splits.train, tok);
  if (splits.holdout) return holdout(train);
  return { train, eval: await buildShards(splits.eval, tok), evalOnTrain: false };
}

/**
 * The run's tokenizer, saved in <out>/tokenizer. A resumed run keeps the one in <out>/tokenizer (or, when that is
 * absent, the one in the checkpoint it resumes from); a new run copies --tokenizer or trains one.
 */
export async function prepareTokenizer(cfg: TrainConfig, entry: ModelEntry, log: (s: string) => void, resumeFrom?: string): Promise<Tokenizer> {
  const dir = path.join(cfg.out, 'tokenizer');
  if (cfg.resume && existsSync(path.join(dir, 'tokenizer.json'))) return loadTokenizer(dir);
  if (cfg.resume && resumeFrom && existsSync(path.join(resumeFrom, 'tokenizer.json'))) {
    const t = loadTokenizer(resumeFrom);
    return saveTokenizer(dir, { tokenizerJson: t.json, tokenizerConfig: t.config });
  }
  if (cfg.tokenizer) {
    const t = loadTokenizer(tokenizerFolder(cfg.tokenizer));
    return saveTokenizer(dir, { tokenizerJson: t.json, tokenizerConfig: t.config });
  }
  const kind = entry.tokenizer === 'bpe' ? 'byte-level BPE' : entry.tokenizer === 'wordpiece' ? 'WordPiece' : 'Unigram';
  log(`training a ${kind} tokenizer (vocabulary ${cfg.vocabSize}) on ${cfg.corpus} ...`);
  const t0 = performance.now();
  const { train } = corpusSplits(cfg.corpus);
  async function* texts() {
    for await (const d of readCorpus(train)) yield d.text;
  }
  const trained = await trainArchTokenizer(entry, texts(), cfg.vocabSize);
  log(`tokenizer trained in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${dir}`);
  return saveTokenizer(dir, trained);
}

/** The folder of a --tokenizer value (tokenizer.json or its folder). */
function tokenizerFolder(spec: string): string {
  return spec.endsWith('.json') ? path.dirname(spec) : spec;
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
    if (!existsSync(cfg.resume)) throw new Error(`--resume ${cfg.resume}: no such folder`);
    if (existsSync(path.join(cfg.resume, 'trainer_state.json'))) return cfg.resume;
    // A run folder: its newest checkpoint.
    const last = await latestCheckpoint(cfg.resume);
    if (!last) throw new Error(`--resume ${cfg.resume}: neither a checkpoint folder (no trainer_state.json) nor a run folder with checkpoint-<step> folders`);
    return last;
  }
  const last = await latestCheckpoint(cfg.out);
  if (!last) {
    const why = existsSync(cfg.out) ? `no checkpoint-<step> folder in ${cfg.out}` : `${cfg.out} does not exist`;
    throw new Error(`--resume: nothing to resume: ${why} (check --out, or start a new run without --resume)`);
  }
  return last;
}

/**
 * Settings a resumed run cannot change: they fix the model's shapes, the tokenizer or the data stream whose
 * position the checkpoint holds. Everything else (max-steps, the learning-rate schedule, the optimizer's settings,
 * grad-accum, grad-clip, dropout, gradient checkpointing, evaluation, saving, keep-last) may change on resume.
 */
export const FIXED_ON_RESUME = [
  'arch', 'layers', 'hidden', 'heads', 'kvHeads', 'intermediate', 'vocabSize', 'tokenizer', 'corpus', 'seqLen', 'batchSize', 'objective',
  ...OBJECTIVE_KEYS,
] as const satisfies readonly (keyof FlatTrainConfig)[];

function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The settings a run was started with: train_config.json in `dir`, if there is one. */
export async function readRunConfig(dir: string): Promise<{ file: string; config: TrainConfig } | undefined> {
  const file = path.join(dir, TRAIN_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return { file, config: JSON.parse(text) as TrainConfig };
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); fix or delete it to resume with flags only`);
  }
}

/** Refuses a resume that would change a FIXED_ON_RESUME setting; the error lists every one. */
export function checkResumeSettings(saved: TrainConfig, cfg: TrainConfig, file: string): void {
  // Runs from before the model/objective sections saved flat settings.
  const was = (saved.model && typeof saved.objective === 'object' ? flattened(saved) : saved) as unknown as Record<string, unknown>;
  const now = flattened(cfg) as unknown as Record<string, unknown>;
  const show = (v: unknown) => (v === undefined ? 'none' : String(v));
  // Optional settings (no default) are absent from the file when unset; others may be absent from an older file.
  const optional: readonly string[] = ['tokenizer', 'kvHeads', 'intermediate'];
  const changed = FIXED_ON_RESUME.filter((k) => (k in was || optional.includes(k)) && JSON.stringify(was[k]) !== JSON.stringify(now[k]))
    .map((k) => `${flagOf(k)} ${show(now[k])} (the run has ${show(was[k])})`);
  if (changed.length)
    throw new Error(`--resume: ${changed.join(', ')}: ${changed.length > 1 ? 'these settings' : 'this setting'} cannot change when resuming the run of ${file}; drop ${changed.length > 1 ? 'them' : 'it'}, or start a new run in another --out`);
}

/** How many tokens a config's positions allow (undefined: no position table, e.g. RoPE). */
function positionsOf(hf: HfConfig): number | undefined {
  const o = hf as unknown as Record<string, unknown>;
  if (o['model_type'] === 'llama') return undefined;
  const n = [o['n_positions'], o['max_position_embeddings']].find((v): v is number => typeof v === 'number');
  if (n === undefined) return undefined;
  // RoBERTa's table starts after the padding index.
  return o['model_type'] === 'roberta' && typeof o['pad_token_id'] === 'number' ? n - o['pad_token_id'] - 1 : n;
}

export interface PretrainResult extends TrainResult {
  entry: ModelEntry;
  model: PretrainingModel;
  hf: HfConfig;
  store: ParameterStore;
  tokenizer: Tokenizer;
  /** The corpus had too few documents to hold any out: evaluation used the training documents. */
  evalOnTrain: boolean;
}

export async function pretrain(cfg: TrainConfig, o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? ((s: string) => console.error(s));
  checkPairing(cfg.arch, cfg.objective.name);
  const entry = getModel(cfg.arch);
  const objective = getObjective(cfg.objective.name);
  // Everything that can fail on the settings is checked before any work is done or any file is written.
  let hf: HfConfig | undefined;
  let from: string | undefined;
  let fromStep = 0;
  if (cfg.resume && cfg.overwrite) throw new Error('--resume continues the run in --out and --overwrite deletes it: give one of them');
  if (cfg.resume) {
    from = await resumeCheckpoint(cfg);
    const ck = await loadCheckpoint(from, { skipOptimizer: true });
    if (ck.config.model_type !== cfg.arch) throw new Error(`--resume ${from}: the checkpoint is a ${ck.config.model_type} model, not --arch ${cfg.arch}`);
    hf = ck.config;
    const state = ck.trainerState as { seed?: number; step?: number } | undefined;
    fromStep = state?.step ?? 0;
    // The run's settings: its train_config.json (in --out, or next to a checkpoint of another run folder).
    const saved = (await readRunConfig(cfg.out)) ?? (await readRunConfig(path.dirname(from)));
    if (saved) checkResumeSettings(saved.config, cfg, saved.file);
    if (state?.seed !== undefined && state.seed !== cfg.seed) {
      log(`--resume: continuing with the run's seed ${state.seed} (not ${cfg.seed})`);
      cfg = { ...cfg, seed: state.seed };
    }
  }
  // The model's positions, and the memory a training step needs, before anything is built.
  const positions = hf ? positionsOf(hf) : undefined;
  if (positions !== undefined && cfg.seqLen > positions)
    throw new Error(`--seq-len ${cfg.seqLen}: the model of ${from} has ${positions} positions; use --seq-len ${positions} or less`);
  const vocab = hf ? (hf as unknown as { vocab_size: number }).vocab_size : cfg.tokenizer ? loadTokenizer(tokenizerFolder(cfg.tokenizer)).vocabSize : cfg.vocabSize;
  checkTrainingMemory({
    batchSize: cfg.batchSize, seqLen: cfg.seqLen, layers: cfg.model.layers, hidden: cfg.model.hidden, heads: cfg.model.heads,
    intermediate: cfg.model.intermediate, vocab, positions: Math.max(cfg.seqLen, 512),
  });

  // The run folder: one training process at a time, and a new run does not silently mix with an old one.
  await mkdir(cfg.out, { recursive: true });
  const lock = lockRunFolder(cfg.out);
  try {
    if (!cfg.resume) {
      const keep = cfg.tokenizer ? [path.resolve(tokenizerFolder(cfg.tokenizer))] : [];
      const removed = claimForNewRun(cfg.out, cfg.overwrite === true, keep);
      if (removed.length) log(`--overwrite: deleted the old run in ${cfg.out} (${removed.join(', ')})`);
    }
    if (from) log(`resuming from ${from} at step ${fromStep}`);
    return await pretrainLocked(cfg, o, log, entry, objective, hf, from);
  } finally {
    lock.release();
  }
}

async function pretrainLocked(cfg: TrainConfig, o: PretrainOptions, log: (s: string) => void, entry: ModelEntry, objective: Objective,
  resumedHf: HfConfig | undefined, from: string | undefined): Promise<PretrainResult> {
  const tok = await prepareTokenizer(cfg, entry, log, from);
  if (from)
    await checkTokenizerHash(from, tok.hash, `--resume: the run's tokenizer (${path.join(cfg.out, 'tokenizer')})`, 'put back the tokenizer the run was trained with');
  const docs = await corpusDocuments(cfg.corpus, tok);
  log(`corpus ${cfg.corpus}: ${docs.train.documentCount} training documents, ${docs.train.tokenCount} tokens; ${docs.evalOnTrain ? 'none' : docs.eval.documentCount} held out`);
  if (docs.evalOnTrain)
    log(`warning: ${cfg.corpus} has ${docs.train.documentCount} documents, too few to hold out every 10th; evaluation uses the training documents, so eval loss measures memorisation, not generalisation`);

  const run = pretrainingRun(cfg, tok, docs, resumedHf);
  const { hf, model, store, architectures } = run;
  log(`model ${cfg.arch} (${objective.name}): ${(store.count() / 1e6).toFixed(2)} M parameters`);
  if (!run.evalBatches.length) log(`warning: the held-out documents do not fill one batch of ${cfg.batchSize}x${cfg.seqLen} tokens; evaluation is skipped`);

  const tokDir = path.join(cfg.out, 'tokenizer');
  const trainer = new Trainer(o.backend, store, {
    trainLoss: run.trainLoss,
    evalOutputs: run.evalOutputs,
    train: run.train,
    evalBatches: () => run.evalBatches,
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
  // The model is built and the data ready: the run starts, and its settings are what a later --resume continues.
  const { resume: _resume, overwrite: _overwrite, ...settings } = cfg;
  await writeFileAtomic(path.join(cfg.out, TRAIN_CONFIG_FILE), `${JSON.stringify({ ...settings, resume: false }, null, 2)}\n`);
  const result = await trainer.run();
  return { ...result, entry, model, hf, store, tokenizer: tok, evalOnTrain: docs.evalOnTrain };
}

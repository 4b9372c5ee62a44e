// The training configuration's shape, its defaults and how flat values resolve into a config (pure: the browser
// playground resolves its options here too); src/cli/config.ts validates values and documents each field.
// Three parts: the run (data, optimisation, schedule, checkpoints), `model` (the size of a new model) and
// `objective` (the pretraining objective and its options).
import '../models/index.js';
import '../objectives/index.js';
import { checkPairing, getModel } from '../models/registry.js';
import type { ObjectiveOptions } from '../objectives/objective.js';
import type { Decay } from './schedule.js';

export interface ModelSettings {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads?: number;
  intermediate?: number;
  dropout: number;
}

/** The objective's name and every objective option (each objective reads the ones it uses). */
export type ObjectiveSettings = { name: string } & Omit<ObjectiveOptions, 'seqLen' | 'batchSize' | 'seed' | 'family'>;

export interface TrainConfig {
  /** A registered Hugging Face model_type (src/models/registry.ts). */
  arch: string;
  model: ModelSettings;
  objective: ObjectiveSettings;
  corpus: string;
  out: string;
  tokenizer?: string;
  vocabSize: number;
  seqLen: number;
  batchSize: number;
  gradAccum: number;
  lr: number;
  minLrRatio: number;
  warmup: number;
  maxSteps: number;
  decay: Decay;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  gradClip: number;
  evalEvery: number;
  evalBatches: number;
  saveEvery: number;
  keepLast: number;
  seed: number;
  /** Recompute each block's forward in the backward (Hugging Face's gradient_checkpointing); same results, less memory. */
  gradientCheckpointing?: boolean;
  resume: boolean | string;
  /** A new run in a folder that holds one (log.jsonl, train_config.json, checkpoints) deletes it first; otherwise that is an error. */
  overwrite?: boolean;
}

/** Every field at one level, as flags and the FIELDS table name them (`--layers`, `--mask-prob`, ...). */
export type FlatTrainConfig = Omit<TrainConfig, 'model' | 'objective'> &
  ModelSettings & Omit<ObjectiveSettings, 'name'> & { objective: string };

export const MODEL_KEYS = ['layers', 'hidden', 'heads', 'kvHeads', 'intermediate', 'dropout'] as const satisfies readonly (keyof ModelSettings)[];
export const OBJECTIVE_KEYS = [
  'blocks', 'maskProb', 'selection', 'maxPredictions', 'wholeWord', 'masking', 'dupeFactor', 'packing', 'shortSeqProb',
  'spanP', 'spanMaxWords', 'sboWeight', 'noiseDensity', 'meanNoiseSpanLength',
] as const satisfies readonly (keyof Omit<ObjectiveSettings, 'name'>)[];

/** The sectioned config from flat values. */
export function sectioned(flat: FlatTrainConfig): TrainConfig {
  const { objective, ...rest } = flat;
  const r = rest as Record<string, unknown>;
  const model = Object.fromEntries(MODEL_KEYS.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])) as unknown as ModelSettings;
  const obj = { name: objective, ...Object.fromEntries(OBJECTIVE_KEYS.map((k) => [k, r[k]])) } as ObjectiveSettings;
  for (const k of [...MODEL_KEYS, ...OBJECTIVE_KEYS]) delete r[k];
  return { ...(r as Omit<TrainConfig, 'model' | 'objective'>), model, objective: obj };
}

/** The flat values of a sectioned config. */
export function flattened(c: TrainConfig): FlatTrainConfig {
  const { model, objective, ...rest } = c;
  const { name, ...opts } = objective;
  return { ...rest, ...model, ...opts, objective: name };
}

/** The default of every field that has one (objective, warmup, tokenizer, kvHeads and intermediate are derived). */
export const TRAIN_DEFAULTS: Readonly<Partial<FlatTrainConfig>> = {
  arch: 'gpt2',
  blocks: 'packed',
  maskProb: 0.15,
  selection: 'bernoulli',
  maxPredictions: 20,
  wholeWord: false,
  masking: 'dynamic',
  dupeFactor: 10,
  packing: 'full-sentences',
  shortSeqProb: 0.1,
  spanP: 0.2,
  spanMaxWords: 10,
  sboWeight: 1,
  noiseDensity: 0.15,
  meanNoiseSpanLength: 3,
  corpus: 'brown',
  out: 'runs/clm',
  vocabSize: 8192,
  layers: 4,
  hidden: 256,
  heads: 4,
  seqLen: 128,
  batchSize: 16,
  gradAccum: 1,
  lr: 0.0006,
  minLrRatio: 0.1,
  maxSteps: 2000,
  decay: 'cosine',
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-08,
  gradClip: 1,
  evalEvery: 200,
  evalBatches: 20,
  saveEvery: 500,
  keepLast: 2,
  seed: 1337,
  dropout: 0.1,
  gradientCheckpointing: false,
  resume: false,
  overwrite: false,
};

/**
 * Defaults, then the architecture's reference recipe (e.g. RoBERTa's Adam beta2 0.98), then `values` (already
 * checked field by field); the objective defaults to the architecture's own and warmup to 5% of maxSteps.
 * Cross-field problems are reported together.
 */
export function resolveTrainConfig(values: Partial<FlatTrainConfig>): TrainConfig {
  const arch = values.arch ?? TRAIN_DEFAULTS.arch!;
  const merged = { ...TRAIN_DEFAULTS, ...(getModel(arch).recipe as Partial<FlatTrainConfig> | undefined), ...values };
  const objective = merged.objective ?? getModel(arch).objectives[0]!;
  checkPairing(arch, objective);
  const flat = { ...merged, objective, warmup: merged.warmup ?? Math.round(0.05 * merged.maxSteps!) } as FlatTrainConfig;
  checkConsistency(flat);
  return sectioned(flat);
}

function checkConsistency(c: FlatTrainConfig): void {
  const errors: string[] = [];
  if (c.hidden % c.heads !== 0) errors.push(`hidden (${c.hidden}) must be divisible by heads (${c.heads})`);
  if (c.kvHeads !== undefined) {
    if (c.arch !== 'llama') errors.push(`kvHeads applies only to arch "llama" (arch is "${c.arch}")`);
    else if (c.heads % c.kvHeads !== 0) errors.push(`kvHeads (${c.kvHeads}) must divide heads (${c.heads})`);
  }
  if (c.warmup >= c.maxSteps && c.warmup > 0) errors.push(`warmup (${c.warmup}) must be less than maxSteps (${c.maxSteps})`);
  if ((c.hidden / c.heads) % 2 !== 0 && c.arch === 'llama') errors.push(`llama needs an even head size for RoPE: hidden / heads = ${c.hidden / c.heads}`);
  if (errors.length) throw new Error(`invalid configuration:\n  ${errors.join('\n  ')}`);
}

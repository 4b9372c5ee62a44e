// The training configuration's shape; src/cli/config.ts validates it, fills defaults and documents each field.
// Three parts: the run (data, optimisation, schedule, checkpoints), `model` (the size of a new model) and
// `objective` (the pretraining objective and its options).
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

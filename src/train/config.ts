// The training configuration's shape; src/cli/config.ts validates it, fills defaults and documents each field.
import type { Decay } from './schedule.js';

export interface TrainConfig {
  arch: 'gpt2' | 'llama';
  objective: 'clm';
  /** How token blocks are made: packed documents (HF group_texts) or random windows (nanoGPT). */
  blocks: 'packed' | 'windows';
  corpus: string;
  out: string;
  tokenizer?: string;
  vocabSize: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads?: number;
  intermediate?: number;
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
  dropout: number;
  resume: boolean | string;
}

// The library entry point: `import { ... } from 'pretrain'`. Each layer is also importable on its own
// (`pretrain/dist/src/<layer>/...`); this file gathers what a program that trains models needs.
export * as graph from './graph/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as tokenizers from './tokenizers/index.js';
export * as data from './data/index.js';
export * as clm from './objectives/clm.js';
export * as objectives from './objectives/index.js';
export { nodeBackend } from './runtime/node.js';
export type { Backend, Session, HostTensor } from './runtime/backend.js';
export { ParameterStore } from './runtime/store.js';
export { TrainStep, Forward, type Batch } from './runtime/step.js';
export type { OptimizerConfig, AdamWConfig, SgdConfig } from './runtime/optimizers.js';
export { Gpt2LMHeadModel, gpt2Config } from './models/gpt2.js';
export { LlamaForCausalLM, llamaConfig } from './models/llama.js';
export { DecoderClassifier } from './models/classifier.js';
export { Trainer, type TrainerTask, type TrainerOptions, type BatchSource } from './train/trainer.js';
export { pretrain } from './train/pretrain.js';
export { registerModel, getModel, modelTypes, type ModelEntry, type PretrainingModel } from './models/registry.js';
export { registerObjective, getObjective, objectiveNames, objectiveHeads, type Objective } from './objectives/objective.js';
export { finetuneClassifier, brownGenreData, jsonlData } from './train/finetune.js';
export { Generator, textStreamer } from './generate/generate.js';
export { exportDecoderOnnx } from './generate/decoder-graph.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint.js';
export { runExperiment, type ExperimentOptions, type ExperimentOutcome } from './experiments/experiment.js';
export { PRESETS, type ExperimentSettings } from './experiments/design.js';

// The browser entry point (bundled as dist/web/pretrain.js): the graph builder, layers, models, objectives, our
// tokenizer trainers and the pure encoder, the train step, the onnxruntime-web backend and training on in-memory
// text. Nothing reachable from here imports Node or a native package (test/browser/imports.test.ts checks it).
// What is left out: file-based corpora, token shards, the Trainer's run folders (checkpoints on disk, log.jsonl,
// resume) and the CLI; a page keeps its run in memory and downloads checkpoints as zips.
export * as graph from '../graph/index.js';
export * as nn from '../nn/index.js';
export * as models from '../models/index.js';
export * as objectives from '../objectives/index.js';
export { registerModel, getModel, modelTypes, type ModelEntry, type PretrainingModel } from '../models/registry.js';
export { registerObjective, getObjective, objectiveNames, objectiveHeads, type Objective } from '../objectives/objective.js';
export { previewExamples, formatPreview } from '../objectives/preview.js';
export * from '../tokenizers/json.js';
export { createTrainer, trainTokenizer, trainTokenizerAsync } from '../tokenizers/train.js';
export { pureTokenizer, type PureTokenizer } from '../tokenizers/encoder.js';
export { syncDecoder } from '../tokenizers/decode.js';
export type { Tokenizer, Encoding } from '../tokenizers/base.js';
export { textDocuments, textLines, jsonlDocuments } from '../data/text.js';
export { tokenizeDocuments, MemoryDocuments } from '../data/memory.js';
export type { CorpusDocument, DocumentSource, TokenDocument } from '../data/types.js';
export { webBackend, type WebBackendOptions } from '../runtime/web.js';
export type { Backend, Session, HostTensor } from '../runtime/backend.js';
export { ParameterStore, storeFromWeights } from '../runtime/store.js';
export { TrainStep, Forward, type Batch } from '../runtime/step.js';
export { optimizerSteps } from '../train/steps.js';
export { learningRate } from '../train/schedule.js';
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig, type FlatTrainConfig } from '../train/config.js';
export { pretrainingRun, freshStore, weightsOf, holdout } from '../train/pretrain-setup.js';
export { lossCurveSvg } from '../train/plot.js';
export { trainText, prepareTextRun, trainRun, runCheckpointFiles, documentsOfText, type TextTrainOptions, type TextTrainResult, type TextRun } from './train.js';
export { checkpointFilesOf, CHECKPOINT_FILES } from '../io/checkpoint-files.js';
export { zipFiles } from '../io/zip.js';
export { serializeSafetensors, parseSafetensorsF32 } from '../io/safetensors.js';
export { Generator, textStreamer } from '../generate/generate.js';
export { FillMask } from '../generate/fill-mask.js';
export { Seq2SeqGenerator } from '../generate/seq2seq.js';

export * from './json.js';
export * from './pretokenize.js';
export { learnMerges, type MergeWord, type MergeOptions, type MergeResult } from './merges.js';
export { createWordPieceTrainer, WORDPIECE_DEFAULTS, type WordPieceTrainOptions } from './wordpiece.js';
export { createBpeTrainer, BPE_DEFAULTS, type BpeTrainOptions } from './bpe.js';
export { createUnigramTrainer, UNIGRAM_DEFAULTS, T5_SPECIALS, type UnigramTrainOptions } from './unigram.js';
export { createTrainer, trainTokenizer, trainTokenizerAsync, type TrainOptions } from './train.js';
export * from './tokenizer.js';
export { syncDecoder } from './decode.js';

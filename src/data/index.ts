export * from './types.js';
export { DataError } from './errors.js';
export { Rng, roundHalfEven, type RngState } from './rng.js';
export { splitSentences, DEFAULT_ABBREVIATIONS, type SplitOptions } from './sentences.js';
export { detokenize, detokenizeSpans } from './detok.js';
export { splitGenre } from './brown-split.js';
export { loadBrown, brownDocuments, parseBrownFile, brownDir } from './brown.js';
export {
  resolveCorpus,
  readCorpus,
  corpusSentences,
  readLines,
  readJsonlObjects,
  readTextFile,
  readJsonlFile,
  expandGlob,
  type CorpusOptions,
  type ResolvedCorpus,
} from './corpus.js';
export * from './shards.js';
export { MemoryDocuments, tokenizeDocuments, needsSpaceBetweenSentences, sentenceTexts } from './memory.js';
export { textDocuments, textLines, jsonlDocuments, jsonlObjects, type Lines } from './text.js';
export * from './batching.js';
export { UNIVERSAL_TAGS, brownToUniversal, brownTagBase, brownPosData, type UniversalTag, type TaggedSentence } from './brown-pos.js';
export { IGNORE_INDEX, readTaggedJsonl, alignWordLabels, encodeWithSpecials, keptPositions, type AlignedSentence } from './tagging.js';
export { readSquad, parseSquad, squadJson, brownQa, type SquadExample, type SquadAnswer, type BrownQaOptions } from './squad.js';
export {
  prepareQaFeatures, bestAnswers, pairTemplate, decoderTemplate, contextWindows, QA_NO_ANSWER,
  type QaInput, type QaFeature, type QaFeatureOptions, type QaAnswer, type QaAnswerOptions, type PairTemplate,
} from './qa-features.js';

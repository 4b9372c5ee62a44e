/**
 * Types of the Hugging Face `tokenizer.json` / `tokenizer_config.json` files
 * we write, and the result type of every trainer. Pure: no Node imports.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type TokenizerKind = 'wordpiece' | 'bpe' | 'unigram';
export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['wordpiece', 'bpe', 'unigram'];

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
  [key: string]: JsonValue;
}

/** tokenizer.json as the Rust `tokenizers` crate serialises it (version 1.0). */
export interface TokenizerJson {
  version: string;
  truncation: JsonValue;
  padding: JsonValue;
  added_tokens: AddedTokenJson[];
  normalizer: JsonValue;
  pre_tokenizer: JsonValue;
  post_processor: JsonValue;
  decoder: JsonValue;
  model: JsonObject;
  [key: string]: JsonValue;
}

/** tokenizer_config.json: the special-token fields transformers / transformers.js read. */
export interface TokenizerConfig {
  tokenizer_class: string;
  model_max_length: number;
  [key: string]: JsonValue;
}

/** What a trainer returns: both files, ready to save. */
export interface TrainedTokenizer {
  kind: TokenizerKind;
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfig;
  stats: TrainStats;
}

export interface TrainStats {
  /** Distinct pre-tokenised words counted. */
  uniqueWords: number;
  /** Total pre-tokenised words counted. */
  totalWords: number;
  vocabSize: number;
  /** Milliseconds spent in the learning step (after counting). */
  learnMs: number;
}

/** Streaming trainer: feed texts (documents, lines), then finish. */
export interface TokenizerTrainer {
  addText(text: string): void;
  finish(): TrainedTokenizer;
}

export function addedToken(id: number, content: string, special = true): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** Adds `count` to `word` in a word-count dictionary. */
export function bump(counts: Map<string, number>, word: string, count = 1): void {
  counts.set(word, (counts.get(word) ?? 0) + count);
}

/** special_tokens_map.json: the special-token fields of tokenizer_config.json. */
export function specialTokensMap(config: TokenizerConfig): JsonObject {
  const map: JsonObject = {};
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token', 'additional_special_tokens']) {
    const v = config[k];
    if (v !== undefined) map[k] = v;
  }
  return map;
}

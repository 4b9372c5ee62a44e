// The files of a checkpoint folder in the Hugging Face layout, as bytes and text in memory: saveCheckpoint
// (checkpoint.ts) writes them to disk, the browser playground zips them. Pure: no Node imports.
import { sha256Hex } from '../tokenizers/sha256.js';
import type { GenerationConfig, HfConfig } from './hf-config.js';
import { generationConfigFromModel, serializeGenerationConfig, serializeHfConfig } from './hf-config.js';
import type { JsonValue } from './json.js';
import type { F32Tensor } from './safetensors.js';
import { serializeSafetensors } from './safetensors.js';

export type Weights = Map<string, F32Tensor>;

export const CHECKPOINT_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokensMap: 'special_tokens_map.json',
  generationConfig: 'generation_config.json',
  trainerState: 'trainer_state.json',
  optimizer: 'optimizer.safetensors',
} as const;

/**
 * The sha256 (hex) of the tokenizer a model was trained with, written next to tokenizer.json in every checkpoint
 * that carries one, so a tokenizer.json swapped in later (same vocabulary size, different tokens) is caught.
 */
export const TOKENIZER_HASH_FILE = 'tokenizer.sha256';

/** Tokenizer.hash of a tokenizer.json text: the sha256 of its JSON as parsed and written back. */
export function tokenizerJsonHash(text: string): string {
  return sha256Hex(new TextEncoder().encode(JSON.stringify(JSON.parse(text))));
}

export type TokenizerSource =
  /** A folder holding tokenizer.json (and optionally tokenizer_config.json, special_tokens_map.json). */
  | { dir: string }
  /** The file contents; `config` is tokenizer_config.json. */
  | { json: string; config?: string; specialTokensMap?: string };

export interface CheckpointContents {
  config: HfConfig;
  /** Overrides config.architectures / the default class name in config.json. */
  architectures?: string[];
  /** HF parameter names; tied weights stored once, under their first name. */
  weights: ReadonlyMap<string, F32Tensor>;
  tokenizer?: TokenizerSource;
  /** true: derive the token ids from the config as HF does; an object: write it; absent: no file. */
  generationConfig?: GenerationConfig | true;
  /** Anything the trainer needs to resume exactly (step, epoch, RNG states, data position...). */
  trainerState?: JsonValue;
  /** Optimizer moments by name, e.g. "exp_avg.transformer.wte.weight". */
  optimizer?: ReadonlyMap<string, F32Tensor>;
  /** Further files (relative names) to put in the folder, e.g. "onnx/model.onnx". */
  extraFiles?: Record<string, Uint8Array | string>;
}

/** The tokenizer's files (tokenizer.json, and tokenizer_config.json and special_tokens_map.json when given). */
export function tokenizerTextFiles(src: { json: string; config?: string; specialTokensMap?: string }): Record<string, string> {
  const out: Record<string, string> = { [CHECKPOINT_FILES.tokenizer]: src.json };
  if (src.config !== undefined) out[CHECKPOINT_FILES.tokenizerConfig] = src.config;
  if (src.specialTokensMap !== undefined) out[CHECKPOINT_FILES.specialTokensMap] = src.specialTokensMap;
  return out;
}

/** The files of a checkpoint, in memory (saveCheckpoint writes them; the browser zips them). */
export function checkpointFilesOf(c: CheckpointContents, tokenizer?: Record<string, string>): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    [CHECKPOINT_FILES.config]: serializeHfConfig(c.config, c.architectures ? { architectures: c.architectures } : {}),
    [CHECKPOINT_FILES.model]: serializeSafetensors(c.weights),
  };
  if (tokenizer) {
    Object.assign(files, tokenizer);
    files[TOKENIZER_HASH_FILE] = `${tokenizerJsonHash(files[CHECKPOINT_FILES.tokenizer] as string)}\n`;
  }
  if (c.generationConfig === true) {
    files[CHECKPOINT_FILES.generationConfig] = serializeGenerationConfig(generationConfigFromModel(c.config), { fromModelConfig: true });
  } else if (c.generationConfig) {
    files[CHECKPOINT_FILES.generationConfig] = serializeGenerationConfig(c.generationConfig);
  }
  if (c.trainerState !== undefined) files[CHECKPOINT_FILES.trainerState] = `${JSON.stringify(c.trainerState, null, 2)}\n`;
  if (c.optimizer) files[CHECKPOINT_FILES.optimizer] = serializeSafetensors(c.optimizer);
  for (const [name, data] of Object.entries(c.extraFiles ?? {})) {
    if (name in files) throw new Error(`saveCheckpoint: extra file "${name}" would overwrite a checkpoint file`);
    files[name] = data;
  }
  return files;
}


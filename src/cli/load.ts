// Loading a trained decoder (or encoder-decoder) for generation, fine-tuning and prediction, through the one loader
// (train/load.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Seq2SeqLM } from '../generate/seq2seq.js';
import { checkTokenizerHash, loadCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { parseHfConfigText } from '../io/hf-config.js';
import { getModel, type ModelFamily } from '../models/registry.js';
import { causalLMFromHf, type CausalLMInfo } from '../models/index.js';
import { ParameterStore, storeFromWeights } from '../runtime/store.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { resolveModelDir } from '../train/load.js';

export { resolveModelDir } from '../train/load.js';

export interface LoadedDecoder extends CausalLMInfo {
  dir: string;
  store: ParameterStore;
  tokenizer: Tokenizer;
  checkpoint: LoadedCheckpoint;
}

export async function loadDecoder(dirOrRun: string): Promise<LoadedDecoder> {
  const dir = await resolveModelDir(dirOrRun);
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const info = causalLMFromHf(ck.config);
  const store = storeFromWeights(info.model.parameters(), ck.weights, `${dir}/model.safetensors`);
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.vocabSize > info.vocabSize)
    throw new Error(`${dir}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${info.vocabSize}`);
  return { ...info, dir, store, tokenizer, checkpoint: ck };
}

/** A pretrained checkpoint of any model_type for fine-tuning: its config, every stored weight, its tokenizer. */
export interface LoadedBase {
  dir: string;
  hf: LoadedCheckpoint['config'];
  store: ParameterStore;
  tokenizer: Tokenizer;
}

/**
 * `force`: fine-tune even when the folder's tokenizer.json is not the one the model was trained with (its
 * tokenizer.sha256 differs), which is otherwise an error.
 */
export async function loadBase(dirOrRun: string, opts: { force?: boolean } = {}): Promise<LoadedBase> {
  const dir = await resolveModelDir(dirOrRun);
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const tokenizer = loadTokenizer(dir);
  if (!opts.force)
    await checkTokenizerHash(dir, tokenizer.hash, `--from ${dir}: its tokenizer.json`, 'put back the tokenizer.json the model was trained with, or pass --force to fine-tune with this one');
  const store = new ParameterStore();
  for (const [name, w] of ck.weights) store.set(name, [...w.shape], w.data);
  return { dir, hf: ck.config, store, tokenizer };
}

/** An encoder-decoder checkpoint for generation (any model_type whose registry family is 'encoder-decoder'). */
export interface LoadedSeq2Seq {
  dir: string;
  model: Seq2SeqLM;
  store: ParameterStore;
  tokenizer: Tokenizer;
  decoderStartTokenId: number;
  eosTokenId?: number | number[];
  padTokenId: number;
}

/** The registry family of the model in a checkpoint or run folder (what `generate` dispatches on). */
export async function modelFamilyOf(dirOrRun: string): Promise<{ dir: string; modelType: string; family: ModelFamily }> {
  const dir = await resolveModelDir(dirOrRun);
  const config = parseHfConfigText(readFileSync(path.join(dir, 'config.json'), 'utf8'), path.join(dir, 'config.json'));
  return { dir, modelType: config.model_type, family: getModel(config.model_type).family };
}

export async function loadSeq2Seq(dirOrRun: string): Promise<LoadedSeq2Seq> {
  const dir = await resolveModelDir(dirOrRun);
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const entry = getModel(ck.config.model_type);
  if (entry.family !== 'encoder-decoder') throw new Error(`${dir}: a ${ck.config.model_type} model is not an encoder-decoder`);
  const built = entry.build(ck.config);
  const store = storeFromWeights(built.parameters(), ck.weights, path.join(dir, 'model.safetensors'));
  const tokenizer = loadTokenizer(dir);
  const hf = ck.config as unknown as { vocab_size: number; decoder_start_token_id?: number; eos_token_id?: number | number[]; pad_token_id?: number };
  if (tokenizer.vocabSize > hf.vocab_size) throw new Error(`${dir}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${hf.vocab_size}`);
  const gen = ck.generationConfig ?? {};
  const pad = gen.pad_token_id ?? hf.pad_token_id ?? 0;
  return {
    dir, model: built as unknown as Seq2SeqLM, store, tokenizer,
    decoderStartTokenId: gen.decoder_start_token_id ?? hf.decoder_start_token_id ?? pad,
    eosTokenId: gen.eos_token_id ?? hf.eos_token_id, padTokenId: pad,
  };
}

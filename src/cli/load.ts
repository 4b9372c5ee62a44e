// Loading a trained decoder for generation, fine-tuning and prediction, through the one loader (train/load.ts).
import { checkTokenizerHash, loadCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
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

// Loading a trained decoder for eval, generation, fine-tuning and prediction: a checkpoint folder, or a run
// folder (its newest checkpoint-<step>).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { latestCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { causalLMFromHf, type CausalLMInfo } from '../models/index.js';
import { ParameterStore } from '../runtime/store.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';

export async function resolveModelDir(dir: string): Promise<string> {
  if (!existsSync(dir)) throw new Error(`--model ${dir}: no such folder`);
  if (existsSync(path.join(dir, 'config.json'))) return dir;
  const last = await latestCheckpoint(dir);
  if (!last) throw new Error(`--model ${dir}: neither a checkpoint (no config.json) nor a run folder with checkpoint-<step> folders`);
  return last;
}

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
  const store = new ParameterStore();
  const problems: string[] = [];
  for (const p of info.model.parameters()) {
    const w = ck.weights.get(p.name);
    if (!w) problems.push(`missing "${p.name}" [${p.shape}]`);
    else if (w.shape.join() !== p.shape.join()) problems.push(`"${p.name}" is [${w.shape}], config.json implies [${p.shape}]`);
    else store.set(p.name, w.shape, w.data);
  }
  if (problems.length) throw new Error(`${dir}/model.safetensors does not match config.json:\n  ${problems.join('\n  ')}`);
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

export async function loadBase(dirOrRun: string): Promise<LoadedBase> {
  const dir = await resolveModelDir(dirOrRun);
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const store = new ParameterStore();
  for (const [name, w] of ck.weights) store.set(name, [...w.shape], w.data);
  return { dir, hf: ck.config, store, tokenizer: loadTokenizer(dir) };
}

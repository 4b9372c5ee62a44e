// Loading a saved model by its config.json's model_type, for eval, fill-mask, fine-tuning and prediction: a
// checkpoint folder, or a run folder (its finished model at the root, else its newest checkpoint-<step>).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { latestCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import type { HfConfig } from '../io/hf-config.js';
import '../models/index.js';
import { getModel, type HeadName, type ModelEntry, type PretrainingModel } from '../models/registry.js';
import '../objectives/index.js';
import { getObjective, objectiveHeads } from '../objectives/objective.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';

export async function resolveModelDir(dir: string): Promise<string> {
  if (!existsSync(dir)) throw new Error(`--model ${dir}: no such folder`);
  if (existsSync(path.join(dir, 'config.json'))) return dir;
  const last = await latestCheckpoint(dir);
  if (!last) throw new Error(`--model ${dir}: neither a checkpoint (no config.json) nor a run folder with checkpoint-<step> folders`);
  return last;
}

/** The objective name in the train_config.json of the run a model folder belongs to, if there is one. */
function trainedObjective(dir: string): string | undefined {
  for (const file of [path.join(dir, 'train_config.json'), path.join(path.dirname(dir), 'train_config.json')]) {
    if (!existsSync(file)) continue;
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { objective?: string | { name?: string } };
      const name = typeof c.objective === 'string' ? c.objective : c.objective?.name;
      if (name) return name;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface LoadedModel {
  dir: string;
  entry: ModelEntry;
  hf: HfConfig;
  model: PretrainingModel;
  store: ParameterStore;
  tokenizer: Tokenizer;
  checkpoint: LoadedCheckpoint;
  /** The pretraining objective whose heads the checkpoint carries (the one with the most heads that fits). */
  objective: string;
}

/**
 * A saved model with the heads of `objective` (default: the model's objective with the most heads whose weights
 * the checkpoint holds). Every weight is checked by name and shape against config.json.
 */
export async function loadPretrained(dirOrRun: string, opts: { objective?: string } = {}): Promise<LoadedModel> {
  const dir = await resolveModelDir(dirOrRun);
  const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
  const entry = getModel(ck.config.model_type);
  const fits = (heads: readonly HeadName[]) => entry.build(ck.config, { heads }).parameters().every((p) => ck.weights.has(p.name));
  // The objective the run trained (its train_config.json, beside the model or one folder up) if the weights carry its
  // heads; else the objective with the most heads the weights carry (a SpanBERT checkpoint keeps its SBO head).
  const headsOf = (o: string) => objectiveHeads(getObjective(o), entry.family);
  const fitting = entry.objectives.filter((o) => fits(headsOf(o)));
  const trained = trainedObjective(dir);
  const objective = opts.objective ?? (trained && fitting.includes(trained) ? trained : fitting.sort((a, b) => headsOf(b).length - headsOf(a).length)[0]);
  if (!objective) throw new Error(`${dir}: the weights carry the heads of none of ${ck.config.model_type}'s objectives (${entry.objectives.join(', ')})`);
  if (!entry.objectives.includes(objective)) throw new Error(`--objective ${objective}: a ${ck.config.model_type} model has the objectives ${entry.objectives.join(', ')}`);
  if (!fitting.includes(objective))
    throw new Error(`--objective ${objective}: ${dir} has no weights for its heads (${headsOf(objective).join(', ')}); this checkpoint can be evaluated with ${fitting.join(', ') || 'none of them'}`);
  const model = entry.build(ck.config, { heads: headsOf(objective) });
  const store = storeFromWeights(model.parameters(), ck.weights, path.join(dir, 'model.safetensors'));
  const tokenizer = loadTokenizer(dir);
  const vocab = (ck.config as { vocab_size: number }).vocab_size;
  if (tokenizer.vocabSize > vocab) throw new Error(`${dir}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${vocab}`);
  return { dir, entry, hf: ck.config, model, store, tokenizer, checkpoint: ck, objective };
}

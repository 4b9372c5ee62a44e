// The fine-tuning heads of a model_type: what its registry entry offers (BERT, RoBERTa: classify, tag and qa), and
// for every decoder the last-token classifier, the per-token tagger and the span (QA) head. `finetune` and `predict` look heads up here by config.json's
// model_type and know no model by name.
import { decoderClassifyHead, decoderQaHead, decoderTagHead } from './classifier.js';
import { FINETUNE_TASKS, getModel, modelTypes, type FinetuneTask, type TaskHead } from './registry.js';

/** The fine-tuning heads `modelType` offers, by task. */
export function taskHeads(modelType: string): Partial<Record<FinetuneTask, TaskHead>> {
  const entry = modelTypes().includes(modelType) ? getModel(modelType) : undefined;
  if (entry?.tasks) return { ...entry.tasks };
  // Every decoder classifies from its last token (GPT-1), tags every token and answers with a span head; one head
  // each serves them all.
  if (entry?.family === 'decoder') return { classify: decoderClassifyHead(modelType), tag: decoderTagHead(modelType), qa: decoderQaHead(modelType) };
  return {};
}

export function isFinetuneTask(task: string): task is FinetuneTask {
  return (FINETUNE_TASKS as readonly string[]).includes(task);
}

/** The head for `task`, or an error naming --task and the tasks this model_type supports. */
export function taskHead(modelType: string, task: string): TaskHead {
  if (!isFinetuneTask(task)) throw new Error(`--task ${task}: unknown task (tasks: ${FINETUNE_TASKS.join(', ')})`);
  const heads = taskHeads(modelType);
  const head = heads[task];
  if (!head) {
    const ok = Object.keys(heads);
    throw new Error(`--task ${task}: model_type ${modelType} ${ok.length ? `supports only --task ${ok.join(', ')}` : 'offers no fine-tuning head'}`);
  }
  return head;
}

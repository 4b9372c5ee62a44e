// The experiment's downstream tasks: their labelled data (Brown, or the user's JSONL), the share of it a cell
// trains on, and one fine-tuning run through the task's head (src/train/finetune.ts) scored on held-out data.
import type { Backend } from '../runtime/backend.js';
import {
  brownGenreData, brownPosTagData, classificationAsText2Text, finetuneClassifier, finetuneTagger, finetuneText2Text, jsonlData,
  limitExamples, taggedJsonlData, type ClassificationData, type FinetuneBase, type FinetuneResult, type TaggingData,
} from '../train/finetune.js';
import { brownQaData, finetuneQa, type QaData } from '../train/qa.js';
import { finetuneLr, finetuneSteps, fractionCount, taskSupport, type CellSpec, type ExperimentSettings, type TaskName } from './design.js';

/** A task's labelled data, in the shape its fine-tuning reads. */
export type TaskData = { kind: 'classify'; data: ClassificationData } | { kind: 'tag'; data: TaggingData } | { kind: 'qa'; data: QaData };

/** The labelled data of a task; the held-out set is fixed (seed 0), so every cell is scored on the same examples. */
export async function loadTask(task: TaskName, s: ExperimentSettings): Promise<TaskData> {
  const maxEval = s.finetune.maxEval;
  switch (task) {
    case 'brown-category':
      return { kind: 'classify', data: brownGenreData({ labels: 'category', maxEvalPerLabel: Math.ceil(maxEval / 4), seed: 0 }) };
    case 'brown-genre':
      return { kind: 'classify', data: brownGenreData({ labels: 'genre', maxEvalPerLabel: Math.ceil(maxEval / 15), seed: 0 }) };
    case 'brown-pos':
      return { kind: 'tag', data: brownPosTagData({ maxEval, seed: 0 }) };
    case 'user': {
      const u = s.user;
      if (!u) throw new Error('task "user" needs --data');
      if (u.task === 'tag') return { kind: 'tag', data: await taggedJsonlData(u.data, u.eval) };
      return { kind: 'classify', data: await jsonlData(u.data, u.eval) };
    }
    case 'brown-qa':
      return { kind: 'qa', data: brownQaData({ maxEval, seed: 0 }) };
  }
}

/** Whether a task can run: `user` needs --data. */
export function taskAvailable(task: TaskName, s: ExperimentSettings): boolean {
  if (task === 'user') return s.user !== undefined;
  return true;
}

/** The texts of a task's held-out examples, for the domain check. */
export function taskTexts(t: TaskData): string[] {
  if (t.kind === 'qa') return [...new Set(t.data.eval.map((x) => x.context))];
  return t.kind === 'classify' ? t.data.eval.map((x) => x.text) : t.data.eval.map((x) => x.tokens.join(' '));
}

/** What a cell's score is: accuracy; for tagging word accuracy; for QA SQuAD F1, every family's. */
export function scoreName(t: TaskData): string {
  if (t.kind === 'tag') return 'word accuracy';
  if (t.kind === 'qa') return 'F1';
  return 'accuracy';
}

/** A cell's training subset: `fraction` of the training examples, drawn by the cell's seed (shared by both inits). */
export function subset<T extends { train: unknown[] }>(d: T, fraction: number, seed: number): T {
  return { ...d, train: limitExamples(d.train, fractionCount(d.train.length, fraction), seed) };
}

/** QA windows: Brown cloze questions reach about 60 tokens, so windows of 128 with a stride of 32 (run_qa.py's 384/128 scaled down). */
const QA_MAX_LEN = 128;
const QA_DOC_STRIDE = 32;

/** The scores of one fine-tuning run. */
export interface CellRun {
  score: number;
  metrics: Record<string, number>;
  trainExamples: number;
  evalExamples: number;
  steps: number;
  /** The HF class fine-tuned (T5ForQuestionAnswering, ...): a later version with another head runs the cell again. */
  architecture: string;
  /** The score at each scheduled evaluation (empty when the fine-tuning reports none). */
  curve: { step: number; score: number }[];
  interrupted: boolean;
}

/** Fine-tunes one cell from `base` (pretrained, or its architecture from scratch) and scores it. */
export async function runCell(cell: CellSpec, t: TaskData, s: ExperimentSettings, o: { backend: Backend; base: FinetuneBase; out: string; signal?: AbortSignal }): Promise<CellRun> {
  const f = s.finetune;
  const how = taskSupport(cell.variant.family, cell.task, s.user);
  if (!how) throw new Error(`${cell.variant.family} cannot be fine-tuned on ${cell.task}`);
  const d = subset(t.data, cell.fraction, cell.seed);
  const n = d.train.length;
  const steps = finetuneSteps(s, n);
  const common = {
    backend: o.backend, base: o.base, scratch: cell.init === 'scratch', out: o.out, maxLen: f.maxLen, batchSize: f.batchSize,
    maxSteps: steps, evalEvery: steps / f.evaluations, lr: finetuneLr(s, how), warmupRatio: 0.1, weightDecay: 0.01, gradClip: 1, dropout: 0.1,
    seed: cell.seed, progress: false, signal: o.signal,
  };
  let r: FinetuneResult;
  if (how === 'text2text') {
    r = await finetuneText2Text({ ...common, data: classificationAsText2Text(d as ClassificationData, 'classify'), maxTargetLen: 8 });
  } else if (how === 'qa') {
    r = await finetuneQa({ ...common, maxLen: QA_MAX_LEN, docStride: QA_DOC_STRIDE, data: d as QaData });
  } else if (how === 'tag') {
    r = await finetuneTagger({ ...common, data: d as TaggingData });
  } else {
    r = await finetuneClassifier({ ...common, data: d as ClassificationData, auxLm: 0 });
  }
  const metrics: Record<string, number> = { accuracy: r.accuracy };
  if (r.f1 !== undefined) metrics['f1'] = r.f1;
  if (Number.isFinite(r.macroF1)) metrics['macro_f1'] = r.macroF1;
  if (r.exactMatch !== undefined) metrics['exact_match'] = r.exactMatch;
  return {
    score: t.kind === 'qa' ? r.f1! : r.accuracy, metrics, trainExamples: r.trainExamples, evalExamples: r.evalExamples, steps: r.steps, architecture: r.architecture,
    curve: curveOf(r), interrupted: r.stoppedBy === 'interrupt',
  };
}

/** The primary metric at each scheduled evaluation. */
function curveOf(r: FinetuneResult): { step: number; score: number }[] {
  return r.curve.flatMap((p) => {
    const v = p.metrics[r.primaryMetric];
    return v === undefined ? [] : [{ step: p.step, score: v }];
  });
}

// Extractive question answering (`finetune --task qa`), as Hugging Face's run_qa.py: SQuAD v1.1 questions become
// question/context windows labelled with the answer's start and end tokens (src/data/qa-features.ts), the
// registry's 'qa' head (BertForQuestionAnswering, RobertaForQuestionAnswering) trains on them through the shared
// fine-tuning loop (trainTask: the Trainer), and the held-out questions are answered from all their windows and
// scored by the official SQuAD v1.1 exact match and F1 (as fractions; F1 is the primary metric).
import type { Tokenizer } from '../tokenizers/index.js';
import { brownQa, readSquad, type SquadExample } from '../data/squad.js';
import { prepareQaFeatures, type QaAnswer, type QaFeature } from '../data/qa-features.js';
import { Rng } from '../data/rng.js';
import type { ParameterStore } from '../runtime/store.js';
import type { Backend } from '../runtime/backend.js';
import type { TaskHead, TaskModel } from '../models/registry.js';
import { taskHead } from '../models/tasks.js';
import { squadScores } from './metrics.js';
import { QA_DEFAULTS, QaPredictor, type QaSettings } from './qa-predict.js';
import { maxPositions, trainTask, type Encoded, type FinetuneCommonOptions, type FinetuneResult } from './finetune.js';

export { QA_DEFAULTS, type QaSettings } from './qa-predict.js';

/** Training and held-out questions. */
export interface QaData {
  train: SquadExample[];
  eval: SquadExample[];
}

/**
 * The bundled Brown cloze QA task: training questions from the training documents, held-out ones from `evalSplit`
 * documents (at most `maxEval`, chosen by a seeded shuffle; 0 = all).
 */
export function brownQaData(opts: { evalSplit?: 'validation' | 'test'; maxEval?: number; seed?: number; sentences?: number } = {}): QaData {
  const seed = opts.seed ?? 0;
  return {
    train: brownQa('train', { seed, sentences: opts.sentences }),
    eval: brownQa(opts.evalSplit ?? 'validation', { seed: seed + 1, sentences: opts.sentences, n: opts.maxEval ?? 500 }),
  };
}

/**
 * SQuAD v1.1 JSON files: the questions of `spec`, evaluated on `evalSpec`'s, or without one on every 10th
 * paragraph of `spec` (whole contexts held out, so no held-out context is trained on).
 */
export async function squadData(spec: string, evalSpec?: string): Promise<QaData> {
  const all = await readSquad(spec);
  if (evalSpec) {
    const ev = await readSquad(evalSpec);
    const seen = new Set(all.map((x) => x.id));
    const both = ev.find((x) => seen.has(x.id));
    if (both) throw new Error(`--eval ${evalSpec}: question "${both.id}" is also in the training data ${spec}`);
    return { train: all, eval: ev };
  }
  const paragraph = new Map<string, number>();
  for (const x of all) if (!paragraph.has(`${x.title}\u0000${x.context}`)) paragraph.set(`${x.title}\u0000${x.context}`, paragraph.size);
  const held = (x: SquadExample) => paragraph.get(`${x.title}\u0000${x.context}`)! % 10 === 9;
  const d = { train: all.filter((x) => !held(x)), eval: all.filter(held) };
  if (!d.eval.length) throw new Error(`${spec}: fewer than 10 paragraphs, so none is held out for evaluation; give held-out questions with --eval`);
  return d;
}

/** At most `n` questions (0 = all), chosen by a seeded shuffle, in their original order. */
export function limitQuestions(xs: SquadExample[], n: number, seed: number): SquadExample[] {
  if (!(n > 0) || n >= xs.length) return xs;
  return new Rng(`qa-limit:${seed}`).sampleIndices(xs.length, n).sort((a, b) => a - b).map((i) => xs[i]!);
}

export interface QaFinetuneOptions extends FinetuneCommonOptions, Partial<Omit<QaSettings, 'maxLen'>> {
  data: QaData;
}

/** Windows as trainer rows: ids, mask and segment ids padded to maxLen, labels [start, end]. */
function encodeFeatures(features: readonly QaFeature[], maxLen: number, pad: number): Encoded {
  const n = features.length;
  const ids = new Int32Array(n * maxLen).fill(pad);
  const mask = new Int32Array(n * maxLen);
  const types = new Int32Array(n * maxLen);
  const y = new Int32Array(n * 2);
  features.forEach((f, i) => {
    ids.set(f.ids, i * maxLen);
    mask.fill(1, i * maxLen, i * maxLen + f.ids.length);
    types.set(f.typeIds, i * maxLen);
    y[2 * i] = f.startPosition;
    y[2 * i + 1] = f.endPosition;
  });
  return { rows: n, width: 2, ids, mask, y, types };
}

/** SQuAD scores of a QA model on questions, with its best answer to each. */
export interface QaEvaluation {
  exactMatch: number;
  f1: number;
  predictions: { id: string; answer: QaAnswer }[];
}

/** Answer every question (all its windows) and score the best answers against all the gold answers. */
export async function evaluateQa(backend: Backend, model: TaskModel, store: ParameterStore, head: TaskHead, tok: Tokenizer, pad: number, xs: readonly SquadExample[], s: QaSettings): Promise<QaEvaluation> {
  const predictor = await QaPredictor.create(backend, model, store, head, tok, pad);
  const answers = await predictor.answer(xs, s);
  const best = answers.map((a) => a[0]!);
  const { exactMatch, f1 } = squadScores(best.map((a) => a.text), xs.map((x) => x.answers.map((a) => a.text)));
  return { exactMatch, f1, predictions: xs.map((x, i) => ({ id: x.id, answer: best[i]! })) };
}

/** A QA run's result: the shared shape with exact match and F1 always set, and the training windows. */
export type QaFinetuneResult = FinetuneResult & { exactMatch: number; f1: number; trainFeatures: number };

/**
 * Fine-tune a 'qa' head on SQuAD-style questions: each training question becomes one or more windows (a long
 * context is split with `docStride`), labelled with the first gold answer's tokens or the CLS index; the epochs
 * and the batch size count windows, as run_qa.py's Trainer does. `accuracy` is the exact match, `macroF1` NaN
 * (there are no classes) and `f1` the SQuAD F1;
 * `samples` holds the first held-out questions (input), their first gold answer (target) and the model's (output).
 */
export async function finetuneQa(o: QaFinetuneOptions): Promise<QaFinetuneResult> {
  const { data } = o;
  if (!data.train.length) throw new Error('no training questions');
  if (!data.eval.length) throw new Error('no held-out questions to evaluate on');
  const seen = new Set(data.train.map((x) => x.id));
  const both = data.eval.find((x) => seen.has(x.id));
  if (both) throw new Error(`held-out question "${both.id}" is also a training question`);
  const s: QaSettings = {
    maxLen: o.maxLen, docStride: o.docStride ?? QA_DEFAULTS.docStride, nBestSize: o.nBestSize ?? QA_DEFAULTS.nBestSize,
    maxAnswerLength: o.maxAnswerLength ?? QA_DEFAULTS.maxAnswerLength,
  };
  const tok = o.base.tokenizer;
  const limit = maxPositions(o.base.hf, taskHead(o.base.hf.model_type, 'qa'));
  if (o.maxLen > limit) throw new Error(`--max-len ${o.maxLen} is longer than the ${limit} positions ${o.base.hf.model_type} reads`);
  const train = await prepareQaFeatures(tok, data.train.map((x) => ({ ...x, answer: x.answers[0] })), s);
  const r = await trainTask(o, 'qa', [], train.length, async (_head, pad) => ({
    train: encodeFeatures(train, o.maxLen, pad),
    ev: encodeFeatures([], o.maxLen, pad),
  }));
  const ev = await evaluateQa(o.backend, r.model, r.store, r.head, tok, r.pad, data.eval, s);
  return {
    accuracy: ev.exactMatch, macroF1: NaN, exactMatch: ev.exactMatch, f1: ev.f1, trainExamples: data.train.length, evalExamples: data.eval.length,
    trainFeatures: train.length,
    samples: data.eval.slice(0, 5).map((x, i) => ({ input: x.question, target: x.answers[0]!.text, output: ev.predictions[i]!.answer.text })),
    steps: r.steps, plannedSteps: r.plannedSteps, stoppedBy: r.stoppedBy, dir: r.dir, losses: r.losses, architecture: r.architecture,
  };
}

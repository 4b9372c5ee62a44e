// Extractive question answering (`finetune --task qa`), as Hugging Face's run_qa.py: SQuAD v1.1 questions become
// question/context windows labelled with the answer's start and end tokens (src/data/qa-features.ts), the
// registry's 'qa' head (BertForQuestionAnswering, RobertaForQuestionAnswering) trains on them through the shared
// fine-tuning loop (trainTask: the Trainer), and the held-out questions are answered from all their windows and
// scored by the official SQuAD v1.1 exact match and F1 (as fractions; F1 is the primary metric).
import type { Tokenizer } from '../tokenizers/index.js';
import { brownQa, readSquad, type SquadExample } from '../data/squad.js';
import { prepareQaFeatures, type PairTemplate, type QaAnswer, type QaFeature } from '../data/qa-features.js';
import { Rng } from '../data/rng.js';
import type { Backend } from '../runtime/backend.js';
import { taskHead } from '../models/tasks.js';
import { squadScores } from './metrics.js';
import { QA_DEFAULTS, QaPredictor, qaTemplate, type QaSettings } from './qa-predict.js';
import {
  checkHeldOut, common, inRunFolder, maxPositions, trainTask, type Encoded, type FinetuneCommonOptions, type FinetuneResult, type ScoreContext, type Scores,
} from './finetune.js';

export { QA_DEFAULTS, type QaSettings } from './qa-predict.js';

/** Training and held-out questions. */
export interface QaData {
  train: SquadExample[];
  eval: SquadExample[];
  /** What the held-out set is, for errors (default "the evaluation set"). */
  evalName?: string;
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
    evalName: `brown-qa (${opts.evalSplit ?? 'validation'} documents)`,
  };
}

/**
 * SQuAD v1.1 JSON files: the questions of `spec`, evaluated on `evalSpec`'s, or without one on every 10th
 * paragraph of `spec` (whole contexts held out, so no held-out context is trained on).
 */
export async function squadData(spec: string, evalSpec?: string): Promise<QaData> {
  const all = await readSquad(spec);
  if (evalSpec) return { train: all, eval: await readSquad(evalSpec), evalName: `--eval ${evalSpec}` };
  const paragraph = new Map<string, number>();
  for (const x of all) if (!paragraph.has(`${x.title}\u0000${x.context}`)) paragraph.set(`${x.title}\u0000${x.context}`, paragraph.size);
  const held = (x: SquadExample) => paragraph.get(`${x.title}\u0000${x.context}`)! % 10 === 9;
  const d = { train: all.filter((x) => !held(x)), eval: all.filter(held), evalName: `${spec} (every 10th paragraph)` };
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

/** SQuAD scores of a QA model on questions (metrics exact_match and f1, fractions), with its best answer to each. */
export interface QaScores extends Scores {
  metrics: { exact_match: number; f1: number };
  answers: QaAnswer[];
}

/**
 * The QA scorer: answers every question from all its windows and scores the best answer against all the gold
 * answers. The forward pass is compiled once and reads the current weights at each call.
 */
export function qaScorer(backend: Backend, tok: Tokenizer, template: PairTemplate, xs: readonly SquadExample[], s: QaSettings): (c: Pick<ScoreContext, 'model' | 'store' | 'head' | 'pad'>) => () => Promise<QaScores> {
  return (c) => {
    let predictor: QaPredictor | undefined;
    return async () => {
      predictor ??= await QaPredictor.create(backend, c.model, c.store, c.head, tok, c.pad, template);
      const answers = (await predictor.answer(xs, s)).map((a) => a[0]!);
      const { exactMatch, f1 } = squadScores(answers.map((a) => a.text), xs.map((x) => x.answers.map((a) => a.text)));
      return { metrics: { exact_match: exactMatch, f1 }, answers };
    };
  };
}

/** A QA run's result: the shared shape with exact match and F1 always set, and the training windows. */
export type QaFinetuneResult = FinetuneResult & { exactMatch: number; f1: number; trainFeatures: number };

/**
 * Fine-tune a 'qa' head on SQuAD-style questions: each training question becomes one or more windows (a long
 * context is split with `docStride`), labelled with the first gold answer's tokens or the CLS index; the epochs
 * and the batch size count windows, as run_qa.py's Trainer does. Evaluated (on the schedule and at the end) by
 * answering the held-out questions: metrics exact_match and f1, the primary metric f1; the held-out windows,
 * labelled like the training ones, give the eval loss. `accuracy` is the exact match, `macroF1` NaN (there are
 * no classes); `samples` holds the first held-out questions (input), their first gold answer (target) and the
 * model's (output).
 */
export async function finetuneQa(o: QaFinetuneOptions): Promise<QaFinetuneResult> {
  const { data } = o;
  if (!data.train.length) throw new Error('no training questions');
  const key = (x: SquadExample) => `${x.question.trim()} | ${x.context}`;
  checkHeldOut(data.train.map(key), data.eval.map(key), data.evalName ?? 'the evaluation set', 'question');
  const s: QaSettings = {
    maxLen: o.maxLen, docStride: o.docStride ?? QA_DEFAULTS.docStride, nBestSize: o.nBestSize ?? QA_DEFAULTS.nBestSize,
    maxAnswerLength: o.maxAnswerLength ?? QA_DEFAULTS.maxAnswerLength,
  };
  const tok = o.base.tokenizer;
  const head = taskHead(o.base.hf.model_type, 'qa');
  const limit = maxPositions(o.base.hf, head);
  if (o.maxLen > limit) throw new Error(`--max-len ${o.maxLen} is longer than the ${limit} positions ${o.base.hf.model_type} reads`);
  const template = await qaTemplate(tok, head, o.base.hf);
  const labelled = (xs: SquadExample[]) => prepareQaFeatures(tok, xs.map((x) => ({ ...x, answer: x.answers[0] })), { ...s, template });
  const train = await labelled(data.train);
  const ev = await labelled(data.eval);
  return inRunFolder(o, async () => {
    const r = await trainTask(o, 'qa', [], train.length, async (_head, pad) => ({
      train: encodeFeatures(train, o.maxLen, pad),
      ev: encodeFeatures(ev, o.maxLen, pad),
    }), qaScorer(o.backend, tok, template, data.eval, s), { primary: 'f1', all: ['exact_match', 'f1'] });
    const { exact_match: exactMatch, f1 } = r.scores.metrics;
    return {
      accuracy: exactMatch, macroF1: NaN, exactMatch, f1, trainExamples: data.train.length, evalExamples: data.eval.length, trainFeatures: train.length,
      samples: data.eval.slice(0, 5).map((x, i) => ({ input: x.question, target: x.answers[0]!.text, output: r.scores.answers[i]!.text })),
      ...common(r),
    };
  });
}

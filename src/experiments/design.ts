// What `pretrain experiment` runs: its settings (presets and overrides), the pretrainings (one per family and
// objective) and the grid of fine-tuning cells (model x task x label fraction x init x seed). Pure: no IO.
import type { TrainConfig } from '../train/config.js';

/** The three families, each by its default model. */
export const FAMILIES = ['bert', 'gpt2', 't5'] as const;
export type Family = (typeof FAMILIES)[number];

/** The builtin Brown tasks, and `user` for --data. */
export const TASKS = ['brown-category', 'brown-genre', 'brown-pos', 'brown-qa', 'user'] as const;
export type TaskName = (typeof TASKS)[number];

/** A pretraining: a family's model with one objective. The first variant of each family is its default. */
export interface Variant {
  id: string;
  family: Family;
  objective: string;
  wholeWord?: boolean;
  /** For the report's objective table: what it stands for. */
  description: string;
}

export const VARIANTS: readonly Variant[] = [
  { id: 'bert-mlm', family: 'bert', objective: 'mlm', description: 'BERT masked LM (RoBERTa: no NSP)' },
  { id: 'bert-mlm+nsp', family: 'bert', objective: 'mlm+nsp', description: 'masked LM + next-sentence prediction (original BERT)' },
  { id: 'bert-wwm', family: 'bert', objective: 'mlm', wholeWord: true, description: 'whole-word masking' },
  { id: 'bert-span', family: 'bert', objective: 'span', description: 'span masking + span boundary objective (SpanBERT)' },
  { id: 'gpt2-clm', family: 'gpt2', objective: 'clm', description: 'GPT-2 causal LM' },
  { id: 'gpt2-prefix-lm', family: 'gpt2', objective: 'prefix-lm', description: 'decoder prefix LM (bidirectional prefix)' },
  { id: 't5-span-corruption', family: 't5', objective: 'span-corruption', description: 'T5 span corruption' },
  { id: 't5-prefix-lm', family: 't5', objective: 'prefix-lm', description: 'T5 prefix LM (prefix -> rest)' },
];

export const defaultVariant = (f: Family): Variant => VARIANTS.find((v) => v.family === f)!;

/**
 * A pretraining step's cost relative to BERT's at the same size, as measured for the quick preset (140, 179 and
 * 351 s for 2500 steps): T5 runs an encoder and a decoder. With several jobs at a time the longest pretraining
 * starts first, so that the others' cells fill the time beside it.
 */
export const PRETRAIN_STEP_COST: Readonly<Record<Family, number>> = { bert: 1, gpt2: 1.3, t5: 2.5 };

/** The user's labelled data (`--task`, `--data`, `--eval`): the task `user`. */
export interface UserData {
  task: 'classify' | 'tag';
  data: string;
  eval?: string;
}

export interface ExperimentSettings {
  preset: 'quick' | 'full' | 'toy';
  /** The pretraining text: "brown" (its training documents) or the user's corpus (--corpus). */
  corpus: string;
  families: Family[];
  tasks: TaskName[];
  /** Shares of each task's labelled training data, e.g. [0.01, 0.1, 1]. */
  fractions: number[];
  /** Fine-tuning seeds (data subset, head initialisation, order); one pretraining per variant (seed 0). */
  seeds: number[];
  /** Run the objective comparisons (every variant of each family, pretrained cells only). */
  objectives: boolean;
  model: { layers: number; hidden: number; heads: number; seqLen: number; vocabSize: number };
  pretrain: { steps: number; batchSize: number; lr: number; evalBatches: number };
  finetune: {
    epochs: number;
    /** Steps are epochs over the examples, clamped to [minSteps, maxSteps]: few labels still get some training. */
    minSteps: number;
    maxSteps: number;
    batchSize: number;
    lr: number;
    /**
     * The learning rate of the text-to-text cells (T5 writing label words), where it differs from `lr`: the
     * span-corruption decoder has learned to write sentinels and spans, and at the encoders' rate 60 steps do not
     * teach it to write a label word (the T5 paper fine-tunes at a constant 1e-3 with Adafactor); docs/experiment.md
     * has the measurement. T5's tagging and QA heads train at `lr`, like BERT's.
     */
    text2textLr?: number;
    /** Tokens per input. */
    maxLen: number;
    /** Scheduled evaluations during each fine-tuning (the curve). */
    evaluations: number;
    /** Held-out examples per task (sentences for tagging), at most. */
    maxEval: number;
  };
  user?: UserData;
  /** What this preset leaves out of the full design, for the report. */
  leftOut: string[];
}

const FULL: ExperimentSettings = {
  preset: 'full',
  corpus: 'brown',
  families: [...FAMILIES],
  tasks: ['brown-genre', 'brown-category', 'brown-pos', 'brown-qa'],
  fractions: [0.01, 0.1, 1],
  seeds: [0, 1, 2, 3, 4],
  objectives: true,
  model: { layers: 4, hidden: 128, heads: 4, seqLen: 128, vocabSize: 4096 },
  pretrain: { steps: 2400, batchSize: 16, lr: 2e-3, evalBatches: 8 },
  finetune: { epochs: 3, minSteps: 60, maxSteps: 600, batchSize: 16, lr: 5e-4, text2textLr: 2e-3, maxLen: 64, evaluations: 6, maxEval: 600 },
  leftOut: [],
};

const QUICK: ExperimentSettings = {
  preset: 'quick',
  corpus: 'brown',
  families: [...FAMILIES],
  tasks: ['brown-category'],
  fractions: [0.01, 0.1],
  seeds: [0, 1, 2],
  objectives: false,
  model: { layers: 2, hidden: 128, heads: 4, seqLen: 64, vocabSize: 2048 },
  // Not fewer: at 2000 steps GPT-2 (perplexity 179) no longer beat scratch, at 1000 it was below it (README).
  pretrain: { steps: 2500, batchSize: 16, lr: 2e-3, evalBatches: 4 },
  finetune: { epochs: 3, minSteps: 60, maxSteps: 90, batchSize: 16, lr: 1e-3, text2textLr: 2e-3, maxLen: 64, evaluations: 3, maxEval: 400 },
  leftOut: [
    'tasks brown-genre, brown-pos and brown-qa (only brown-category: 4 classes)',
    'the 100% label fraction (fractions 1% and 10%)',
    'seeds beyond 3',
    'the objective comparisons (MLM+NSP, whole-word, span masking, prefix LM)',
    'size: 2 layers, hidden 128, sequences of 64, vocabulary 2048, 2500 pretraining steps and at most 90 fine-tuning steps (full: 4 layers, hidden 128, sequences of 128, vocabulary 4096, 2400 and 600 steps)',
  ],
};

/** Test size: seconds, not minutes. */
const TOY: ExperimentSettings = {
  preset: 'toy',
  corpus: 'brown',
  families: ['gpt2', 'bert'],
  tasks: ['brown-category'],
  fractions: [0.01],
  seeds: [0, 1],
  objectives: false,
  model: { layers: 1, hidden: 32, heads: 2, seqLen: 32, vocabSize: 300 },
  pretrain: { steps: 4, batchSize: 4, lr: 2e-3, evalBatches: 1 },
  finetune: { epochs: 1, minSteps: 4, maxSteps: 4, batchSize: 8, lr: 1e-3, maxLen: 32, evaluations: 2, maxEval: 8 },
  leftOut: ['almost everything: a toy run'],
};

export const PRESETS: Readonly<Record<ExperimentSettings['preset'], ExperimentSettings>> = { quick: QUICK, full: FULL, toy: TOY };

/** How a family is fine-tuned on a task: its head, or text-to-text (T5 writing the label word). */
export type Support = 'classify' | 'tag' | 'text2text' | 'qa';

/** The tasks a family can be fine-tuned on, and how. */
export function taskSupport(family: Family, task: TaskName, user?: UserData): Support | undefined {
  const kind = task === 'user' ? user?.task : task === 'brown-pos' ? 'tag' : task === 'brown-qa' ? 'qa' : 'classify';
  if (kind === undefined) return undefined;
  // Decoders classify from the last token, tag every token from its left context and answer with a span head.
  // T5 classifies as text-to-text; it tags with its encoder (T5ForTokenClassification) and answers with a span
  // head (T5ForQuestionAnswering): written as text, a tag sequence has to line up word by word with the input and
  // an answer has to be copied out of the context, which the full preset's T5 did not learn (docs/experiment.md).
  return family === 't5' && kind === 'classify' ? 'text2text' : kind;
}

export type Init = 'pretrained' | 'scratch';

/** One fine-tuning run: its id is also its file name in <out>/cells. */
export interface CellSpec {
  id: string;
  variant: Variant;
  task: TaskName;
  fraction: number;
  init: Init;
  seed: number;
}

/**
 * Every cell, in the order they run: the default variants' pretrained and scratch cells (scratch belongs to the
 * family, not the objective), then the other objectives' pretrained cells.
 */
export function plannedCells(s: ExperimentSettings, available: (task: TaskName) => boolean): CellSpec[] {
  const cells: CellSpec[] = [];
  const add = (variant: Variant, inits: Init[]) => {
    for (const task of s.tasks) {
      if (!available(task) || !taskSupport(variant.family, task, s.user)) continue;
      for (const fraction of s.fractions)
        for (const seed of s.seeds)
          for (const init of inits) {
            const who = init === 'scratch' ? `${variant.family}-scratch` : variant.id;
            cells.push({ id: `${who}__${task}__${fraction}__seed${seed}`, variant, task, fraction, init, seed });
          }
    }
  };
  for (const f of s.families) add(defaultVariant(f), ['pretrained', 'scratch']);
  if (s.objectives) for (const v of VARIANTS) if (s.families.includes(v.family) && v !== defaultVariant(v.family)) add(v, ['pretrained']);
  return cells;
}

/** The pretrainings the cells need. */
export function plannedVariants(s: ExperimentSettings): Variant[] {
  return VARIANTS.filter((v) => s.families.includes(v.family) && (s.objectives || v === defaultVariant(v.family)));
}

/**
 * Fine-tuning steps for `n` examples: epochs over them, clamped to [minSteps, maxSteps], rounded up to a multiple
 * of the evaluations so that they are evenly spaced and the last one scores the final weights.
 */
export function finetuneSteps(s: ExperimentSettings, n: number): number {
  const f = s.finetune;
  const steps = Math.min(f.maxSteps, Math.max(f.minSteps, Math.ceil((f.epochs * n) / Math.min(f.batchSize, Math.max(1, n)))));
  return Math.ceil(steps / f.evaluations) * f.evaluations;
}

/** A cell's fine-tuning learning rate. */
export function finetuneLr(s: ExperimentSettings, how: Support): number {
  return (how === 'text2text' ? s.finetune.text2textLr : undefined) ?? s.finetune.lr;
}

/** The labelled examples of a fraction of `total`: at least one. */
export function fractionCount(total: number, fraction: number): number {
  return Math.max(1, Math.round(fraction * total));
}

/**
 * The pretraining's full TrainConfig. Objective options are the usual ones (docs/objectives.md: 15% masking,
 * BERT's 80/10/10, SpanBERT's geometric p 0.2 up to 10 words, T5's 15% noise in spans of 3); only the objective,
 * whole-word masking and the size vary.
 */
export function pretrainConfig(s: ExperimentSettings, v: Variant, out: string, resume: boolean): TrainConfig {
  const m = s.model;
  const steps = s.pretrain.steps;
  return {
    arch: v.family,
    model: { layers: m.layers, hidden: m.hidden, heads: m.heads, dropout: 0 },
    objective: {
      name: v.objective, blocks: 'packed', maskProb: 0.15, selection: 'bernoulli', maxPredictions: 20, wholeWord: v.wholeWord === true,
      masking: 'dynamic', dupeFactor: 10, packing: 'full-sentences', shortSeqProb: 0.1, spanP: 0.2, spanMaxWords: 10, sboWeight: 1,
      noiseDensity: 0.15, meanNoiseSpanLength: 3,
    },
    corpus: s.corpus, out, vocabSize: m.vocabSize, seqLen: m.seqLen, batchSize: s.pretrain.batchSize, gradAccum: 1,
    lr: s.pretrain.lr, minLrRatio: 0.1, warmup: Math.round(0.05 * steps), maxSteps: steps, decay: 'cosine', weightDecay: 0.01,
    beta1: 0.9, beta2: 0.98, eps: 1e-8, gradClip: 1, evalEvery: Math.max(1, Math.round(steps / 4)), evalBatches: s.pretrain.evalBatches,
    saveEvery: Math.max(1, Math.round(steps / 4)), keepLast: 1, seed: 0, resume,
    // The folder is the experiment's own: a pretraining stopped before its first checkpoint starts over.
    overwrite: !resume,
  };
}

// The model plug-in shape. A model file (or folder) registers its Hugging Face model_type with `registerModel`:
// config conversion both ways, a constructor for a new model of a given size, the pretraining objectives it can
// train and the heads it offers. The pretraining pipeline, the CLI, `eval` and `finetune` look models up here and
// know none by name. `src/models/index.ts` imports every model file.
import type { Tensor } from '../graph/index.js';
import type { HfConfig } from '../io/hf-config.js';
import type { Ctx, ParamSpec } from '../nn/index.js';
import * as F from '../graph/index.js';
import type { Seq2SeqLM } from './t5.js';

/**
 * A model head that an objective trains; the model turns each into a loss plus summed statistics.
 * - `lm`: causal LM over `labels` (shifted inside the model), for decoders.
 * - `mlm`: masked LM over `labels` (-100 = not predicted).
 * - `nsp`: next-sentence prediction from the pooled [CLS] state, over `next_sentence_label`.
 * - `sbo`: SpanBERT's span boundary objective, over the `sbo_*` inputs.
 * - `seq2seq`: the LM head of an encoder-decoder over `labels` [B, Td], not shifted (`decoder_input_ids` are
 *   the labels shifted right).
 */
export type HeadName = 'lm' | 'mlm' | 'nsp' | 'sbo' | 'seq2seq';

/** What a new model's config needs of its tokenizer (structurally a Tokenizer; models sit below tokenizers). */
export interface ModelTokens {
  vocabSize: number;
  specialIds: { pad?: number; unk?: number; cls?: number; sep?: number; mask?: number; bos?: number; eos?: number };
}

export type ModelFamily = 'encoder' | 'decoder' | 'encoder-decoder';

/** The size of a new model; each model maps it onto its own config fields. */
export interface ModelSize {
  layers: number;
  hidden: number;
  heads: number;
  /** Key/value heads (grouped-query attention); models without GQA reject it. */
  kvHeads?: number;
  /** Feed-forward width; each model has its default (4 x hidden for BERT and GPT-2). */
  intermediate?: number;
  /** Position embeddings (learned-position models). */
  positions: number;
  dropout: number;
}

/**
 * A head's loss and the statistics `eval` sums over batches, each a scalar of the logits' type (float32 but in
 * float64 gradient checks):
 * `<head>/loss_sum` (cross-entropy summed over predicted items), `<head>/count` (items predicted) and
 * `<head>/correct` (items whose argmax is the label). Mean loss = loss_sum / count, accuracy = correct / count.
 */
export interface HeadOutputs {
  /** The training loss: the sum of each head's mean loss (SBO weighted). */
  loss: Tensor;
  stats: Record<string, Tensor>;
}

/** What the pretraining pipeline needs of any model. */
export interface PretrainingModel {
  readonly modelType: string;
  parameters(): ParamSpec[];
  /** The losses of `heads` on a batch whose graph inputs are `inputs` (named as the objective declares them). */
  pretrainingLoss(ctx: Ctx, inputs: Readonly<Record<string, Tensor>>, heads: readonly HeadName[]): HeadOutputs;
}

export interface ModelEntry {
  /** Hugging Face model_type, also the --arch value. */
  readonly modelType: string;
  readonly family: ModelFamily;
  /** Pretraining objectives this model can train; the first is the default. */
  readonly objectives: readonly string[];
  /** The tokenizer a new run trains for it: WordPiece for BERT, byte-level BPE for RoBERTa and GPT-2, ... */
  readonly tokenizer: 'wordpiece' | 'bpe' | 'unigram';
  /** 'roberta': the byte-level BPE gets RoBERTa's special tokens (<s>, <pad>, </s>, <unk>, <mask>). */
  readonly tokenizerStyle?: 'gpt2' | 'roberta';
  /** The config.json of a new model of this size for this tokenizer. */
  newConfig(size: ModelSize, tok: ModelTokens): HfConfig;
  /**
   * The model a config describes; `dropout` overrides the config's rates (training). Head parameters exist only
   * for the heads asked for (default: the heads of the model's default objective), so a checkpoint saved without
   * SpanBERT's SBO head loads without it. `sboWeight` weighs the SBO loss in the total (default 1).
   */
  build(hf: HfConfig, opts?: { dropout?: number; heads?: readonly HeadName[]; sboWeight?: number }): PretrainingModel;
  /** The HF class name written into config.json's `architectures` for a model pretrained with these heads. */
  architecture(heads: readonly HeadName[]): string;
  /**
   * Training settings of the architecture's reference recipe (config keys as in `pretrain train --help`, e.g.
   * RoBERTa's `{ beta2: 0.98, eps: 1e-6 }`); they replace the defaults, and a config file or flags replace them.
   */
  readonly recipe?: Readonly<Record<string, string | number | boolean>>;
  /** Fine-tuning heads, by task (absent: the model offers none). */
  readonly tasks?: Readonly<Partial<Record<FinetuneTask, TaskHead>>>;
}

const registry = new Map<string, ModelEntry>();

/** Called once at the bottom of each model file. */
export function registerModel(m: ModelEntry): ModelEntry {
  if (registry.has(m.modelType)) throw new Error(`model_type "${m.modelType}" is registered twice`);
  registry.set(m.modelType, m);
  return m;
}

export function modelTypes(): string[] {
  return [...registry.keys()];
}

export function getModel(modelType: string): ModelEntry {
  const m = registry.get(modelType);
  if (!m) throw new Error(`model_type "${modelType}" is not supported (supported: ${modelTypes().join(', ')})`);
  return m;
}

/** Fails with one line naming the valid objectives when `objective` does not suit `modelType`. */
export function checkPairing(modelType: string, objective: string): void {
  const m = getModel(modelType);
  if (!m.objectives.includes(objective))
    throw new Error(`--arch ${modelType} cannot train --objective ${objective}; valid objectives for ${modelType}: ${m.objectives.join(', ')}`);
}

/**
 * A classification-style head's mean cross-entropy and statistics: logits [N, C] against labels [N] (-100 =
 * ignored). Every head uses this, so `eval` reads the same three statistics from each.
 */
export function headLoss(head: string, logits: Tensor, labels: Tensor): { loss: Tensor; stats: Record<string, Tensor> } {
  return logits.graph.scope('lm_head', `${head}/loss`, () => headLossIn(head, logits, labels));
}

function headLossIn(head: string, logits: Tensor, labels: Tensor): { loss: Tensor; stats: Record<string, Tensor> } {
  const [, c] = logits.shape;
  const valid = F.cast(F.not(F.equal(labels, -100)), logits.dtype);
  const count = F.sumAll(valid);
  // A batch in which nothing is predicted (no masked token, no span target) adds 0, not NaN (the mean of nothing).
  const loss = F.where(F.greater(count, 0), F.crossEntropy(logits, labels), 0);
  // logit of the label >= every logit: the argmax (ties count as correct, which float logits make negligible).
  const safe = F.where(F.equal(labels, -100), 0, labels);
  const rows = F.arange(logits.graph, logits.shape[0]);
  const flatIdx = F.add(F.mul(rows, F.dimValue(logits.graph, c, 'int64')), safe);
  const picked = F.gather(F.reshape(logits, [-1]), flatIdx, 0);
  const hit = F.cast(F.greaterOrEqual(picked, F.reduceMax(logits, 1)), logits.dtype);
  return {
    loss,
    stats: {
      [`${head}/loss_sum`]: F.mul(loss, count),
      [`${head}/count`]: count,
      [`${head}/correct`]: F.sumAll(F.mul(hit, valid)),
    },
  };
}

// ---- fine-tuning heads ----

/**
 * What `finetune --task` trains: sequence classification, token classification (tagging), text-to-text (an
 * encoder-decoder generates a target text from an input text, T5 style; classification is text-to-text with the
 * label word as the target), or extractive question answering (start and end logits over a question/context
 * pair, SQuAD style).
 */
export type FinetuneTask = 'classify' | 'tag' | 'text2text' | 'qa';
export const FINETUNE_TASKS: readonly FinetuneTask[] = ['classify', 'tag', 'text2text', 'qa'];

/** The graph inputs of a fine-tuning model: int64 [B, T] each. */
export interface TaskInputs {
  inputIds: Tensor;
  attentionMask: Tensor;
  /** Segment ids (all 0 for one text); only for heads with `tokenTypes`. */
  tokenTypeIds?: Tensor;
  /** 'seq2seq' heads: the decoder's input [B, Td] (the target shifted right); the loss derives it from the labels. */
  decoderInputIds?: Tensor;
}

/** A model with a task head, under Hugging Face's parameter names (BertForTokenClassification, ...). */
export interface TaskModel {
  parameters(): ParamSpec[];
  /**
   * Class logits: [B, numLabels] for 'classify', [B, T, numLabels] for 'tag', [B, Td, vocab] for 'text2text',
   * [B, T, 2] (start, end) for 'qa'.
   */
  forward(ctx: Ctx, inputs: TaskInputs): Tensor;
  /**
   * The training loss: mean cross-entropy against labels [B] ('classify'), [B, T] ('tag', -100 = ignored) or the
   * target tokens [B, Td] ('text2text', -100 = padding), or the answer's start and end tokens [B, 2] ('qa').
   */
  loss(ctx: Ctx, inputs: TaskInputs, labels: Tensor): Tensor;
  /** 'seq2seq' heads: the encoder-decoder that generates (evaluation and `predict` decode greedily with it). */
  readonly seq2seq?: Seq2SeqLM;
}

/** A task head a model offers for fine-tuning. */
export interface TaskHead {
  /** The HF class written into config.json's `architectures` (BertForSequenceClassification, ...). */
  readonly architecture: string;
  /**
   * How a text becomes the model's input: 'template' = the tokenizer's post-processor ([CLS] text [SEP],
   * <s> text </s>), 'eos' = the text then EOS (a decoder classifies the last token), 'seq2seq' = the input text
   * then EOS into the encoder, the target text then EOS out of the decoder (T5).
   */
  readonly framing: 'template' | 'eos' | 'seq2seq';
  /** Whether the model reads token_type_ids (zeros for one text; a pair's template sets them for 'qa'). */
  readonly tokenTypes: boolean;
  /**
   * HF's base_model_prefix, where the task model's names carry it and the pretraining model's do not (T5's
   * `transformer`): a task parameter `<basePrefix>.<name>` starts from the pretrained `<name>`.
   */
  readonly basePrefix?: string;
  /**
   * The task model for a config; `dropout` overrides the config's rates, `auxLm` weighs a decoder's auxiliary LM
   * loss. `numLabels` is 0 for 'seq2seq' heads (the vocabulary is the output) and 'qa' heads (start and end).
   */
  build(hf: HfConfig, numLabels: number, opts?: { dropout?: number; auxLm?: number }): TaskModel;
}

// Sequence classification with a decoder (GPT-1 style, HF's GPT2ForSequenceClassification): a linear `score`
// head (no bias) on the hidden state of the last non-padding token, with gradients through the whole decoder,
// plus an optional auxiliary LM loss (GPT-1 used weight 0.5); token classification with a decoder
// (GPT2ForTokenClassification): a linear head on every hidden state, each token seeing only the words before it;
// and extractive QA with a decoder (GPT2ForQuestionAnswering): a `qa_outputs` span head on every hidden state.
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { Ctx, Linear, Module } from '../nn/index.js';
import type { HfConfig } from '../io/hf-config.js';
import { causalLMFromHf, type CausalLM } from './index.js';
import { shiftedLmLoss } from './lm-loss.js';
import type { TaskHead, TaskModel } from './registry.js';
import { spanTaskModel } from './qa-loss.js';

/** Index of the rightmost position with attention_mask 1 in each row (works with left or right padding). */
export function lastTokenIndex(attentionMask: Tensor): Tensor {
  const g = attentionMask.graph;
  const t = attentionMask.shape[1];
  const pos = F.unsqueeze(F.arange(g, t), 0);
  return F.reduceMax(F.mul(pos, attentionMask), 1);
}

/** hidden [B, T, H] at one position per row ([B] int64) -> [B, H]. */
export function gatherRows(hidden: Tensor, index: Tensor): Tensor {
  const [b, t, h] = hidden.shape;
  const g = hidden.graph;
  const flat = F.reshape(hidden, [-1, h]);
  const rowStart = F.mul(F.arange(g, b), F.dimValue(g, t, 'int64'));
  return F.gather(flat, F.add(rowStart, index), 0);
}

export class DecoderClassifier extends Module {
  readonly score: Linear;
  constructor(readonly lm: CausalLM, hidden: number, readonly numLabels: number, std = 0.02) {
    super('');
    this.child(lm as unknown as Module);
    this.score = this.child(new Linear('score', hidden, numLabels, { bias: false, std }));
  }

  /** Class logits [B, numLabels], and the decoder's hidden states for the auxiliary LM loss. */
  forward(ctx: Ctx, inputIds: Tensor, attentionMask: Tensor): { logits: Tensor; hidden: Tensor } {
    const { hidden } = this.lm.forward(ctx, { inputIds, attentionMask });
    return { logits: this.score.forward(ctx, gatherRows(hidden, lastTokenIndex(attentionMask))), hidden };
  }

  /** Mean cross-entropy of the labels, plus auxLm x the causal-LM loss on the real tokens. */
  loss(ctx: Ctx, inputIds: Tensor, attentionMask: Tensor, labels: Tensor, auxLm = 0): Tensor {
    const { logits, hidden } = this.forward(ctx, inputIds, attentionMask);
    const cls = F.crossEntropy(logits, labels);
    if (!(auxLm > 0)) return cls;
    const lm = shiftedLmLoss(hidden, F.where(F.equal(attentionMask, 1), inputIds, -100), (h) => this.lm.logits(ctx, h));
    return F.add(cls, F.mul(lm, auxLm));
  }
}

/** HF's class-name prefix of a decoder's model_type: GPT2, Llama. */
function hfPrefix(modelType: string): string {
  return modelType === 'gpt2' ? 'GPT2' : modelType[0]!.toUpperCase() + modelType.slice(1);
}

/** The last-token classification head of a decoder (GPT2ForSequenceClassification, LlamaForSequenceClassification). */
export function decoderClassifyHead(modelType: string): TaskHead {
  return {
    architecture: `${hfPrefix(modelType)}ForSequenceClassification`,
    framing: 'eos',
    tokenTypes: false,
    build: (hf: HfConfig, numLabels: number, opts = {}): TaskModel => {
      const info = causalLMFromHf(hf, { dropout: opts.dropout });
      const clf = new DecoderClassifier(info.model, info.hiddenSize, numLabels);
      return {
        parameters: () => clf.parameters(),
        forward: (ctx, inp) => clf.forward(ctx, inp.inputIds, inp.attentionMask).logits,
        loss: (ctx, inp, labels) => clf.loss(ctx, inp.inputIds, inp.attentionMask, labels, opts.auxLm ?? 0),
      };
    },
  };
}

/**
 * Token classification with a decoder: dropout then a Linear (with bias) on every hidden state. HF names the
 * Linear `classifier` in GPT2ForTokenClassification and `score` in LlamaForTokenClassification; the body keeps
 * its names. Causal attention: a word's tag is predicted from it and the words before it, never after.
 */
export class DecoderTokenClassification extends Module {
  readonly head: Linear;
  constructor(readonly lm: CausalLM, hidden: number, readonly numLabels: number, headName: string, readonly classifierDropout: number, std = 0.02) {
    super('');
    this.child(lm as unknown as Module);
    this.head = this.child(new Linear(headName, hidden, numLabels, { std }));
  }

  /** Tag logits [B, T, numLabels]. */
  forward(ctx: Ctx, inputIds: Tensor, attentionMask: Tensor): Tensor {
    const { hidden } = this.lm.forward(ctx, { inputIds, attentionMask });
    return this.head.forward(ctx, ctx.dropout(hidden, this.classifierDropout));
  }

  /** Mean cross-entropy against labels [B, T] (-100 = ignored). */
  loss(ctx: Ctx, inputIds: Tensor, attentionMask: Tensor, labels: Tensor): Tensor {
    const logits = this.forward(ctx, inputIds, attentionMask);
    return F.crossEntropy(F.reshape(logits, [-1, this.numLabels]), F.reshape(labels, [-1]));
  }
}

/** The token classification head of a decoder (GPT2ForTokenClassification, LlamaForTokenClassification). */
export function decoderTagHead(modelType: string): TaskHead {
  return {
    architecture: `${hfPrefix(modelType)}ForTokenClassification`,
    framing: 'eos',
    tokenTypes: false,
    build: (hf: HfConfig, numLabels: number, opts = {}): TaskModel => {
      const info = causalLMFromHf(hf, { dropout: opts.dropout });
      // HF: config.classifier_dropout, else 0.1 (GPT-2 and LLaMA configs have no hidden_dropout).
      const configured = (hf as unknown as Record<string, unknown>)['classifier_dropout'];
      const p = opts.dropout ?? (typeof configured === 'number' ? configured : 0.1);
      const m = new DecoderTokenClassification(info.model, info.hiddenSize, numLabels, modelType === 'gpt2' ? 'classifier' : 'score', p);
      return {
        parameters: () => m.parameters(),
        forward: (ctx, inp) => m.forward(ctx, inp.inputIds, inp.attentionMask),
        loss: (ctx, inp, labels) => m.loss(ctx, inp.inputIds, inp.attentionMask, labels),
      };
    },
  };
}

/**
 * Extractive QA with a decoder (HF's GPT2ForQuestionAnswering, LlamaForQuestionAnswering): a `qa_outputs`
 * Linear(H, 2) on every hidden state gives start and end logits; the body keeps its names (`transformer.*`,
 * `model.*`). The input is the question, EOS, then the context (no other special tokens): with causal attention
 * every context token has read the whole question.
 */
export class DecoderQuestionAnswering extends Module {
  readonly qa_outputs: Linear;
  constructor(readonly lm: CausalLM, hidden: number, std = 0.02) {
    super('');
    this.child(lm as unknown as Module);
    this.qa_outputs = this.child(new Linear('qa_outputs', hidden, 2, { std }));
  }

  /** [B, T, 2]: the start logit then the end logit of every token. */
  logits(ctx: Ctx, inputIds: Tensor, attentionMask: Tensor): Tensor {
    return this.qa_outputs.forward(ctx, this.lm.forward(ctx, { inputIds, attentionMask }).hidden);
  }
}

/** The span head of a decoder (GPT2ForQuestionAnswering, LlamaForQuestionAnswering). */
export function decoderQaHead(modelType: string): TaskHead {
  return {
    architecture: `${hfPrefix(modelType)}ForQuestionAnswering`,
    framing: 'eos',
    tokenTypes: false,
    build: (hf: HfConfig, _numLabels: number, opts = {}): TaskModel => {
      const info = causalLMFromHf(hf, { dropout: opts.dropout });
      return spanTaskModel(new DecoderQuestionAnswering(info.model, info.hiddenSize), (m, ctx, inp) => m.logits(ctx, inp.inputIds, inp.attentionMask));
    },
  };
}

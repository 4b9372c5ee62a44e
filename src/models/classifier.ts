// Sequence classification with a decoder (GPT-1 style, HF's GPT2ForSequenceClassification): a linear `score`
// head (no bias) on the hidden state of the last non-padding token, with gradients through the whole decoder,
// plus an optional auxiliary LM loss (GPT-1 used weight 0.5).
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { Ctx, Linear, Module } from '../nn/index.js';
import type { HfConfig } from '../io/hf-config.js';
import { causalLMFromHf, type CausalLM } from './index.js';
import { shiftedLmLoss } from './lm-loss.js';
import type { TaskHead, TaskModel } from './registry.js';

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

/** The last-token classification head of a decoder (GPT2ForSequenceClassification, LlamaForSequenceClassification). */
export function decoderClassifyHead(modelType: string): TaskHead {
  return {
    architecture: `${modelType === 'gpt2' ? 'GPT2' : modelType[0]!.toUpperCase() + modelType.slice(1)}ForSequenceClassification`,
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

// The span head's outputs and loss, shared by every *ForQuestionAnswering (BERT, RoBERTa, the decoders).
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import type { Ctx, ParamSpec } from '../nn/index.js';
import type { TaskInputs, TaskModel } from './registry.js';

/** A QA model as a registry task model: `logits` [B, T, 2] (start, end), labels [B, 2] (start, end tokens). */
export function spanTaskModel<M extends { parameters(): ParamSpec[] }>(m: M, logits: (m: M, ctx: Ctx, inp: TaskInputs) => Tensor): TaskModel {
  return {
    parameters: () => m.parameters(),
    forward: (ctx, inp) => logits(m, ctx, inp),
    loss: (ctx, inp, labels) => {
      const [start, end] = F.split(labels, 1, [1, 1]);
      return spanLoss(logits(m, ctx, inp), F.squeeze(start!, 1), F.squeeze(end!, 1));
    },
  };
}

/** [B, T, 2] span logits -> start and end logits [B, T]. */
export function splitSpanLogits(logits: Tensor): { startLogits: Tensor; endLogits: Tensor } {
  const [start, end] = F.split(logits, -1, [1, 1]);
  return { startLogits: F.squeeze(start!, -1), endLogits: F.squeeze(end!, -1) };
}

/**
 * The loss of every *ForQuestionAnswering: (start CE + end CE) / 2 over positions [B] clamped to [0, T], a position
 * of T (beyond the sequence) being ignored, as HF clamps to `ignored_index = start_logits.size(1)`.
 */
export function spanLoss(logits: Tensor, startPositions: Tensor, endPositions: Tensor): Tensor {
  const { startLogits, endLogits } = splitSpanLogits(logits);
  const t = F.dimValue(logits.graph, logits.shape[1]!, 'int64');
  const clamp = (p: Tensor) => F.where(F.less(p, 0), 0, F.where(F.greaterOrEqual(p, t), -100, p));
  return F.mul(F.add(F.crossEntropy(startLogits, clamp(startPositions)), F.crossEntropy(endLogits, clamp(endPositions))), 0.5);
}

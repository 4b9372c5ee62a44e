// The causal-LM loss shared by every decoder, as Hugging Face computes it: logits[:, :-1] predict labels[:, 1:],
// mean cross-entropy over labels != -100. The last position is dropped before the LM head, which gives the same
// loss without computing its logits.
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { headLoss, type HeadOutputs } from './registry.js';

export function shiftedLmLoss(hidden: Tensor, labels: Tensor, lmHead: (h: Tensor) => Tensor): Tensor {
  return hidden.graph.scope('lm_head', 'loss', () => {
    const logits = lmHead(F.slice(hidden, 1, 0, -1));
    const vocab = logits.shape[logits.rank - 1];
    return F.crossEntropy(F.reshape(logits, [-1, vocab]), F.reshape(F.slice(labels, 1, 1), [-1]));
  });
}

/** The `lm` head of the pretraining pipeline: the same shifted loss, plus the statistics `eval` sums. */
export function causalLmOutputs(hidden: Tensor, labels: Tensor, lmHead: (h: Tensor) => Tensor): HeadOutputs {
  return hidden.graph.scope('lm_head', 'loss', () => {
    const logits = lmHead(F.slice(hidden, 1, 0, -1));
    const vocab = logits.shape[logits.rank - 1];
    return headLoss('lm', F.reshape(logits, [-1, vocab]), F.reshape(F.slice(labels, 1, 1), [-1]));
  });
}

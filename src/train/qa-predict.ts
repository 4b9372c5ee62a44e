// Answers from a QA model (a registry 'qa' head: start and end logits over a question/context pair): the
// examples become windows (src/data/qa-features.ts), the compiled forward pass scores them in batches, and each
// example's windows give its n best answers (run_qa.py's postprocess_qa_predictions). Used by QA evaluation
// during fine-tuning and by `predict` on a loaded checkpoint.
import { Ctx } from '../nn/index.js';
import {
  bestAnswers, decoderTemplate, pairTemplate, prepareQaFeatures, type PairTemplate, type QaAnswer, type QaAnswerOptions, type QaFeature, type QaInput,
} from '../data/qa-features.js';
import type { HfConfig } from '../io/hf-config.js';
import type { TaskHead, TaskModel } from '../models/registry.js';
import type { Backend } from '../runtime/backend.js';
import { Forward, type Batch } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import type { Tokenizer } from '../tokenizers/index.js';

/** How QA examples become windows and windows answers (run_qa.py's names in the comments). */
export interface QaSettings extends QaAnswerOptions {
  /** max_seq_length */
  maxLen: number;
  /** doc_stride */
  docStride: number;
}

/** run_qa.py's defaults: max_seq_length 384, doc_stride 128, n_best_size 20, max_answer_length 30. */
export const QA_DEFAULTS: QaSettings = { maxLen: 384, docStride: 128, nBestSize: 20, maxAnswerLength: 30 };

/** Padded int64 batch of features (ids, mask, and token types where the head reads them), `width` tokens a row. */
export function qaBatch(features: readonly QaFeature[], width: number, pad: number, tokenTypes: boolean): Batch {
  const n = features.length;
  const ids = new BigInt64Array(n * width).fill(BigInt(pad));
  const mask = new BigInt64Array(n * width);
  const types = new BigInt64Array(n * width);
  features.forEach((f, i) => {
    f.ids.forEach((id, t) => {
      ids[i * width + t] = BigInt(id);
      mask[i * width + t] = 1n;
      types[i * width + t] = BigInt(f.typeIds[t]!);
    });
  });
  const shape = [n, width];
  const b: Batch = { input_ids: { dtype: 'int64', shape, data: ids }, attention_mask: { dtype: 'int64', shape, data: mask } };
  if (tokenTypes) b['token_type_ids'] = { dtype: 'int64', shape, data: types };
  return b;
}

/** The tokens around question and context: the tokenizer's pair template, or for a decoder question EOS context. */
export async function qaTemplate(tok: Tokenizer, head: TaskHead, hf: HfConfig): Promise<PairTemplate> {
  if (head.framing === 'template') return pairTemplate(tok);
  if (head.framing !== 'eos') throw new Error(`--task qa: ${hf.model_type} frames texts as ${head.framing}; extractive QA needs an encoder or a decoder`);
  const eos = tok.specialIds.eos ?? (Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id);
  if (eos === undefined || eos === null) throw new Error(`${hf.model_type}: no EOS token (tokenizer or config.json) to separate the question from the context`);
  return decoderTemplate(eos);
}

export class QaPredictor {
  private constructor(
    private readonly fwd: Forward,
    private readonly head: TaskHead,
    private readonly tok: Tokenizer,
    private readonly pad: number,
    private readonly template: PairTemplate,
  ) {}

  static async create(backend: Backend, model: TaskModel, store: ParameterStore, head: TaskHead, tok: Tokenizer, pad: number, template: PairTemplate): Promise<QaPredictor> {
    const fwd = await Forward.compile(backend, (g) => ({
      logits: model.forward(new Ctx(g), {
        inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
        attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
        ...(head.tokenTypes ? { tokenTypeIds: g.input('token_type_ids', 'int64', ['batch', 'seq']) } : {}),
      }),
    }), store, 'qa');
    return new QaPredictor(fwd, head, tok, pad, template);
  }

  /** The n best answers of each example, best first. */
  async answer(examples: readonly QaInput[], s: QaSettings, batchSize = 32): Promise<QaAnswer[][]> {
    const features = await prepareQaFeatures(this.tok, examples, { ...s, template: this.template });
    const windows = examples.map(() => [] as Parameters<typeof bestAnswers>[1][number][]);
    for (let i = 0; i < features.length; i += batchSize) {
      const chunk = features.slice(i, i + batchSize);
      const width = Math.max(...chunk.map((f) => f.ids.length));
      const logits = (await this.fwd.run(qaBatch(chunk, width, this.pad, this.head.tokenTypes), ['logits'])).logits.data as Float32Array;
      chunk.forEach((feature, k) => {
        const row = logits.subarray(k * width * 2, (k + 1) * width * 2);
        const n = feature.ids.length;
        const startLogits = Float32Array.from({ length: n }, (_, t) => row[2 * t]!);
        const endLogits = Float32Array.from({ length: n }, (_, t) => row[2 * t + 1]!);
        windows[feature.example]!.push({ feature, startLogits, endLogits });
      });
    }
    return examples.map((x, e) => bestAnswers(x.context, windows[e]!, s));
  }
}

// RoBERTa as Hugging Face's RobertaForMaskedLM defines it (transformers 4.35): BERT's body (bert.ts's BertModel,
// reused, not copied) under the prefix `roberta`, without a pooler (add_pooling_layer=False), one token type, and
// position ids computed from the input ids as HF's create_position_ids_from_input_ids does: real tokens count up
// from padding_idx + 1, padding sits at padding_idx (so max_position_embeddings = usable positions + pad + 1).
// The MLM head `lm_head` (dense -> GELU -> layer_norm -> decoder tied to the word embeddings + `lm_head.bias`); no
// NSP. Task heads: RobertaForSequenceClassification (`classifier.dense` + tanh + `classifier.out_proj` on <s>),
// RobertaForTokenClassification (`classifier`), RobertaForQuestionAnswering (`qa_outputs`).
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { parseRobertaConfig, type HfConfig, type HfRobertaConfig } from '../io/hf-config.js';
import { Ctx, Linear, Module } from '../nn/index.js';
import {
  BertForQuestionAnswering, BertForTokenClassification, BertModel, MaskedLMHead, SpanBoundaryHead, bertConfigFromHf,
  bertHfFields, bertSizeConfig, firstToken, mlmLoss, sboLoss, sumHeads, withDropout, type BertConfig,
  type EncoderInputs, type EncoderOutputs,
} from './bert.js';
import { spanTaskModel } from './qa-loss.js';
import { registerModel, type HeadName, type HeadOutputs, type PretrainingModel } from './registry.js';

/** BERT's config plus the ids RoBERTa's config.json carries. */
export interface RobertaConfig extends BertConfig {
  bosTokenId: number;
  eosTokenId: number;
}

/**
 * HF's create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad, per row [B, T]. Our CumSum op
 * keeps it O(T) and exact in int64 (graph/ops/reduce.ts says why it is an op of its own).
 */
export function robertaPositionIds(inputIds: Tensor, padTokenId: number): Tensor {
  const real = F.cast(F.not(F.equal(inputIds, padTokenId)), 'int64');
  return F.add(F.mul(F.cumsum(real, 1), real), padTokenId);
}

/** RobertaModel: BertModel with RoBERTa's position ids, and no pooler by default (as RobertaForMaskedLM). */
export class RobertaModel extends BertModel {
  constructor(config: BertConfig, prefix = 'roberta', opts: { pooler?: boolean } = {}) {
    super(config, prefix, { pooler: opts.pooler ?? false });
  }

  protected override defaultPositionIds(inputIds: Tensor): Tensor {
    return robertaPositionIds(inputIds, this.config.padTokenId);
  }
}

export interface RobertaPretrainingOptions {
  /** Default ['mlm']. 'sbo' adds SpanBERT's span boundary head (under `cls.span_boundary.`, as for BERT). */
  heads?: readonly HeadName[];
  sboWeight?: number;
}

/** RobertaForMaskedLM (plus, when asked, the SBO head for span masking). */
export class RobertaForMaskedLM extends Module implements PretrainingModel {
  readonly modelType = 'roberta' as const;
  readonly heads: readonly HeadName[];
  readonly sboWeight: number;
  readonly roberta: RobertaModel;
  readonly lm_head?: MaskedLMHead;
  readonly span_boundary?: SpanBoundaryHead;
  constructor(readonly config: RobertaConfig, opts: RobertaPretrainingOptions = {}) {
    super('');
    const heads = opts.heads ?? ['mlm'];
    const unknown = heads.filter((h) => h !== 'mlm' && h !== 'sbo');
    if (unknown.length) throw new Error(`roberta: no "${unknown.join('", "')}" head (roberta has mlm, sbo)`);
    this.heads = heads;
    this.sboWeight = opts.sboWeight ?? 1;
    this.roberta = this.child(new RobertaModel(config));
    const words = this.roberta.wordEmbeddings;
    if (heads.includes('mlm')) this.lm_head = this.child(new MaskedLMHead('lm_head', config, words, { dense: 'dense', norm: 'layer_norm' }));
    if (heads.includes('sbo')) this.span_boundary = this.child(new SpanBoundaryHead('cls.span_boundary', config, words));
  }

  encode(ctx: Ctx, inp: EncoderInputs): EncoderOutputs {
    return this.roberta.forward(ctx, inp);
  }

  /** MLM logits [..., V] from the encoder's hidden states [..., H]. */
  mlmLogits(ctx: Ctx, hidden: Tensor): Tensor {
    if (!this.lm_head) throw new Error('roberta: this model was built without the mlm head');
    return this.lm_head.forward(ctx, hidden);
  }

  pretrainingLoss(ctx: Ctx, inputs: Readonly<Record<string, Tensor>>, heads: readonly HeadName[]): HeadOutputs {
    const need = (name: string, head: string): Tensor => {
      const t = inputs[name];
      if (!t) throw new Error(`roberta: the ${head} head needs the graph input "${name}"`);
      return t;
    };
    const { hidden } = this.encode(ctx, { inputIds: need('input_ids', heads.join('+')), attentionMask: inputs['attention_mask'], tokenTypeIds: inputs['token_type_ids'] });
    return sumHeads(heads.map((head) => {
      if (head === 'mlm') return mlmLoss(hidden, need('labels', 'mlm'), (rows) => this.mlmLogits(ctx, rows));
      if (head === 'sbo' && this.span_boundary) return { ...sboLoss(ctx, this.span_boundary, hidden, inputs), weight: this.sboWeight };
      throw new Error(`roberta: no "${head}" head in this model (built with ${this.heads.join(', ')})`);
    }));
  }
}

// ---- fine-tuning heads ----

/** RobertaClassificationHead: dropout -> dense -> tanh -> dropout -> out_proj, on the <s> state. */
class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly out_proj: Linear;
  constructor(prefix: string, private readonly c: BertConfig, numLabels: number) {
    super(prefix);
    this.dense = this.child(new Linear(`${prefix}.dense`, c.hiddenSize, c.hiddenSize, { std: c.initializerRange }));
    this.out_proj = this.child(new Linear(`${prefix}.out_proj`, c.hiddenSize, numLabels, { std: c.initializerRange }));
  }

  forward(ctx: Ctx, hidden: Tensor): Tensor {
    const p = this.c.classifierDropout ?? this.c.hiddenDropout;
    const x = F.tanh(this.dense.forward(ctx, ctx.dropout(firstToken(hidden), p)));
    return this.out_proj.forward(ctx, ctx.dropout(x, p));
  }
}

/** RobertaForSequenceClassification: logits [B, numLabels] from the <s> state (no pooler). */
export class RobertaForSequenceClassification extends Module {
  readonly roberta: RobertaModel;
  readonly classifier: RobertaClassificationHead;
  constructor(readonly config: BertConfig, readonly numLabels: number) {
    super('');
    this.roberta = this.child(new RobertaModel(config));
    this.classifier = this.child(new RobertaClassificationHead('classifier', config, numLabels));
  }

  forward(ctx: Ctx, inp: EncoderInputs): Tensor {
    return this.classifier.forward(ctx, this.roberta.forward(ctx, inp).hidden);
  }

  /** Mean cross-entropy against labels [B]. */
  loss(ctx: Ctx, inp: EncoderInputs, labels: Tensor): Tensor {
    return F.crossEntropy(this.forward(ctx, inp), labels);
  }
}

/** RobertaForTokenClassification: BERT's token classifier on RoBERTa's body. */
export class RobertaForTokenClassification extends BertForTokenClassification {
  constructor(config: BertConfig, numLabels: number) {
    super(config, numLabels, new RobertaModel(config));
  }
}

/** RobertaForQuestionAnswering: BERT's span head on RoBERTa's body. */
export class RobertaForQuestionAnswering extends BertForQuestionAnswering {
  constructor(config: BertConfig) {
    super(config, new RobertaModel(config));
  }
}

// ---- config conversion and registration ----

/** Positions a RoBERTa of this config can read (the table also holds padding_idx and the rows below it). */
export function robertaUsablePositions(c: BertConfig): number {
  return c.maxPositionEmbeddings - c.padTokenId - 1;
}

export function robertaConfigFromHf(hf: HfRobertaConfig): RobertaConfig {
  const eos = Array.isArray(hf.eos_token_id) ? hf.eos_token_id[0] : hf.eos_token_id;
  return { ...bertConfigFromHf(hf), bosTokenId: hf.bos_token_id ?? 0, eosTokenId: eos ?? 2 };
}

export function robertaConfigToHf(c: RobertaConfig, extra: Record<string, unknown> = {}): HfRobertaConfig {
  return parseRobertaConfig({ model_type: 'roberta', ...bertHfFields(c), bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, ...extra }, 'roberta config');
}

function asRoberta(hf: HfConfig): HfRobertaConfig {
  if (hf.model_type !== 'roberta') throw new Error(`roberta: expected model_type "roberta", got "${hf.model_type}"`);
  return hf;
}

registerModel({
  modelType: 'roberta',
  family: 'encoder',
  objectives: ['mlm', 'span'],
  tokenizer: 'bpe',
  tokenizerStyle: 'roberta',
  // RoBERTa's optimisation (Liu et al. 2019, table 9): Adam beta2 0.98, eps 1e-6, weight decay 0.01, linear decay.
  recipe: { beta2: 0.98, eps: 1e-6, weightDecay: 0.01, decay: 'linear' },
  newConfig: (size, tok) => {
    const s = tok.specialIds;
    const pad = s.pad ?? 1;
    const base = bertSizeConfig(size, tok, pad, size.positions + pad + 1);
    return robertaConfigToHf({ ...base, typeVocabSize: 1, bosTokenId: s.bos ?? s.cls ?? 0, eosTokenId: s.eos ?? s.sep ?? 2 });
  },
  build: (hf, opts = {}) => {
    const c = robertaConfigFromHf(asRoberta(hf));
    return new RobertaForMaskedLM({ ...c, ...withDropout(c, opts.dropout) }, { heads: opts.heads, sboWeight: opts.sboWeight });
  },
  architecture: () => 'RobertaForMaskedLM',
  // One segment: RoBERTa's single token type is left to its default (zeros).
  tasks: {
    classify: {
      architecture: 'RobertaForSequenceClassification', framing: 'template', tokenTypes: false,
      build: (hf, numLabels, opts = {}) => {
        const c = robertaConfigFromHf(asRoberta(hf));
        return new RobertaForSequenceClassification({ ...c, ...withDropout(c, opts.dropout) }, numLabels);
      },
    },
    tag: {
      architecture: 'RobertaForTokenClassification', framing: 'template', tokenTypes: false,
      build: (hf, numLabels, opts = {}) => {
        const c = robertaConfigFromHf(asRoberta(hf));
        return new RobertaForTokenClassification({ ...c, ...withDropout(c, opts.dropout) }, numLabels);
      },
    },
    qa: {
      architecture: 'RobertaForQuestionAnswering', framing: 'template', tokenTypes: false,
      build: (hf, _numLabels, opts = {}) => {
        const c = robertaConfigFromHf(asRoberta(hf));
        return spanTaskModel(new RobertaForQuestionAnswering({ ...c, ...withDropout(c, opts.dropout) }), (m, ctx, inp) => m.logits(ctx, inp));
      },
    },
  },
});

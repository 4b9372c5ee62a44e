// BERT as Hugging Face's BertModel defines it (transformers 4.35): word + learned absolute position + token type
// embeddings, then an embeddings LayerNorm; POST-LayerNorm blocks (x = LN(x + attn(x)), x = LN(x + ffn(x))) with
// bidirectional attention masked only at padding; GELU in its exact erf form; LayerNorm eps 1e-12. Heads under HF's
// names: the MLM head `cls.predictions` (dense -> GELU -> LayerNorm -> decoder tied to the word embeddings + its own
// bias), NSP `cls.seq_relationship` on the pooled output tanh(pooler.dense(h[:, 0])), and SpanBERT's span boundary
// objective under our own names `cls.span_boundary.*` (HF has no SpanBERT class). The body (BertModel) is what
// RoBERTa reuses (roberta.ts): it differs only in its prefix, its position ids and its heads.
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { parseBertConfig, type HfBertConfig, type HfConfig } from '../io/hf-config.js';
import { Ctx, Embedding, LayerNorm, Linear, MLP, Module, MultiHeadAttention, Param, activate, paddingMask } from '../nn/index.js';
import { spanLoss, spanTaskModel, splitSpanLogits } from './qa-loss.js';
import { headLoss, registerModel, type HeadName, type HeadOutputs, type ModelSize, type ModelTokens, type PretrainingModel } from './registry.js';

/** Our (camelCase) BERT config; RoBERTa uses the same one. */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  initializerRange: number;
  /** HF's hidden_dropout_prob: on the embeddings and on every residual branch, in training. */
  hiddenDropout: number;
  /** HF's attention_probs_dropout_prob: on the attention probabilities, in training. */
  attentionDropout: number;
  /** HF's classifier_dropout: before a task head's classifier; hiddenDropout when undefined. */
  classifierDropout?: number;
  padTokenId: number;
}

export function bertConfig(
  c: Partial<BertConfig> & Pick<BertConfig, 'vocabSize' | 'hiddenSize' | 'numHiddenLayers' | 'numAttentionHeads'>,
): BertConfig {
  return {
    intermediateSize: 4 * c.hiddenSize,
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    initializerRange: 0.02,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    padTokenId: 0,
    ...c,
  };
}

/** The graph inputs of an encoder forward pass. */
export interface EncoderInputs {
  /** int64 [B, T]. */
  inputIds: Tensor;
  /** int64 [B, T] of 1 (real) and 0 (padding); absent = every position real. */
  attentionMask?: Tensor;
  /** int64 [B, T] segment ids; absent = all 0 (HF's default). */
  tokenTypeIds?: Tensor;
  /** int64 [B, T] or [1, T]; absent = the model's own (BERT: 0..T-1; RoBERTa: from the ids). */
  positionIds?: Tensor;
}

export interface EncoderOutputs {
  /** The last layer's output, [B, T, H]. */
  hidden: Tensor;
  /** tanh(pooler.dense(hidden[:, 0])), [B, H]; only for a model built with a pooler. */
  pooled?: Tensor;
}

class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(prefix: string, readonly c: BertConfig) {
    super(prefix);
    const std = c.initializerRange;
    this.word_embeddings = this.child(new Embedding(`${prefix}.word_embeddings`, c.vocabSize, c.hiddenSize, { std }));
    this.position_embeddings = this.child(new Embedding(`${prefix}.position_embeddings`, c.maxPositionEmbeddings, c.hiddenSize, { std }));
    this.token_type_embeddings = this.child(new Embedding(`${prefix}.token_type_embeddings`, c.typeVocabSize, c.hiddenSize, { std }));
    this.LayerNorm = this.child(new LayerNorm(`${prefix}.LayerNorm`, c.hiddenSize, c.layerNormEps));
  }

  forward(ctx: Ctx, inputIds: Tensor, positionIds: Tensor, tokenTypeIds?: Tensor): Tensor {
    // Without token types every position is segment 0: row 0 of the table, broadcast.
    const types = tokenTypeIds
      ? this.token_type_embeddings.forward(ctx, tokenTypeIds)
      : F.slice(this.token_type_embeddings.weight.in(ctx), 0, 0, 1);
    let x = F.add(this.word_embeddings.forward(ctx, inputIds), types);
    x = F.add(x, this.position_embeddings.forward(ctx, positionIds));
    return ctx.dropout(this.LayerNorm.forward(ctx, x), this.c.hiddenDropout);
  }
}

class BertLayer extends Module {
  /** attention.self.{query,key,value} and attention.output.dense. */
  readonly attention: MultiHeadAttention;
  readonly attentionLayerNorm: LayerNorm;
  /** intermediate.dense and output.dense. */
  readonly ffn: MLP;
  readonly outputLayerNorm: LayerNorm;
  constructor(prefix: string, readonly c: BertConfig) {
    super(prefix);
    const std = c.initializerRange;
    this.attention = this.child(
      new MultiHeadAttention(`${prefix}.attention`, {
        hidden: c.hiddenSize, heads: c.numAttentionHeads, std, attnDropout: c.attentionDropout,
        names: { q: 'self.query', k: 'self.key', v: 'self.value', out: 'output.dense' },
      }),
    );
    this.attentionLayerNorm = this.child(new LayerNorm(`${prefix}.attention.output.LayerNorm`, c.hiddenSize, c.layerNormEps));
    this.ffn = this.child(
      new MLP(prefix, { hidden: c.hiddenSize, inner: c.intermediateSize, act: 'gelu', std, names: { up: 'intermediate.dense', down: 'output.dense' } }),
    );
    this.outputLayerNorm = this.child(new LayerNorm(`${prefix}.output.LayerNorm`, c.hiddenSize, c.layerNormEps));
  }

  forward(ctx: Ctx, x: Tensor, mask?: Tensor): Tensor {
    const p = this.c.hiddenDropout;
    x = this.attentionLayerNorm.forward(ctx, F.add(x, ctx.dropout(this.attention.forward(ctx, x, { mask }).out, p)));
    return this.outputLayerNorm.forward(ctx, F.add(x, ctx.dropout(this.ffn.forward(ctx, x), p)));
  }
}

/** hidden[:, 0] ([B, H]): the [CLS] / <s> state. */
export function firstToken(hidden: Tensor): Tensor {
  return F.squeeze(F.slice(hidden, 1, 0, 1), 1);
}

class BertPooler extends Module {
  readonly dense: Linear;
  constructor(prefix: string, c: BertConfig) {
    super(prefix);
    this.dense = this.child(new Linear(`${prefix}.dense`, c.hiddenSize, c.hiddenSize, { std: c.initializerRange }));
  }

  forward(ctx: Ctx, hidden: Tensor): Tensor {
    return F.tanh(this.dense.forward(ctx, firstToken(hidden)));
  }
}

/** BertModel: embeddings, the encoder stack and (optionally, HF's add_pooling_layer) the pooler. */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly layer: BertLayer[];
  readonly pooler?: BertPooler;
  constructor(readonly config: BertConfig, prefix = 'bert', opts: { pooler?: boolean } = {}) {
    super(prefix);
    const c = config;
    if (c.hiddenSize % c.numAttentionHeads !== 0)
      throw new Error(`bert: hiddenSize ${c.hiddenSize} is not divisible by numAttentionHeads ${c.numAttentionHeads}`);
    this.embeddings = this.child(new BertEmbeddings(`${prefix}.embeddings`, c));
    this.layer = Array.from({ length: c.numHiddenLayers }, (_, i) => this.child(new BertLayer(`${prefix}.encoder.layer.${i}`, c)));
    if (opts.pooler ?? true) this.pooler = this.child(new BertPooler(`${prefix}.pooler`, c));
  }

  /** The word embedding table, which the MLM decoders share. */
  get wordEmbeddings(): Embedding {
    return this.embeddings.word_embeddings;
  }

  /** BERT's default position ids: 0..T-1 on every row, [1, T] (HF ignores the mask here). */
  protected defaultPositionIds(inputIds: Tensor): Tensor {
    return F.unsqueeze(F.arange(inputIds.graph, inputIds.shape[1]), 0);
  }

  forward(ctx: Ctx, inp: EncoderInputs): EncoderOutputs {
    const positions = inp.positionIds ?? this.defaultPositionIds(inp.inputIds);
    let x = this.embeddings.forward(ctx, inp.inputIds, positions, inp.tokenTypeIds);
    const mask = inp.attentionMask ? paddingMask(inp.attentionMask) : undefined;
    for (const layer of this.layer) x = ctx.block(layer.prefix, () => layer.forward(ctx, x, mask));
    return { hidden: x, pooled: this.pooler?.forward(ctx, x) };
  }
}

/** dense -> GELU -> LayerNorm -> decoder tied to the word embeddings, plus a bias [V]: BERT's and RoBERTa's MLM head. */
export class MaskedLMHead extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: Param;
  /** `names` places the pieces: BERT's transform.dense / transform.LayerNorm, RoBERTa's dense / layer_norm. */
  constructor(prefix: string, c: BertConfig, private readonly decoder: Embedding, names: { dense: string; norm: string }) {
    super(prefix);
    this.dense = this.child(new Linear(`${prefix}.${names.dense}`, c.hiddenSize, c.hiddenSize, { std: c.initializerRange }));
    this.norm = this.child(new LayerNorm(`${prefix}.${names.norm}`, c.hiddenSize, c.layerNormEps));
    this.bias = this.param('bias', [c.vocabSize], { kind: 'zeros' }, true);
  }

  /** hidden [..., H] -> logits [..., V]. */
  forward(ctx: Ctx, hidden: Tensor): Tensor {
    const h = this.norm.forward(ctx, activate(this.dense.forward(ctx, hidden), 'gelu'));
    return F.add(this.decoder.attend(ctx, h), this.bias.in(ctx));
  }
}

/** SpanBERT's relative-position table: targets up to this far into a span (max_pair_targets). */
export const SBO_MAX_TARGETS = 15;
/** SpanBERT's relative-position embedding size. */
export const SBO_POSITION_SIZE = 200;

/**
 * hidden [B, T, H] at int64 indices [B, P] (positions within each row) -> [B, P, H], by the flat-index gather of
 * classifier.ts's gatherRows: row b's position t is flat row b * T + t.
 */
export function gatherPositions(hidden: Tensor, index: Tensor): Tensor {
  const [b, t, h] = hidden.shape;
  const g = hidden.graph;
  const rowStart = F.unsqueeze(F.mul(F.arange(g, b), F.dimValue(g, t, 'int64')), 1);
  return F.gather(F.reshape(hidden, [-1, h]), F.add(rowStart, index), 0);
}

/**
 * SpanBERT's span boundary objective (facebookresearch/SpanBERT, pair_bert.py): each target token of a span is
 * predicted from the states just outside the span and its offset inside it, [h_left; h_right; p_offset] ->
 * Linear(2H + 200, H) -> GELU -> LayerNorm -> Linear(H, H) -> GELU -> LayerNorm -> decoder tied to the word
 * embeddings + its own bias.
 */
export class SpanBoundaryHead extends Module {
  readonly position_embeddings: Embedding;
  readonly dense1: Linear;
  readonly LayerNorm1: LayerNorm;
  readonly dense2: Linear;
  readonly LayerNorm2: LayerNorm;
  readonly bias: Param;
  constructor(prefix: string, c: BertConfig, private readonly decoder: Embedding) {
    super(prefix);
    const std = c.initializerRange;
    const h = c.hiddenSize;
    this.position_embeddings = this.child(new Embedding(`${prefix}.position_embeddings`, SBO_MAX_TARGETS, SBO_POSITION_SIZE, { std }));
    this.dense1 = this.child(new Linear(`${prefix}.dense1`, 2 * h + SBO_POSITION_SIZE, h, { std }));
    this.LayerNorm1 = this.child(new LayerNorm(`${prefix}.LayerNorm1`, h, c.layerNormEps));
    this.dense2 = this.child(new Linear(`${prefix}.dense2`, h, h, { std }));
    this.LayerNorm2 = this.child(new LayerNorm(`${prefix}.LayerNorm2`, h, c.layerNormEps));
    this.bias = this.param('bias', [c.vocabSize], { kind: 'zeros' }, true);
  }

  /** Logits [B, P, V] for targets at `offset` [B, P] inside spans bounded by positions `left` and `right` [B, P]. */
  forward(ctx: Ctx, hidden: Tensor, left: Tensor, right: Tensor, offset: Tensor): Tensor {
    const x = F.concat([gatherPositions(hidden, left), gatherPositions(hidden, right), this.position_embeddings.forward(ctx, offset)], -1);
    let h = this.LayerNorm1.forward(ctx, activate(this.dense1.forward(ctx, x), 'gelu'));
    h = this.LayerNorm2.forward(ctx, activate(this.dense2.forward(ctx, h), 'gelu'));
    return F.add(this.decoder.attend(ctx, h), this.bias.in(ctx));
  }
}

/**
 * The MLM head's loss and statistics from hidden states [B, T, H] against labels [B, T] (-100 = not predicted).
 * Only the labelled rows go through the head (`logitsOf`: [N, H] -> [N, V], e.g. `mlmLogits`): the same loss,
 * statistics and gradients as logits at every position, for the ~15% of the vocabulary projection that counts.
 */
export function mlmLoss(hidden: Tensor, labels: Tensor, logitsOf: (rows: Tensor) => Tensor): { loss: Tensor; stats: Record<string, Tensor> } {
  const h = hidden.shape[hidden.rank - 1];
  const flat = F.reshape(labels, [-1]);
  const rows = F.nonZero(F.not(F.equal(flat, -100)));
  return headLoss('mlm', logitsOf(F.gather(F.reshape(hidden, [-1, h]), rows, 0)), F.gather(flat, rows, 0));
}

/** Optional graph inputs: absent from `inputs` = not fed. */
function optional(inputs: Readonly<Record<string, Tensor>>, name: string): Tensor | undefined {
  return inputs[name];
}
function required(inputs: Readonly<Record<string, Tensor>>, name: string, head: string): Tensor {
  const t = inputs[name];
  if (!t) throw new Error(`bert: the ${head} head needs the graph input "${name}"`);
  return t;
}

/** Adds up each head's mean loss (the SBO's weighted) and collects their statistics. */
export function sumHeads(parts: { loss: Tensor; stats: Record<string, Tensor>; weight?: number }[]): HeadOutputs {
  if (parts.length === 0) throw new Error('no heads to train');
  let loss: Tensor | undefined;
  const stats: Record<string, Tensor> = {};
  for (const p of parts) {
    const l = p.weight !== undefined && p.weight !== 1 ? F.mul(p.loss, p.weight) : p.loss;
    loss = loss ? F.add(loss, l) : l;
    Object.assign(stats, p.stats);
  }
  return { loss: loss!, stats };
}

/** The SBO head's loss from the `sbo_*` inputs; padded targets (label -100) read position 0 and are ignored. */
export function sboLoss(ctx: Ctx, head: SpanBoundaryHead, hidden: Tensor, inputs: Readonly<Record<string, Tensor>>): { loss: Tensor; stats: Record<string, Tensor> } {
  const labels = required(inputs, 'sbo_labels', 'sbo');
  const pad = F.equal(labels, -100);
  const safe = (name: string) => F.where(pad, 0, required(inputs, name, 'sbo'));
  const logits = head.forward(ctx, hidden, safe('sbo_left'), safe('sbo_right'), safe('sbo_position'));
  const v = logits.shape[logits.rank - 1];
  return headLoss('sbo', F.reshape(logits, [-1, v]), F.reshape(labels, [-1]));
}

export interface BertPretrainingOptions {
  /** The heads to build (parameters exist only for these); default mlm + nsp. */
  heads?: readonly HeadName[];
  /** Weight of the SBO loss in the total (SpanBERT's pair_loss_weight); default 1. */
  sboWeight?: number;
}

/**
 * BertForPreTraining (heads mlm + nsp), BertForMaskedLM (mlm; no pooler, as HF's add_pooling_layer=False) and
 * SpanBERT (mlm + sbo) in one class: the parameters are those of the heads it is built with.
 */
export class BertForPreTraining extends Module implements PretrainingModel {
  readonly modelType = 'bert' as const;
  readonly heads: readonly HeadName[];
  readonly sboWeight: number;
  readonly bert: BertModel;
  readonly predictions?: MaskedLMHead;
  readonly seq_relationship?: Linear;
  readonly span_boundary?: SpanBoundaryHead;
  constructor(readonly config: BertConfig, opts: BertPretrainingOptions = {}) {
    super('');
    const heads = opts.heads ?? ['mlm', 'nsp'];
    const unknown = heads.filter((h) => h !== 'mlm' && h !== 'nsp' && h !== 'sbo');
    if (unknown.length) throw new Error(`bert: no "${unknown.join('", "')}" head (bert has mlm, nsp, sbo)`);
    this.heads = heads;
    this.sboWeight = opts.sboWeight ?? 1;
    const c = config;
    this.bert = this.child(new BertModel(c, 'bert', { pooler: heads.includes('nsp') }));
    const words = this.bert.wordEmbeddings;
    if (heads.includes('mlm'))
      this.predictions = this.child(new MaskedLMHead('cls.predictions', c, words, { dense: 'transform.dense', norm: 'transform.LayerNorm' }));
    if (heads.includes('nsp'))
      this.seq_relationship = this.child(new Linear('cls.seq_relationship', c.hiddenSize, 2, { std: c.initializerRange }));
    if (heads.includes('sbo')) this.span_boundary = this.child(new SpanBoundaryHead('cls.span_boundary', c, words));
  }

  encode(ctx: Ctx, inp: EncoderInputs): EncoderOutputs {
    return this.bert.forward(ctx, inp);
  }

  /** MLM logits [..., V] from the encoder's hidden states [..., H]. */
  mlmLogits(ctx: Ctx, hidden: Tensor): Tensor {
    if (!this.predictions) throw new Error('bert: this model was built without the mlm head');
    return this.predictions.forward(ctx, hidden);
  }

  /** NSP logits [B, 2] from the pooled output. */
  nspLogits(ctx: Ctx, pooled: Tensor): Tensor {
    if (!this.seq_relationship) throw new Error('bert: this model was built without the nsp head');
    return this.seq_relationship.forward(ctx, pooled);
  }

  pretrainingLoss(ctx: Ctx, inputs: Readonly<Record<string, Tensor>>, heads: readonly HeadName[]): HeadOutputs {
    const { hidden, pooled } = this.encode(ctx, {
      inputIds: required(inputs, 'input_ids', heads.join('+')),
      attentionMask: optional(inputs, 'attention_mask'),
      tokenTypeIds: optional(inputs, 'token_type_ids'),
    });
    return sumHeads(heads.map((head) => {
      switch (head) {
        case 'mlm':
          return mlmLoss(hidden, required(inputs, 'labels', 'mlm'), (rows) => this.mlmLogits(ctx, rows));
        case 'nsp':
          return headLoss('nsp', this.nspLogits(ctx, pooled!), required(inputs, 'next_sentence_label', 'nsp'));
        case 'sbo':
          if (!this.span_boundary) throw new Error('bert: this model was built without the sbo head');
          return { ...sboLoss(ctx, this.span_boundary, hidden, inputs), weight: this.sboWeight };
        default:
          throw new Error(`bert: no "${head}" head (bert has mlm, nsp, sbo)`);
      }
    }));
  }
}

// ---- fine-tuning heads (HF's task classes) ----

/** The body a task head sits on: BertModel, or RoBERTa's. */
export type EncoderBody = Module & { readonly config: BertConfig; forward(ctx: Ctx, inp: EncoderInputs): EncoderOutputs };

function classifierDropout(c: BertConfig): number {
  return c.classifierDropout ?? c.hiddenDropout;
}

/** BertForSequenceClassification: `classifier` on the dropped-out pooled output. Logits [B, numLabels]. */
export class BertForSequenceClassification extends Module {
  readonly bert: BertModel;
  readonly classifier: Linear;
  constructor(readonly config: BertConfig, readonly numLabels: number) {
    super('');
    this.bert = this.child(new BertModel(config, 'bert', { pooler: true }));
    this.classifier = this.child(new Linear('classifier', config.hiddenSize, numLabels, { std: config.initializerRange }));
  }

  forward(ctx: Ctx, inp: EncoderInputs): Tensor {
    const { pooled } = this.bert.forward(ctx, inp);
    return this.classifier.forward(ctx, ctx.dropout(pooled!, classifierDropout(this.config)));
  }

  /** Mean cross-entropy against labels [B]. */
  loss(ctx: Ctx, inp: EncoderInputs, labels: Tensor): Tensor {
    return F.crossEntropy(this.forward(ctx, inp), labels);
  }
}

/** BertForTokenClassification: `classifier` on every token (no pooler). Logits [B, T, numLabels]. */
export class BertForTokenClassification extends Module {
  readonly classifier: Linear;
  constructor(readonly config: BertConfig, readonly numLabels: number, readonly body: EncoderBody = new BertModel(config, 'bert', { pooler: false })) {
    super('');
    this.child(body);
    this.classifier = this.child(new Linear('classifier', config.hiddenSize, numLabels, { std: config.initializerRange }));
  }

  forward(ctx: Ctx, inp: EncoderInputs): Tensor {
    const { hidden } = this.body.forward(ctx, inp);
    return this.classifier.forward(ctx, ctx.dropout(hidden, classifierDropout(this.config)));
  }

  /** Mean cross-entropy against labels [B, T] (-100 = ignored). */
  loss(ctx: Ctx, inp: EncoderInputs, labels: Tensor): Tensor {
    const logits = this.forward(ctx, inp);
    return F.crossEntropy(F.reshape(logits, [-1, this.numLabels]), F.reshape(labels, [-1]));
  }
}

/** BertForQuestionAnswering: `qa_outputs` Linear(H, 2) on every token (no pooler) -> start and end logits [B, T]. */
export class BertForQuestionAnswering extends Module {
  readonly qa_outputs: Linear;
  constructor(readonly config: BertConfig, readonly body: EncoderBody = new BertModel(config, 'bert', { pooler: false })) {
    super('');
    this.child(body);
    this.qa_outputs = this.child(new Linear('qa_outputs', config.hiddenSize, 2, { std: config.initializerRange }));
  }

  /** qa_outputs on every token: [B, T, 2], the start logit then the end logit. */
  logits(ctx: Ctx, inp: EncoderInputs): Tensor {
    return this.qa_outputs.forward(ctx, this.body.forward(ctx, inp).hidden);
  }

  forward(ctx: Ctx, inp: EncoderInputs): { startLogits: Tensor; endLogits: Tensor } {
    return splitSpanLogits(this.logits(ctx, inp));
  }

  /** HF's loss: the mean of the start and end cross-entropies, positions int64 [B]. */
  loss(ctx: Ctx, inp: EncoderInputs, startPositions: Tensor, endPositions: Tensor): Tensor {
    return spanLoss(this.logits(ctx, inp), startPositions, endPositions);
  }
}


// ---- config conversion and registration ----

/** Our config from a Hugging Face config.json (model_type bert or roberta); refuses what this file does not build. */
export function bertConfigFromHf(hf: Omit<HfBertConfig, 'model_type'> & { model_type: string }): BertConfig {
  const unsupported = [
    hf.hidden_act !== 'gelu' && `hidden_act "${hf.hidden_act}" (gelu is)`,
    hf.position_embedding_type !== 'absolute' && `position_embedding_type "${hf.position_embedding_type}" (absolute is)`,
    !hf.tie_word_embeddings && 'tie_word_embeddings false',
  ].filter((x): x is string => typeof x === 'string');
  if (unsupported.length) throw new Error(`${hf.model_type}: not supported: ${unsupported.join(', ')}`);
  return bertConfig({
    vocabSize: hf.vocab_size, hiddenSize: hf.hidden_size, numHiddenLayers: hf.num_hidden_layers,
    numAttentionHeads: hf.num_attention_heads, intermediateSize: hf.intermediate_size,
    maxPositionEmbeddings: hf.max_position_embeddings, typeVocabSize: hf.type_vocab_size, layerNormEps: hf.layer_norm_eps,
    initializerRange: hf.initializer_range, hiddenDropout: hf.hidden_dropout_prob,
    attentionDropout: hf.attention_probs_dropout_prob, padTokenId: hf.pad_token_id ?? 0,
    ...(hf.classifier_dropout !== null ? { classifierDropout: hf.classifier_dropout } : {}),
  });
}

/** The HF config.json fields BERT and RoBERTa share, for our config. */
export function bertHfFields(c: BertConfig): Record<string, unknown> {
  return {
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads, intermediate_size: c.intermediateSize, hidden_act: 'gelu',
    hidden_dropout_prob: c.hiddenDropout, attention_probs_dropout_prob: c.attentionDropout,
    max_position_embeddings: c.maxPositionEmbeddings, type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps,
    position_embedding_type: 'absolute', classifier_dropout: c.classifierDropout ?? null,
    initializer_range: c.initializerRange, pad_token_id: c.padTokenId, tie_word_embeddings: true,
  };
}

/** The Hugging Face config.json fields for our config. */
export function bertConfigToHf(c: BertConfig, extra: Record<string, unknown> = {}): HfBertConfig {
  return parseBertConfig({ model_type: 'bert', ...bertHfFields(c), ...extra }, 'bert config');
}

/** The config a ModelSize asks for (shared with RoBERTa, which adds its position offset). */
export function bertSizeConfig(size: ModelSize, tok: ModelTokens, pad: number, positions = size.positions): BertConfig {
  if (size.kvHeads !== undefined && size.kvHeads !== size.heads) throw new Error('bert: grouped-query attention (kvHeads) is not supported');
  return bertConfig({
    vocabSize: tok.vocabSize, hiddenSize: size.hidden, numHiddenLayers: size.layers, numAttentionHeads: size.heads,
    intermediateSize: size.intermediate ?? 4 * size.hidden, maxPositionEmbeddings: positions,
    hiddenDropout: size.dropout, attentionDropout: size.dropout, padTokenId: pad,
  });
}

/** Applies build's dropout override to both rates. */
export function withDropout(c: BertConfig, dropout: number | undefined): BertConfig {
  return dropout === undefined ? c : { ...c, hiddenDropout: dropout, attentionDropout: dropout };
}

function asBert(hf: HfConfig): HfBertConfig {
  if (hf.model_type !== 'bert') throw new Error(`bert: expected model_type "bert", got "${hf.model_type}"`);
  return hf;
}

registerModel({
  modelType: 'bert',
  family: 'encoder',
  objectives: ['mlm+nsp', 'mlm', 'span'],
  tokenizer: 'wordpiece',
  newConfig: (size, tok) => bertConfigToHf(bertSizeConfig(size, tok, tok.specialIds.pad ?? 0)),
  build: (hf, opts = {}) =>
    new BertForPreTraining(withDropout(bertConfigFromHf(asBert(hf)), opts.dropout), { heads: opts.heads, sboWeight: opts.sboWeight }),
  architecture: (heads) => (heads.includes('nsp') ? 'BertForPreTraining' : 'BertForMaskedLM'),
  tasks: {
    classify: {
      architecture: 'BertForSequenceClassification', framing: 'template', tokenTypes: true,
      build: (hf, numLabels, opts = {}) => new BertForSequenceClassification(withDropout(bertConfigFromHf(asBert(hf)), opts.dropout), numLabels),
    },
    tag: {
      architecture: 'BertForTokenClassification', framing: 'template', tokenTypes: true,
      build: (hf, numLabels, opts = {}) => new BertForTokenClassification(withDropout(bertConfigFromHf(asBert(hf)), opts.dropout), numLabels),
    },
    qa: {
      architecture: 'BertForQuestionAnswering', framing: 'template', tokenTypes: true,
      build: (hf, _numLabels, opts = {}) => spanTaskModel(new BertForQuestionAnswering(withDropout(bertConfigFromHf(asBert(hf)), opts.dropout)), (m, ctx, inp) => m.logits(ctx, inp)),
    },
  },
});

// Inference graphs for masked-LM encoders (BERT, RoBERTa) under the names transformers.js feeds and reads
// (design.md, "Interoperability"): input_ids, attention_mask and, for BERT, token_type_ids, all
// [batch_size, sequence_length] -> logits (the MLM head at every position) and last_hidden_state. transformers.js
// loads the same onnx/model.onnx for its fill-mask (AutoModelForMaskedLM) and feature-extraction (AutoModel)
// pipelines: each reads the output it needs. Portable: no Node imports.
import { Graph, toOnnx, type Tensor } from '../graph/index.js';
import type { EncoderInputs, EncoderOutputs } from '../models/bert.js';
import { Ctx } from '../nn/index.js';
import type { ParameterStore } from '../runtime/store.js';
import { DIMS, bakeParameters } from './decoder-graph.js';

/** What the graphs below need of an encoder with an MLM head (BertForPreTraining, RobertaForMaskedLM). */
export interface MaskedLM {
  readonly modelType: string;
  encode(ctx: Ctx, inp: EncoderInputs): EncoderOutputs;
  mlmLogits(ctx: Ctx, hidden: Tensor): Tensor;
}

/** Whether the graph takes token_type_ids: BERT does (segments A/B); RoBERTa has one token type and HF's ONNX exports of it take none. */
export function usesTokenTypes(model: MaskedLM): boolean {
  return model.modelType === 'bert';
}

/** The graph inputs, in order, that an encoder graph of this model declares. */
export function encoderInputNames(model: MaskedLM): string[] {
  return usesTokenTypes(model) ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask'];
}

/** Builds the inference graph into `g` and returns { logits, last_hidden_state } (an OutputsBuilder for Forward.compile). */
export function buildEncoderGraph(g: Graph, model: MaskedLM): Record<string, Tensor> {
  const ctx = new Ctx(g);
  const dims = [DIMS.batch, DIMS.seq];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypeIds = usesTokenTypes(model) ? g.input('token_type_ids', 'int64', dims) : undefined;
  const { hidden } = model.encode(ctx, { inputIds, attentionMask, tokenTypeIds });
  return { logits: model.mlmLogits(ctx, hidden), last_hidden_state: hidden };
}

/**
 * The encoder's inference graph as ONNX bytes with the parameters baked in under their HF names: a folder's
 * onnx/model.onnx for transformers.js.
 */
export function exportEncoderOnnx(model: MaskedLM, store: ParameterStore, opts: { metadata?: Record<string, string> } = {}): Uint8Array {
  const g = new Graph('encoder');
  for (const [name, t] of Object.entries(buildEncoderGraph(g, model))) g.output(name, t);
  return bakeParameters(toOnnx(g, { metadata: opts.metadata }).bytes, store, [...g.params.keys()]);
}

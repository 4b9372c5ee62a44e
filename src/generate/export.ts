// The inference graphs written with a finished model, by family: what transformers.js loads from the checkpoint
// folder. One place, so the pretraining pipeline needs no model names.
import type { ModelFamily, PretrainingModel } from '../models/registry.js';
import type { ParameterStore } from '../runtime/store.js';
import type { CausalLM } from '../models/index.js';
import { exportDecoderOnnx } from './decoder-graph.js';
import { exportEncoderOnnx, type MaskedLM } from './encoder-graph.js';
import { exportSeq2SeqOnnx, type Seq2SeqLM } from './seq2seq.js';

export function onnxExports(family: ModelFamily, model: PretrainingModel, store: ParameterStore): Record<string, Uint8Array> {
  switch (family) {
    case 'decoder':
      return { 'onnx/model.onnx': exportDecoderOnnx(model as unknown as CausalLM, store) };
    case 'encoder':
      return { 'onnx/model.onnx': exportEncoderOnnx(model as unknown as MaskedLM, store) };
    case 'encoder-decoder':
      return exportSeq2SeqOnnx(model as unknown as Seq2SeqLM, store);
    default:
      return {};
  }
}

// The decoder registry: one interface over GPT-2 and LLaMA, built from a Hugging Face config.json.
import type { Tensor } from '../graph/index.js';
import type { HfConfig } from '../io/hf-config.js';
import type { Ctx, ParamSpec } from '../nn/index.js';
import { Gpt2LMHeadModel, gpt2ConfigFromHf, gpt2ConfigToHf, type DecoderInputs, type DecoderOutputs } from './gpt2.js';
import { LlamaForCausalLM, llamaConfigFromHf, llamaConfigToHf } from './llama.js';

import './bert.js';
import './roberta.js';
import './t5.js';
export type { DecoderInputs, DecoderOutputs } from './gpt2.js';

/** What the trainer, the generator and the classifier need from a decoder-only language model. */
export interface CausalLM {
  readonly modelType: 'gpt2' | 'llama';
  parameters(): ParamSpec[];
  forward(ctx: Ctx, inp: DecoderInputs): DecoderOutputs;
  logits(ctx: Ctx, hidden: Tensor): Tensor;
  loss(ctx: Ctx, inputIds: Tensor, labels: Tensor, attentionMask?: Tensor): Tensor;
  readonly cache: { layers: number; kvHeads: number; headDim: number };
}

export interface CausalLMInfo {
  model: CausalLM;
  hf: HfConfig;
  vocabSize: number;
  hiddenSize: number;
  maxPositions: number;
  eosTokenId: number;
  bosTokenId: number;
}

/** Builds the model a config.json describes; `dropout` overrides the config's dropout for training. */
export function causalLMFromHf(hf: HfConfig, opts: { dropout?: number } = {}): CausalLMInfo {
  switch (hf.model_type) {
    case 'gpt2': {
      const c = gpt2ConfigFromHf(hf);
      if (opts.dropout !== undefined) c.dropout = opts.dropout;
      return {
        model: new Gpt2LMHeadModel(c), hf: gpt2ConfigToHf(c), vocabSize: c.vocabSize, hiddenSize: c.nEmbd,
        maxPositions: c.nPositions, eosTokenId: c.eosTokenId, bosTokenId: c.bosTokenId,
      };
    }
    case 'llama': {
      const c = llamaConfigFromHf(hf);
      if (opts.dropout !== undefined) c.dropout = opts.dropout;
      return {
        model: new LlamaForCausalLM(c), hf: llamaConfigToHf(c), vocabSize: c.vocabSize, hiddenSize: c.hiddenSize,
        maxPositions: c.maxPositionEmbeddings, eosTokenId: c.eosTokenId, bosTokenId: c.bosTokenId,
      };
    }
    default:
      throw new Error(`model_type "${hf.model_type}" is not a decoder this version can train (gpt2, llama)`);
  }
}

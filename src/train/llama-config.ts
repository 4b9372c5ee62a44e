// The Hugging Face config of a new LLaMA-style model of the configured size.
import { parseLlamaConfig, type HfConfig } from '../io/hf-config.js';
import type { TrainConfig } from './config.js';

export function buildLlamaHf(cfg: TrainConfig, vocab: number, positions: number, bos: number, eos: number): HfConfig {
  return parseLlamaConfig({
    model_type: 'llama', vocab_size: vocab, hidden_size: cfg.hidden, intermediate_size: cfg.intermediate ?? Math.max(64, Math.round((8 * cfg.hidden) / 3 / 64) * 64),
    num_hidden_layers: cfg.layers, num_attention_heads: cfg.heads, num_key_value_heads: cfg.kvHeads ?? cfg.heads,
    max_position_embeddings: positions, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false,
    bos_token_id: bos, eos_token_id: eos, initializer_range: 0.02, hidden_act: 'silu',
  }, 'llama config');
}

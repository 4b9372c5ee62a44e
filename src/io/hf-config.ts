// Hugging Face config.json / generation_config.json for the model types we
// support, with HF's field names and HF's defaults for optional fields.
// Unknown HF fields are ignored; missing or mistyped required ones are errors
// that name the file and the field. No Node imports (browser-reusable).
import { z } from 'zod';
import type { JsonObject, JsonValue } from './json.js';
import { stringifySorted } from './json.js';
import { issueText, pathToString } from './zod-format.js';

/** Written into every config we save; the transformers release whose layout we follow. */
export const TRANSFORMERS_VERSION = '4.35.0';

export type TokenIds = number | number[];

/** Fields of HF's PretrainedConfig that every model type may carry. */
export interface CommonConfig {
  architectures?: string[];
  bos_token_id: number | null;
  eos_token_id: TokenIds | null;
  pad_token_id: number | null;
  tie_word_embeddings: boolean;
  use_cache: boolean;
  initializer_range: number;
  /** For classification heads: {"0": "negative", ...}. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  problem_type?: string | null;
}

export interface Gpt2Config extends CommonConfig {
  model_type: 'gpt2';
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** MLP width; null means 4 * n_embd. */
  n_inner: number | null;
  activation_function: string;
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  scale_attn_weights: boolean;
  scale_attn_by_inverse_layer_idx: boolean;
  reorder_and_upcast_attn: boolean;
}

export interface LlamaConfig extends CommonConfig {
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Defaults to num_attention_heads (no grouped-query attention). */
  num_key_value_heads: number;
  /** Defaults to hidden_size / num_attention_heads. */
  head_dim: number;
  hidden_act: string;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: JsonObject | null;
  attention_bias: boolean;
  attention_dropout: number;
  mlp_bias: boolean;
  pretraining_tp: number;
}

export interface BertConfig extends CommonConfig {
  model_type: 'bert';
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  position_embedding_type: string;
  classifier_dropout: number | null;
}

/** RoBERTa's config has BERT's fields (RobertaConfig subclasses BertConfig's layout) under its own model_type. */
export interface RobertaConfig extends Omit<BertConfig, 'model_type'> {
  model_type: 'roberta';
}

export interface T5Config extends CommonConfig {
  model_type: 't5';
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_layers: number;
  /** Defaults to num_layers. */
  num_decoder_layers: number;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  dropout_rate: number;
  layer_norm_epsilon: number;
  initializer_factor: number;
  /** "relu", "gated-gelu", "gated-silu", ... */
  feed_forward_proj: string;
  /** Derived from feed_forward_proj as HF does (file values are ignored). */
  dense_act_fn: string;
  is_gated_act: boolean;
  is_encoder_decoder: boolean;
  decoder_start_token_id: number;
  classifier_dropout: number;
}

export type HfConfig = Gpt2Config | LlamaConfig | BertConfig | RobertaConfig | T5Config;
// Aliases for code that also imports the models' own (camelCase) config types.
export type HfGpt2Config = Gpt2Config;
export type HfLlamaConfig = LlamaConfig;
export type HfBertConfig = BertConfig;
export type HfRobertaConfig = RobertaConfig;
export type HfT5Config = T5Config;
export type HfModelType = HfConfig['model_type'];
export const HF_MODEL_TYPES: readonly HfModelType[] = ['gpt2', 'llama', 'bert', 'roberta', 't5'];

const int = () => z.number().int();
const posInt = () => z.number().int().positive();
const tokenId = () => z.number().int().nonnegative();
const tokenIds = () => z.union([tokenId(), z.array(tokenId())], { error: 'expected a token id or a list of token ids' });
const prob = () => z.number().min(0).max(1);
const positive = () => z.number().positive();

function common(defaults: { bos: number | null; eos: number | null; pad: number | null; tie: boolean }) {
  return {
    architectures: z.array(z.string()).optional(),
    bos_token_id: tokenId().nullable().default(defaults.bos),
    eos_token_id: tokenIds().nullable().default(defaults.eos),
    pad_token_id: tokenId().nullable().default(defaults.pad),
    tie_word_embeddings: z.boolean().default(defaults.tie),
    use_cache: z.boolean().default(true),
    initializer_range: positive().default(0.02),
    id2label: z.record(z.string(), z.string()).optional(),
    label2id: z.record(z.string(), int()).optional(),
    problem_type: z.string().nullable().optional(),
  };
}

function divides(ctx: z.core.$RefinementCtx, a: number, b: number, aName: string, bName: string): void {
  if (a % b !== 0) ctx.addIssue({ code: 'custom', path: [bName], message: `${bName} (${b}) must divide ${aName} (${a})` });
}

const gpt2Schema = z
  .object({
    model_type: z.literal('gpt2'),
    vocab_size: posInt(),
    n_positions: posInt(),
    n_embd: posInt(),
    n_layer: posInt(),
    n_head: posInt(),
    n_inner: posInt().nullable().default(null),
    activation_function: z.string().default('gelu_new'),
    resid_pdrop: prob().default(0.1),
    embd_pdrop: prob().default(0.1),
    attn_pdrop: prob().default(0.1),
    layer_norm_epsilon: positive().default(1e-5),
    scale_attn_weights: z.boolean().default(true),
    scale_attn_by_inverse_layer_idx: z.boolean().default(false),
    reorder_and_upcast_attn: z.boolean().default(false),
    ...common({ bos: 50256, eos: 50256, pad: null, tie: true }),
  })
  .superRefine((c, ctx) => divides(ctx, c.n_embd, c.n_head, 'n_embd', 'n_head'));

const llamaSchema = z
  .object({
    model_type: z.literal('llama'),
    vocab_size: posInt(),
    hidden_size: posInt(),
    intermediate_size: posInt(),
    num_hidden_layers: posInt(),
    num_attention_heads: posInt(),
    num_key_value_heads: posInt().nullable().optional(),
    head_dim: posInt().nullable().optional(),
    hidden_act: z.string().default('silu'),
    max_position_embeddings: posInt().default(2048),
    rms_norm_eps: positive().default(1e-6),
    rope_theta: positive().default(10000),
    rope_scaling: z.record(z.string(), z.json()).nullable().default(null),
    attention_bias: z.boolean().default(false),
    attention_dropout: prob().default(0),
    mlp_bias: z.boolean().default(false),
    pretraining_tp: posInt().default(1),
    ...common({ bos: 1, eos: 2, pad: null, tie: false }),
  })
  .superRefine((c, ctx) => {
    if (c.head_dim == null) divides(ctx, c.hidden_size, c.num_attention_heads, 'hidden_size', 'num_attention_heads');
    if (c.num_key_value_heads != null) divides(ctx, c.num_attention_heads, c.num_key_value_heads, 'num_attention_heads', 'num_key_value_heads');
  })
  .transform((c) => ({
    ...c,
    num_key_value_heads: c.num_key_value_heads ?? c.num_attention_heads,
    head_dim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
    rope_scaling: c.rope_scaling as JsonObject | null,
  }));

/** The fields BERT and RoBERTa share (HF's RobertaConfig repeats BertConfig's, with other special-token defaults). */
function bertFields(defaults: { bos: number | null; eos: number | null; pad: number }) {
  return {
    vocab_size: posInt(),
    hidden_size: posInt(),
    num_hidden_layers: posInt(),
    num_attention_heads: posInt(),
    intermediate_size: posInt(),
    hidden_act: z.string().default('gelu'),
    hidden_dropout_prob: prob().default(0.1),
    attention_probs_dropout_prob: prob().default(0.1),
    max_position_embeddings: posInt().default(512),
    type_vocab_size: posInt().default(2),
    layer_norm_eps: positive().default(1e-12),
    position_embedding_type: z.string().default('absolute'),
    classifier_dropout: prob().nullable().default(null),
    ...common({ ...defaults, tie: true }),
  };
}

const bertSchema = z
  .object({ model_type: z.literal('bert'), ...bertFields({ bos: null, eos: null, pad: 0 }) })
  .superRefine((c, ctx) => divides(ctx, c.hidden_size, c.num_attention_heads, 'hidden_size', 'num_attention_heads'));

const robertaSchema = z
  .object({ model_type: z.literal('roberta'), ...bertFields({ bos: 0, eos: 2, pad: 1 }) })
  .superRefine((c, ctx) => divides(ctx, c.hidden_size, c.num_attention_heads, 'hidden_size', 'num_attention_heads'));

const t5Schema = z
  .object({
    model_type: z.literal('t5'),
    vocab_size: posInt(),
    d_model: posInt(),
    d_kv: posInt(),
    d_ff: posInt(),
    num_layers: posInt(),
    num_decoder_layers: posInt().nullable().optional(),
    num_heads: posInt(),
    relative_attention_num_buckets: posInt().default(32),
    relative_attention_max_distance: posInt().default(128),
    dropout_rate: prob().default(0.1),
    layer_norm_epsilon: positive().default(1e-6),
    initializer_factor: positive().default(1),
    feed_forward_proj: z.string().default('relu'),
    is_encoder_decoder: z.boolean().default(true),
    decoder_start_token_id: tokenId().default(0),
    classifier_dropout: prob().default(0),
    ...common({ bos: null, eos: 1, pad: 0, tie: true }),
  })
  .superRefine((c, ctx) => {
    const parts = c.feed_forward_proj.split('-');
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'gated')) {
      ctx.addIssue({ code: 'custom', path: ['feed_forward_proj'], message: 'must be "<act>" or "gated-<act>" (e.g. "relu", "gated-gelu")' });
    }
  })
  .transform((c) => {
    const parts = c.feed_forward_proj.split('-');
    // HF maps "gated-gelu" to the tanh GELU for backwards compatibility.
    const dense_act_fn = c.feed_forward_proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
    return { ...c, num_decoder_layers: c.num_decoder_layers ?? c.num_layers, dense_act_fn, is_gated_act: parts[0] === 'gated' && parts.length === 2 };
  });

// Compile-time checks that the schemas produce exactly the declared interfaces.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typeChecks: [
  Same<z.output<typeof gpt2Schema>, Gpt2Config>,
  Same<z.output<typeof llamaSchema>, LlamaConfig>,
  Same<z.output<typeof bertSchema>, BertConfig>,
  Same<z.output<typeof robertaSchema>, RobertaConfig>,
  Same<z.output<typeof t5Schema>, T5Config>,
] = [true, true, true, true, true];
void typeChecks;

const SCHEMAS = { gpt2: gpt2Schema, llama: llamaSchema, bert: bertSchema, roberta: robertaSchema, t5: t5Schema } as const;

function formatIssues(error: z.ZodError, input: unknown, file: string): Error {
  const lines = error.issues.map((issue) => {
    const field = pathToString(issue.path);
    return issue.code === 'custom'
      ? `${file}: field "${field}": ${issue.message}`
      : `${file}: field "${field}": ${issueText(issue, input)}`;
  });
  return new Error(lines.join('\n'));
}

function parseWith<T>(schema: z.ZodType<T>, json: unknown, file: string): T {
  const r = schema.safeParse(json);
  if (!r.success) throw formatIssues(r.error, json, file);
  return r.data;
}

/** Validates a parsed config.json; dispatches on `model_type`. `file` names the source in errors. */
export function parseHfConfig(json: unknown, file: string): HfConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: config must be a JSON object`);
  const type = (json as Record<string, unknown>).model_type;
  if (typeof type !== 'string' || !(type in SCHEMAS)) {
    throw new Error(`${file}: field "model_type": expected one of ${HF_MODEL_TYPES.map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(type) ?? 'nothing (missing)'}`);
  }
  return parseWith<HfConfig>(SCHEMAS[type as HfModelType] as z.ZodType<HfConfig>, json, file);
}

/** Parses config.json text (JSON syntax errors name the file too). */
export function parseHfConfigText(text: string, file: string): HfConfig {
  return parseHfConfig(parseJsonText(text, file), file);
}

export function parseGpt2Config(json: unknown, file: string): Gpt2Config {
  return parseWith(gpt2Schema, json, file);
}
export function parseLlamaConfig(json: unknown, file: string): LlamaConfig {
  return parseWith(llamaSchema, json, file);
}
export function parseBertConfig(json: unknown, file: string): BertConfig {
  return parseWith(bertSchema, json, file);
}
export function parseRobertaConfig(json: unknown, file: string): RobertaConfig {
  return parseWith(robertaSchema, json, file);
}
export function parseT5Config(json: unknown, file: string): T5Config {
  return parseWith(t5Schema, json, file);
}

export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** The class name HF instantiates by default for each model type. */
export const DEFAULT_ARCHITECTURE: Record<HfModelType, string> = {
  gpt2: 'GPT2LMHeadModel',
  llama: 'LlamaForCausalLM',
  bert: 'BertForPreTraining',
  roberta: 'RobertaForMaskedLM',
  t5: 'T5ForConditionalGeneration',
};

/** The config.json object HF would write: our fields plus architectures, torch_dtype, transformers_version. */
export function hfConfigToJson(config: HfConfig, opts: { architectures?: string[] } = {}): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(config)) {
    if (v !== undefined) out[k] = v as JsonValue;
  }
  if (config.model_type === 'llama' && config.head_dim === config.hidden_size / config.num_attention_heads) {
    // Older transformers do not know head_dim; write it only when it is not implied.
    delete out.head_dim;
  }
  out.architectures = opts.architectures ?? config.architectures ?? [DEFAULT_ARCHITECTURE[config.model_type]];
  out.torch_dtype = 'float32';
  out.transformers_version = TRANSFORMERS_VERSION;
  return out;
}

/** config.json text: sorted keys, 2-space indent, trailing newline (as save_pretrained writes it). */
export function serializeHfConfig(config: HfConfig, opts: { architectures?: string[] } = {}): string {
  return stringifySorted(hfConfigToJson(config, opts));
}

/** The subset of generation_config.json that our generation code reads and writes. */
export interface GenerationConfig {
  bos_token_id?: number;
  eos_token_id?: TokenIds;
  pad_token_id?: number;
  decoder_start_token_id?: number;
  max_length?: number;
  max_new_tokens?: number;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  num_beams?: number;
}

const generationSchema = z.object({
  bos_token_id: tokenId().optional(),
  eos_token_id: tokenIds().optional(),
  pad_token_id: tokenId().optional(),
  decoder_start_token_id: tokenId().optional(),
  max_length: posInt().optional(),
  max_new_tokens: posInt().optional(),
  do_sample: z.boolean().optional(),
  temperature: positive().optional(),
  top_k: int().nonnegative().optional(),
  top_p: z.number().gt(0).max(1).optional(),
  repetition_penalty: positive().optional(),
  num_beams: posInt().optional(),
});

/** Parses generation_config.json. HF writes null for unset ids; those are treated as absent. */
export function parseGenerationConfig(json: unknown, file: string): GenerationConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: generation config must be a JSON object`);
  const cleaned = Object.fromEntries(Object.entries(json).filter(([, v]) => v !== null));
  const parsed = parseWith(generationSchema, cleaned, file);
  const out: GenerationConfig = {};
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The token ids HF's GenerationConfig.from_model_config takes from a model config. */
export function generationConfigFromModel(config: HfConfig): GenerationConfig {
  const out: GenerationConfig = {};
  if (config.bos_token_id != null) out.bos_token_id = config.bos_token_id;
  if (config.eos_token_id != null) out.eos_token_id = config.eos_token_id;
  if (config.pad_token_id != null) out.pad_token_id = config.pad_token_id;
  if (config.model_type === 't5') out.decoder_start_token_id = config.decoder_start_token_id;
  return out;
}

/** generation_config.json text as save_pretrained writes it. */
export function serializeGenerationConfig(gen: GenerationConfig, opts: { fromModelConfig?: boolean } = {}): string {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(gen)) if (v !== undefined) out[k] = v as JsonValue;
  if (opts.fromModelConfig) out._from_model_config = true;
  out.transformers_version = TRANSFORMERS_VERSION;
  return stringifySorted(out);
}

// The training configuration: one table of fields (schema, default, one-line
// description) drives validation, defaults and --help. Values come from a
// YAML/JSON file and from command-line flags; flags win. Flags are flat
// (--layers, --mask-prob); a file may also group them in `model:` and
// `objective:` sections, and may spell a key seq-len, seq_len or seqLen.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { issueText } from '../io/zod-format.js';

import '../models/index.js';
import '../objectives/index.js';
import { getModel, modelTypes } from '../models/registry.js';
import { MODEL_KEYS, OBJECTIVE_KEYS, TRAIN_DEFAULTS as D, flattened, resolveTrainConfig, type FlatTrainConfig, type TrainConfig } from '../train/config.js';

export type { TrainConfig } from '../train/config.js';

export type TrainConfigKey = keyof FlatTrainConfig;

/** How a field is shown in --help and how a flag's string value is converted. */
export type FieldKind = 'integer' | 'number' | 'string' | 'choice' | 'boolean' | 'boolean-or-path';

export interface FieldInfo {
  kind: FieldKind;
  /** undefined: optional, no default (the description says what happens). */
  default: FlatTrainConfig[TrainConfigKey] | undefined;
  description: string;
  choices?: readonly string[];
}

interface FieldSpec extends FieldInfo {
  schema: z.ZodType;
}

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

function field(kind: FieldKind, schema: z.ZodType, def: FieldInfo['default'], description: string, choices?: readonly string[]): FieldSpec {
  return choices ? { kind, schema, default: def, description, choices } : { kind, schema, default: def, description };
}

function choice<T extends string>(values: readonly [T, ...T[]], def: FieldInfo['default'], description: string): FieldSpec {
  return field('choice', z.enum(values), def, description, values);
}

// Defaults: a small model that trains in well under an hour on a 2-core CPU,
// with nanoGPT/HF-style optimisation settings.
// The architectures and objectives are the registered ones (src/models, src/objectives); which objective suits
// which architecture is checked in resolveConfig.
const registered = (what: string, names: () => string[]) =>
  z.string().refine((v) => names().includes(v), { error: () => `expected one of ${names().join(', ')}` });

const FIELDS: Record<TrainConfigKey, FieldSpec> = {
  arch: field('choice', registered('arch', modelTypes), D.arch, 'model architecture (Hugging Face model_type)', modelTypes()),
  objective: field('string', z.string().min(1), D.objective, 'pretraining objective: clm, prefix-lm (decoders); mlm, mlm+nsp, span (encoders); span-corruption, prefix-lm (encoder-decoders); default: the architecture\'s own (gpt2/llama clm, bert mlm+nsp, roberta mlm)'),
  blocks: choice(['packed', 'windows'], D.blocks, 'clm training blocks: packed documents joined by EOS, in a shuffled order (HF group_texts), or random windows of the token stream (nanoGPT)'),
  maskProb: field('number', z.number().gt(0).lt(1), D.maskProb, 'masked objectives: share of tokens (or words) chosen for prediction'),
  selection: choice(['bernoulli', 'fixed', 'fairseq'], D.selection, 'mlm: how positions are chosen: each with p (HF), a fixed budget capped at max-predictions (Google BERT), floor(p n + U) (fairseq)'),
  maxPredictions: field('integer', posInt, D.maxPredictions, 'mlm with selection fixed: at most this many predictions per sequence (max_predictions_per_seq)'),
  wholeWord: field('boolean', z.boolean(), D.wholeWord, 'mlm: mask whole words (all their pieces together)'),
  masking: choice(['dynamic', 'static'], D.masking, 'mlm: a fresh mask each time a sequence is drawn (RoBERTa) or dupe-factor fixed masks per sequence (BERT)'),
  dupeFactor: field('integer', posInt, D.dupeFactor, 'static masking: differently masked copies of each sequence'),
  packing: choice(['full-sentences', 'doc-sentences'], D.packing, 'mlm/span rows: whole sentences packed across documents with a separator (FULL-SENTENCES) or within one document (DOC-SENTENCES)'),
  shortSeqProb: field('number', z.number().min(0).max(1), D.shortSeqProb, 'mlm+nsp: probability of a shorter target length (short_seq_prob)'),
  spanP: field('number', z.number().gt(0).lt(1), D.spanP, 'span: geometric distribution parameter of span lengths in words'),
  spanMaxWords: field('integer', posInt, D.spanMaxWords, 'span: longest span, in words'),
  sboWeight: field('number', z.number().min(0), D.sboWeight, 'span: weight of the span boundary objective loss'),
  noiseDensity: field('number', z.number().gt(0).lt(1), D.noiseDensity, 'span-corruption (T5): share of tokens replaced by sentinel spans (noise_density)'),
  meanNoiseSpanLength: field('number', z.number().min(1), D.meanNoiseSpanLength, 'span-corruption (T5): mean length of a noise span, in tokens (mean_noise_span_length)'),
  corpus: field('string', z.string().min(1), D.corpus, 'training text: "brown" (the bundled Brown Corpus) or a path to text'),
  out: field('string', z.string().min(1), D.out, 'run folder for checkpoints, log.jsonl and plots'),
  tokenizer: field('string', z.string().min(1), D.tokenizer, 'tokenizer.json or a folder holding it; default: train a byte-level BPE on the corpus'),
  vocabSize: field('integer', posInt, D.vocabSize, 'vocabulary size of the tokenizer trained when none is given'),
  layers: field('integer', posInt, D.layers, 'number of transformer blocks'),
  hidden: field('integer', posInt, D.hidden, 'hidden size (embedding width)'),
  heads: field('integer', posInt, D.heads, 'attention heads (must divide hidden)'),
  kvHeads: field('integer', posInt, D.kvHeads, 'llama only: key/value heads for grouped-query attention (default: heads)'),
  intermediate: field('integer', posInt, D.intermediate, 'MLP width (default: 4 x hidden for gpt2, about 8/3 x hidden for llama)'),
  seqLen: field('integer', posInt, D.seqLen, 'tokens per training sequence; a new model gets max(seq-len, 512) positions'),
  batchSize: field('integer', posInt, D.batchSize, 'sequences per micro-batch'),
  gradAccum: field('integer', posInt, D.gradAccum, 'micro-batches accumulated per optimizer step'),
  lr: field('number', z.number().positive(), D.lr, 'peak learning rate (AdamW)'),
  minLrRatio: field('number', z.number().min(0).max(1), D.minLrRatio, 'final learning rate as a fraction of lr (cosine/linear decay)'),
  warmup: field('integer', nonNegInt, D.warmup, 'linear warmup steps (default: 5% of maxSteps)'),
  maxSteps: field('integer', posInt, D.maxSteps, 'optimizer steps in total'),
  decay: choice(['cosine', 'linear', 'constant'], D.decay, 'learning-rate decay after warmup: cosine, linear or constant'),
  weightDecay: field('number', z.number().min(0), D.weightDecay, 'AdamW decoupled weight decay (not applied to biases, norms and embeddings)'),
  beta1: field('number', z.number().min(0).lt(1), D.beta1, 'AdamW beta1'),
  beta2: field('number', z.number().min(0).lt(1), D.beta2, 'AdamW beta2'),
  eps: field('number', z.number().positive(), D.eps, 'AdamW epsilon'),
  gradClip: field('number', z.number().min(0), D.gradClip, 'clip the global gradient norm to this value (0 = off)'),
  evalEvery: field('integer', nonNegInt, D.evalEvery, 'evaluate on held-out text every N steps (0 = only at the end)'),
  evalBatches: field('integer', posInt, D.evalBatches, 'batches per evaluation'),
  saveEvery: field('integer', nonNegInt, D.saveEvery, 'save a checkpoint every N steps (0 = only at the end)'),
  keepLast: field('integer', posInt, D.keepLast, 'keep only the newest N checkpoints'),
  seed: field('integer', nonNegInt, D.seed, 'random seed (initialisation, data order, dropout)'),
  dropout: field('number', z.number().min(0).lt(1), D.dropout, 'dropout probability (0 = off)'),
  gradientCheckpointing: field('boolean', z.boolean(), D.gradientCheckpointing, 'recompute each block\'s forward in the backward: activation memory of block boundaries only, for about one more forward pass per step (HF gradient_checkpointing)'),
  resume: field('boolean-or-path', z.union([z.boolean(), z.string().min(1)], { error: 'expected true, false or a checkpoint folder' }), D.resume, 'resume: true = latest checkpoint in out, or a checkpoint folder; only max-steps, the schedule, optimizer, evaluation and saving settings may change'),
  overwrite: field('boolean', z.boolean(), D.overwrite, 'start a new run in an out folder that already holds one, deleting its log, checkpoints and model first (otherwise an error)'),
};

export const CONFIG_KEYS = Object.keys(FIELDS) as TrainConfigKey[];
/** Which section of a config file each key belongs to (the rest are run settings). */
export const SECTION_OF: Readonly<Partial<Record<TrainConfigKey, 'model' | 'objective'>>> = {
  ...Object.fromEntries(MODEL_KEYS.map((k) => [k, 'model'])),
  ...Object.fromEntries(OBJECTIVE_KEYS.map((k) => [k, 'objective'])),
  objective: 'objective',
};

/** Kind, default, description (and choices) of every field, for --help. */
export const CONFIG_FIELDS: Readonly<Record<TrainConfigKey, FieldInfo>> = Object.fromEntries(
  CONFIG_KEYS.map((k) => {
    const { schema: _schema, ...info } = FIELDS[k];
    return [k, info];
  }),
) as Record<TrainConfigKey, FieldInfo>;

export const DEFAULT_CONFIG: Readonly<Partial<FlatTrainConfig>> = Object.fromEntries(
  CONFIG_KEYS.filter((k) => FIELDS[k].default !== undefined).map((k) => [k, FIELDS[k].default]),
) as Partial<FlatTrainConfig>;

/** The command-line flag of a field: maxSteps -> --max-steps. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

// Names people bring from nanoGPT and HF TrainingArguments.
const ALIASES: Record<string, TrainConfigKey> = {
  learning_rate: 'lr',
  n_layer: 'layers',
  num_hidden_layers: 'layers',
  n_embd: 'hidden',
  hidden_size: 'hidden',
  d_model: 'hidden',
  n_head: 'heads',
  num_attention_heads: 'heads',
  num_key_value_heads: 'kvHeads',
  intermediate_size: 'intermediate',
  n_inner: 'intermediate',
  block_size: 'seqLen',
  max_seq_length: 'seqLen',
  context_length: 'seqLen',
  max_iters: 'maxSteps',
  warmup_steps: 'warmup',
  warmup_iters: 'warmup',
  per_device_train_batch_size: 'batchSize',
  gradient_accumulation_steps: 'gradAccum',
  lr_scheduler_type: 'decay',
  min_lr: 'minLrRatio',
  adam_beta1: 'beta1',
  adam_beta2: 'beta2',
  adam_epsilon: 'eps',
  max_grad_norm: 'gradClip',
  grad_clip: 'gradClip',
  eval_interval: 'evalEvery',
  eval_steps: 'evalEvery',
  eval_iters: 'evalBatches',
  save_steps: 'saveEvery',
  save_total_limit: 'keepLast',
  output_dir: 'out',
  out_dir: 'out',
  dataset: 'corpus',
  model_type: 'arch',
  resume_from_checkpoint: 'resume',
  overwrite_output_dir: 'overwrite',
};

function normalizeKey(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The valid key closest to an unknown one, if any is close enough to be a likely typo. */
export function closestKey(unknown: string): TrainConfigKey | undefined {
  if (unknown in ALIASES) return ALIASES[unknown];
  const n = normalizeKey(unknown);
  const alias = Object.entries(ALIASES).find(([a]) => normalizeKey(a) === n);
  if (alias) return alias[1];
  let best: TrainConfigKey | undefined;
  let bestD = Infinity;
  for (const k of CONFIG_KEYS) {
    const d = levenshtein(n, normalizeKey(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(n.length / 3)) ? best : undefined;
}

/** Values for some fields, with where they came from (for error messages). */
export interface ConfigSource {
  /** "config.yaml" for a file; "flags" for the command line. */
  source: string;
  values: Partial<FlatTrainConfig>;
}

type Origin = { kind: 'file'; file: string } | { kind: 'flags' };

function where(origin: Origin, key: string): string {
  return origin.kind === 'flags' ? flagName(key) : `${origin.file}: "${key}"`;
}

function unknownKeyError(origin: Origin, key: string): Error {
  const near = closestKey(key);
  const hint = near ? ` (did you mean ${origin.kind === 'flags' ? flagName(near) : `"${near}"`}?)` : '';
  const what = origin.kind === 'flags' ? `unknown option ${flagName(key)}` : `${origin.file}: unknown key "${key}"`;
  return new Error(`${what}${hint}`);
}

/** A file's key in any spelling of a field (seq-len, seq_len, seqLen); undefined when it names none. */
function canonicalKey(key: string): TrainConfigKey | undefined {
  if (key in FIELDS) return key as TrainConfigKey;
  const n = normalizeKey(key);
  return CONFIG_KEYS.find((k) => normalizeKey(k) === n);
}

/** A file's `model:` and `objective:` sections lifted to the top level (`objective: {name: mlm}` is `objective: mlm`). */
function flattenSections(raw: Record<string, unknown>, origin: Origin, errors: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const section = normalizeKey(key);
    if ((section === 'model' || section === 'objective') && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const inner = section === 'objective' && normalizeKey(k) === 'name' ? 'objective' : k;
        const c = canonicalKey(inner);
        if (c && c !== 'objective' && SECTION_OF[c] !== section) errors.push(`${where(origin, `${key}.${k}`)}: belongs ${SECTION_OF[c] ? `in the ${SECTION_OF[c]} section` : 'at the top level'}`);
        else out[inner] = v;
      }
    } else out[key] = value;
  }
  return out;
}

/** Checks every key and value of one source; all problems are reported together. */
function validateValues(raw: unknown, origin: Origin): Partial<FlatTrainConfig> {
  const name = origin.kind === 'file' ? origin.file : 'command-line flags';
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${name}: expected a mapping of config keys to values, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  const entries = origin.kind === 'file' ? flattenSections(raw as Record<string, unknown>, origin, errors) : (raw as Record<string, unknown>);
  for (const [rawKey, value] of Object.entries(entries)) {
    const key = origin.kind === 'file' ? canonicalKey(rawKey) : rawKey in FIELDS ? (rawKey as TrainConfigKey) : undefined;
    if (!key) {
      errors.push(unknownKeyError(origin, rawKey).message);
      continue;
    }
    if (value === undefined) continue;
    const spec = FIELDS[key];
    const v = origin.kind === 'flags' ? coerceFlag(spec.kind, value) : value;
    const r = spec.schema.safeParse(v);
    if (r.success) out[key] = r.data;
    else errors.push(`${where(origin, key)}: ${issueText(r.error.issues[0]!, v)}`);
  }
  if (errors.length) throw new Error(errors.join('\n'));
  return out as Partial<FlatTrainConfig>;
}

// Flags arrive as strings unless the CLI parsed them; convert what is unambiguous.
function coerceFlag(kind: FieldKind, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const s = value.trim();
  if ((kind === 'integer' || kind === 'number') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (kind === 'boolean-or-path' || kind === 'boolean') {
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return value;
}

/** Parses config text: YAML for .yaml/.yml, JSON for .json (by the file name's extension). */
const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'];

function checkExtension(file: string): void {
  if (!CONFIG_EXTENSIONS.includes(extname(file).toLowerCase())) throw new Error(`${file}: config files must end in .yaml, .yml or .json`);
}

export function parseConfigText(text: string, file: string): ConfigSource {
  checkExtension(file);
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  if (ext === '.yaml' || ext === '.yml') {
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new Error(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  } else {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
    }
  }
  return { source: file, values: validateValues(raw, { kind: 'file', file }) };
}

/** Reads and checks a config file (keys and value types; cross-field checks come in resolveConfig). */
export async function loadConfig(file: string): Promise<ConfigSource> {
  checkExtension(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigText(text, file);
}

/**
 * Defaults, then the file's values, then the flags (flag values may be
 * strings; numbers are converted). Undefined flags are ignored. Errors name
 * the key, the file or flag, the expected type and the value found.
 */
export function resolveConfig(fileValues: ConfigSource | Partial<FlatTrainConfig> | undefined, flagValues: Record<string, unknown> = {}): TrainConfig {
  const file = fileValues && 'source' in fileValues && 'values' in fileValues
    ? validateValues(fileValues.values, { kind: 'file', file: String(fileValues.source) })
    : validateValues(fileValues, { kind: 'file', file: 'config' });
  const flags = validateValues(flagValues, { kind: 'flags' });
  const arch = flags.arch ?? file.arch ?? DEFAULT_CONFIG.arch!;
  // The recipe's values are checked like a file's; resolveTrainConfig puts them between the defaults and the user's.
  validateValues(getModel(arch).recipe ?? {}, { kind: 'file', file: `the ${arch} recipe` });
  return resolveTrainConfig({ ...file, ...flags });
}

/** The values of a saved config (train_config.json), as a source that resolveConfig takes. */
export function savedConfigSource(c: TrainConfig, file: string): ConfigSource {
  // Runs from before the model/objective sections saved flat settings.
  const flat = (c.model && typeof c.objective === 'object' ? flattened(c) : c) as unknown as Record<string, unknown>;
  return { source: file, values: Object.fromEntries(Object.entries(flat).filter(([, v]) => v !== undefined)) as Partial<FlatTrainConfig> };
}

/** The full config as YAML-able plain data with its sections, e.g. to save next to a run. */
export function configToJson(c: TrainConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
}

function showDefault(v: FieldInfo['default']): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** One aligned line per field: "  --max-steps <integer>  optimizer steps in total (default: 2000)". */
export function formatConfigHelp(): string {
  const rows = CONFIG_KEYS.map((k) => {
    const f = CONFIG_FIELDS[k];
    const arg = f.kind === 'choice' ? `<${f.choices!.join('|')}>` : f.kind === 'boolean-or-path' ? '[path]' : f.kind === 'boolean' ? '' : `<${f.kind}>`;
    const def = f.default === undefined ? '' : ` (default: ${showDefault(f.default)})`;
    return [`${flagName(k)} ${arg}`, `${f.description}${def}`] as const;
  });
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, d]) => `  ${a.padEnd(width)}  ${d}`).join('\n');
}

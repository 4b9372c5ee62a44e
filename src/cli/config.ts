// The training configuration: one table of fields (schema, default, one-line
// description) drives validation, defaults and --help. Values come from a
// YAML/JSON file and from command-line flags; flags win.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { issueText } from '../io/zod-format.js';

export type { TrainConfig } from '../train/config.js';
import type { TrainConfig } from '../train/config.js';

export type TrainConfigKey = keyof TrainConfig;

/** How a field is shown in --help and how a flag's string value is converted. */
export type FieldKind = 'integer' | 'number' | 'string' | 'choice' | 'boolean-or-path';

export interface FieldInfo {
  kind: FieldKind;
  /** undefined: optional, no default (the description says what happens). */
  default: TrainConfig[TrainConfigKey] | undefined;
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

function choice<T extends string>(values: readonly [T, ...T[]], def: T, description: string): FieldSpec {
  return field('choice', z.enum(values), def, description, values);
}

// Defaults: a small model that trains in well under an hour on a 2-core CPU,
// with nanoGPT/HF-style optimisation settings.
const FIELDS: Record<TrainConfigKey, FieldSpec> = {
  arch: choice(['gpt2', 'llama'], 'gpt2', 'model architecture (Hugging Face layout): gpt2 or llama'),
  objective: choice(['clm'], 'clm', 'training objective: clm (causal language modelling)'),
  blocks: choice(['packed', 'windows'], 'packed', 'training blocks: packed documents joined by EOS, in a shuffled order (HF group_texts), or random windows of the token stream (nanoGPT)'),
  corpus: field('string', z.string().min(1), 'brown', 'training text: "brown" (the bundled Brown Corpus) or a path to text'),
  out: field('string', z.string().min(1), 'runs/clm', 'run folder for checkpoints, log.jsonl and plots'),
  tokenizer: field('string', z.string().min(1), undefined, 'tokenizer.json or a folder holding it; default: train a byte-level BPE on the corpus'),
  vocabSize: field('integer', posInt, 8192, 'vocabulary size of the tokenizer trained when none is given'),
  layers: field('integer', posInt, 4, 'number of transformer blocks'),
  hidden: field('integer', posInt, 256, 'hidden size (embedding width)'),
  heads: field('integer', posInt, 4, 'attention heads (must divide hidden)'),
  kvHeads: field('integer', posInt, undefined, 'llama only: key/value heads for grouped-query attention (default: heads)'),
  intermediate: field('integer', posInt, undefined, 'MLP width (default: 4 x hidden for gpt2, about 8/3 x hidden for llama)'),
  seqLen: field('integer', posInt, 128, 'tokens per training sequence (also the number of positions)'),
  batchSize: field('integer', posInt, 16, 'sequences per micro-batch'),
  gradAccum: field('integer', posInt, 1, 'micro-batches accumulated per optimizer step'),
  lr: field('number', z.number().positive(), 6e-4, 'peak learning rate (AdamW)'),
  minLrRatio: field('number', z.number().min(0).max(1), 0.1, 'final learning rate as a fraction of lr (cosine/linear decay)'),
  warmup: field('integer', nonNegInt, undefined, 'linear warmup steps (default: 5% of maxSteps)'),
  maxSteps: field('integer', posInt, 2000, 'optimizer steps in total'),
  decay: choice(['cosine', 'linear', 'constant'], 'cosine', 'learning-rate decay after warmup: cosine, linear or constant'),
  weightDecay: field('number', z.number().min(0), 0.1, 'AdamW decoupled weight decay (not applied to biases, norms and embeddings)'),
  beta1: field('number', z.number().min(0).lt(1), 0.9, 'AdamW beta1'),
  beta2: field('number', z.number().min(0).lt(1), 0.95, 'AdamW beta2'),
  eps: field('number', z.number().positive(), 1e-8, 'AdamW epsilon'),
  gradClip: field('number', z.number().min(0), 1.0, 'clip the global gradient norm to this value (0 = off)'),
  evalEvery: field('integer', nonNegInt, 200, 'evaluate on held-out text every N steps (0 = only at the end)'),
  evalBatches: field('integer', posInt, 20, 'batches per evaluation'),
  saveEvery: field('integer', nonNegInt, 500, 'save a checkpoint every N steps (0 = only at the end)'),
  keepLast: field('integer', posInt, 2, 'keep only the newest N checkpoints'),
  seed: field('integer', nonNegInt, 1337, 'random seed (initialisation, data order, dropout)'),
  dropout: field('number', z.number().min(0).lt(1), 0.1, 'dropout probability (0 = off)'),
  resume: field('boolean-or-path', z.union([z.boolean(), z.string().min(1)], { error: 'expected true, false or a checkpoint folder' }), false, 'resume: true = latest checkpoint in out, or a checkpoint folder'),
};

export const CONFIG_KEYS = Object.keys(FIELDS) as TrainConfigKey[];

/** Kind, default, description (and choices) of every field, for --help. */
export const CONFIG_FIELDS: Readonly<Record<TrainConfigKey, FieldInfo>> = Object.fromEntries(
  CONFIG_KEYS.map((k) => {
    const { schema: _schema, ...info } = FIELDS[k];
    return [k, info];
  }),
) as Record<TrainConfigKey, FieldInfo>;

export const DEFAULT_CONFIG: Readonly<Partial<TrainConfig>> = Object.fromEntries(
  CONFIG_KEYS.filter((k) => FIELDS[k].default !== undefined).map((k) => [k, FIELDS[k].default]),
) as Partial<TrainConfig>;

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
  values: Partial<TrainConfig>;
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

/** Checks every key and value of one source; all problems are reported together. */
function validateValues(raw: unknown, origin: Origin): Partial<TrainConfig> {
  const name = origin.kind === 'file' ? origin.file : 'command-line flags';
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${name}: expected a mapping of config keys to values, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in FIELDS)) {
      errors.push(unknownKeyError(origin, key).message);
      continue;
    }
    if (value === undefined) continue;
    const spec = FIELDS[key as TrainConfigKey];
    const v = origin.kind === 'flags' ? coerceFlag(spec.kind, value) : value;
    const r = spec.schema.safeParse(v);
    if (r.success) out[key] = r.data;
    else errors.push(`${where(origin, key)}: ${issueText(r.error.issues[0]!, v)}`);
  }
  if (errors.length) throw new Error(errors.join('\n'));
  return out as Partial<TrainConfig>;
}

// Flags arrive as strings unless the CLI parsed them; convert what is unambiguous.
function coerceFlag(kind: FieldKind, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const s = value.trim();
  if ((kind === 'integer' || kind === 'number') && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (kind === 'boolean-or-path') {
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
export function resolveConfig(fileValues: ConfigSource | Partial<TrainConfig> | undefined, flagValues: Record<string, unknown> = {}): TrainConfig {
  const file = fileValues && 'source' in fileValues && 'values' in fileValues
    ? validateValues(fileValues.values, { kind: 'file', file: String(fileValues.source) })
    : validateValues(fileValues, { kind: 'file', file: 'config' });
  const flags = validateValues(flagValues, { kind: 'flags' });
  const merged = { ...DEFAULT_CONFIG, ...file, ...flags };
  const cfg = { ...merged, warmup: merged.warmup ?? Math.round(0.05 * merged.maxSteps!) } as TrainConfig;
  checkConsistency(cfg);
  return cfg;
}

function checkConsistency(c: TrainConfig): void {
  const errors: string[] = [];
  if (c.hidden % c.heads !== 0) errors.push(`hidden (${c.hidden}) must be divisible by heads (${c.heads})`);
  if (c.kvHeads !== undefined) {
    if (c.arch !== 'llama') errors.push(`kvHeads applies only to arch "llama" (arch is "${c.arch}")`);
    else if (c.heads % c.kvHeads !== 0) errors.push(`kvHeads (${c.kvHeads}) must divide heads (${c.heads})`);
  }
  if (c.warmup >= c.maxSteps && c.warmup > 0) errors.push(`warmup (${c.warmup}) must be less than maxSteps (${c.maxSteps})`);
  if ((c.hidden / c.heads) % 2 !== 0 && c.arch === 'llama') errors.push(`llama needs an even head size for RoPE: hidden / heads = ${c.hidden / c.heads}`);
  if (errors.length) throw new Error(`invalid configuration:\n  ${errors.join('\n  ')}`);
}

/** The full config as YAML-able plain data, e.g. to save next to a run. */
export function configToJson(c: TrainConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const k of CONFIG_KEYS) if (c[k] !== undefined) out[k] = c[k] as string | number | boolean;
  return out;
}

function showDefault(v: FieldInfo['default']): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** One aligned line per field: "  --max-steps <integer>  optimizer steps in total (default: 2000)". */
export function formatConfigHelp(): string {
  const rows = CONFIG_KEYS.map((k) => {
    const f = CONFIG_FIELDS[k];
    const arg = f.kind === 'choice' ? `<${f.choices!.join('|')}>` : f.kind === 'boolean-or-path' ? '[path]' : `<${f.kind}>`;
    const def = f.default === undefined ? '' : ` (default: ${showDefault(f.default)})`;
    return [`${flagName(k)} ${arg}`, `${f.description}${def}`] as const;
  });
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, d]) => `  ${a.padEnd(width)}  ${d}`).join('\n');
}

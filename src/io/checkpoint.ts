// Checkpoint folders in the Hugging Face layout (config.json, model.safetensors,
// tokenizer files, generation_config.json) plus our resume state
// (trainer_state.json, optimizer.safetensors). See docs/checkpoints.md.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readSafetensorsF32, recoverInterruptedWrites, removeDirAtomic, writeDirAtomic, writeFileAtomic } from './files.js';
import type { GenerationConfig, HfConfig } from './hf-config.js';
import { generationConfigFromModel, parseGenerationConfig, parseHfConfigText, parseJsonText, serializeGenerationConfig, serializeHfConfig } from './hf-config.js';
import type { JsonValue } from './json.js';
import type { F32Tensor } from './safetensors.js';
import { serializeSafetensors } from './safetensors.js';

export type Weights = Map<string, F32Tensor>;

export const CHECKPOINT_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokensMap: 'special_tokens_map.json',
  generationConfig: 'generation_config.json',
  trainerState: 'trainer_state.json',
  optimizer: 'optimizer.safetensors',
} as const;

/**
 * The sha256 (hex) of the tokenizer a model was trained with, written next to tokenizer.json in every checkpoint
 * that carries one, so a tokenizer.json swapped in later (same vocabulary size, different tokens) is caught.
 */
export const TOKENIZER_HASH_FILE = 'tokenizer.sha256';

/** Tokenizer.hash of a tokenizer.json text: the sha256 of its JSON as parsed and written back. */
export function tokenizerJsonHash(text: string): string {
  return createHash('sha256').update(JSON.stringify(JSON.parse(text))).digest('hex');
}

/**
 * Checks that `hash` (Tokenizer.hash of the tokenizer about to be used) is the one the checkpoint in `dir` was
 * trained with; a checkpoint without tokenizer.sha256 (written before it existed) passes. `what` says where the
 * tokenizer comes from and `hint` how to proceed, for the error.
 */
export async function checkTokenizerHash(dir: string, hash: string, what: string, hint: string): Promise<void> {
  const recorded = (await readOptional(join(dir, TOKENIZER_HASH_FILE)))?.toString('utf8').trim();
  if (recorded === undefined || recorded === hash) return;
  throw new Error(`${what} (sha256 ${hash.slice(0, 12)}) is not the tokenizer ${dir} was trained with (${TOKENIZER_HASH_FILE}: ${recorded.slice(0, 12)}); ${hint}`);
}

export type TokenizerSource =
  /** A folder holding tokenizer.json (and optionally tokenizer_config.json, special_tokens_map.json). */
  | { dir: string }
  /** The file contents; `config` is tokenizer_config.json. */
  | { json: string; config?: string; specialTokensMap?: string };

export interface CheckpointContents {
  config: HfConfig;
  /** Overrides config.architectures / the default class name in config.json. */
  architectures?: string[];
  /** HF parameter names; tied weights stored once, under their first name. */
  weights: ReadonlyMap<string, F32Tensor>;
  tokenizer?: TokenizerSource;
  /** true: derive the token ids from the config as HF does; an object: write it; absent: no file. */
  generationConfig?: GenerationConfig | true;
  /** Anything the trainer needs to resume exactly (step, epoch, RNG states, data position...). */
  trainerState?: JsonValue;
  /** Optimizer moments by name, e.g. "exp_avg.transformer.wte.weight". */
  optimizer?: ReadonlyMap<string, F32Tensor>;
  /** Further files (relative names) to put in the folder, e.g. "onnx/model.onnx". */
  extraFiles?: Record<string, Uint8Array | string>;
}

export interface LoadedCheckpoint {
  dir: string;
  config: HfConfig;
  weights: Weights;
  tokenizerJson?: string;
  tokenizerConfig?: string;
  specialTokensMap?: string;
  generationConfig?: GenerationConfig;
  trainerState?: JsonValue;
  optimizer?: Weights;
}

export interface LoadOptions {
  /** Fail unless tokenizer.json is present. */
  requireTokenizer?: boolean;
  /** Fail unless trainer_state.json and optimizer.safetensors are present (resuming). */
  requireTrainerState?: boolean;
  /** Skip reading optimizer.safetensors even if present (inference, fine-tuning from a checkpoint). */
  skipOptimizer?: boolean;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function tokenizerFiles(src: TokenizerSource): Promise<Record<string, string>> {
  if ('json' in src) {
    const out: Record<string, string> = { [CHECKPOINT_FILES.tokenizer]: src.json };
    if (src.config !== undefined) out[CHECKPOINT_FILES.tokenizerConfig] = src.config;
    if (src.specialTokensMap !== undefined) out[CHECKPOINT_FILES.specialTokensMap] = src.specialTokensMap;
    return out;
  }
  const out: Record<string, string> = {};
  for (const name of [CHECKPOINT_FILES.tokenizer, CHECKPOINT_FILES.tokenizerConfig, CHECKPOINT_FILES.specialTokensMap]) {
    const buf = await readOptional(join(src.dir, name));
    if (buf) out[name] = buf.toString('utf8');
    else if (name === CHECKPOINT_FILES.tokenizer) throw new Error(`tokenizer folder ${src.dir}: missing ${name}`);
  }
  return out;
}

/** The files of a checkpoint, in memory (used by saveCheckpoint; handy for export to other stores). */
export async function checkpointFiles(c: CheckpointContents): Promise<Record<string, Uint8Array | string>> {
  const files: Record<string, Uint8Array | string> = {
    [CHECKPOINT_FILES.config]: serializeHfConfig(c.config, c.architectures ? { architectures: c.architectures } : {}),
    [CHECKPOINT_FILES.model]: serializeSafetensors(c.weights),
  };
  if (c.tokenizer) {
    Object.assign(files, await tokenizerFiles(c.tokenizer));
    files[TOKENIZER_HASH_FILE] = `${tokenizerJsonHash(files[CHECKPOINT_FILES.tokenizer] as string)}\n`;
  }
  if (c.generationConfig === true) {
    files[CHECKPOINT_FILES.generationConfig] = serializeGenerationConfig(generationConfigFromModel(c.config), { fromModelConfig: true });
  } else if (c.generationConfig) {
    files[CHECKPOINT_FILES.generationConfig] = serializeGenerationConfig(c.generationConfig);
  }
  if (c.trainerState !== undefined) files[CHECKPOINT_FILES.trainerState] = `${JSON.stringify(c.trainerState, null, 2)}\n`;
  if (c.optimizer) files[CHECKPOINT_FILES.optimizer] = serializeSafetensors(c.optimizer);
  for (const [name, data] of Object.entries(c.extraFiles ?? {})) {
    if (name in files) throw new Error(`saveCheckpoint: extra file "${name}" would overwrite a checkpoint file`);
    files[name] = data;
  }
  return files;
}

/**
 * Writes the model's files (no resume state) into an existing folder that holds other things too, such as a run
 * folder, as Hugging Face's `Trainer.save_model` does: each file is written to a temporary name and renamed.
 */
export async function saveModelInto(dir: string, c: Omit<CheckpointContents, 'trainerState' | 'optimizer'>): Promise<void> {
  for (const [name, data] of Object.entries(await checkpointFiles(c))) await writeFileAtomic(join(dir, name), data);
}

/** Writes the checkpoint folder atomically (replacing an existing one as a whole). */
export async function saveCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  await writeDirAtomic(dir, await checkpointFiles(c));
}

async function isFile(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Loads and validates a checkpoint folder; errors name the folder and the file. */
export async function loadCheckpoint(dir: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new Error(`checkpoint folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`checkpoint ${dir} is not a folder`);

  const path = (name: string) => join(dir, name);
  const required = async (name: string, why: string): Promise<Buffer> => {
    const buf = await readOptional(path(name));
    if (!buf) throw new Error(`checkpoint folder ${dir}: missing ${name} (${why})`);
    return buf;
  };

  const config = parseHfConfigText((await required(CHECKPOINT_FILES.config, 'the model configuration')).toString('utf8'), path(CHECKPOINT_FILES.config));
  if (!(await isFile(path(CHECKPOINT_FILES.model)))) throw new Error(`checkpoint folder ${dir}: missing ${CHECKPOINT_FILES.model} (the model weights)`);
  const weights = await readSafetensorsF32(path(CHECKPOINT_FILES.model));
  const out: LoadedCheckpoint = { dir, config, weights };

  const tok = opts.requireTokenizer
    ? await required(CHECKPOINT_FILES.tokenizer, 'the tokenizer; required here')
    : await readOptional(path(CHECKPOINT_FILES.tokenizer));
  if (tok) out.tokenizerJson = tok.toString('utf8');
  const tokCfg = await readOptional(path(CHECKPOINT_FILES.tokenizerConfig));
  if (tokCfg) out.tokenizerConfig = tokCfg.toString('utf8');
  const special = await readOptional(path(CHECKPOINT_FILES.specialTokensMap));
  if (special) out.specialTokensMap = special.toString('utf8');

  const gen = await readOptional(path(CHECKPOINT_FILES.generationConfig));
  if (gen) {
    const file = path(CHECKPOINT_FILES.generationConfig);
    out.generationConfig = parseGenerationConfig(parseJsonText(gen.toString('utf8'), file), file);
  }

  const why = 'needed to resume training';
  const state = opts.requireTrainerState
    ? await required(CHECKPOINT_FILES.trainerState, why)
    : await readOptional(path(CHECKPOINT_FILES.trainerState));
  if (state) out.trainerState = parseJsonText(state.toString('utf8'), path(CHECKPOINT_FILES.trainerState)) as JsonValue;
  if (!opts.skipOptimizer) {
    const optim = path(CHECKPOINT_FILES.optimizer);
    if (await isFile(optim)) out.optimizer = await readSafetensorsF32(optim);
    else if (opts.requireTrainerState) throw new Error(`checkpoint folder ${dir}: missing ${CHECKPOINT_FILES.optimizer} (${why})`);
  }
  return out;
}

/**
 * Checks tensor names and shapes against what a model expects and reports
 * every missing, unexpected and mis-shaped tensor at once, naming `file`.
 */
export function expectShapes(
  weights: ReadonlyMap<string, { shape: readonly number[] }>,
  expected: Readonly<Record<string, readonly number[]>>,
  file: string,
): void {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, shape] of Object.entries(expected)) {
    const t = weights.get(name);
    if (!t) missing.push(name);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      wrong.push(`${name}: expected [${shape.join(', ')}], found [${t.shape.join(', ')}]`);
    }
  }
  const unexpected = [...weights.keys()].filter((n) => !(n in expected));
  if (!missing.length && !wrong.length && !unexpected.length) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`missing tensors (${missing.length}):\n  ${missing.join('\n  ')}`);
  if (unexpected.length) parts.push(`unexpected tensors (${unexpected.length}):\n  ${unexpected.join('\n  ')}`);
  if (wrong.length) parts.push(`tensors with the wrong shape (${wrong.length}):\n  ${wrong.join('\n  ')}`);
  throw new Error(`${file}: weights do not match the model:\n${parts.join('\n')}`);
}

export const CHECKPOINT_PREFIX = 'checkpoint-';

export function checkpointDirName(step: number): string {
  return `${CHECKPOINT_PREFIX}${step}`;
}

/** `checkpoint-<step>` folders of a run, oldest first; in-progress and trash folders are skipped. */
export async function listCheckpoints(runDir: string): Promise<{ step: number; dir: string }[]> {
  let entries;
  try {
    entries = await readdir(runDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const re = new RegExp(`^${CHECKPOINT_PREFIX}(\\d+)$`);
  const out: { step: number; dir: string }[] = [];
  for (const e of entries) {
    const m = re.exec(e.name);
    if (m && e.isDirectory()) out.push({ step: Number(m[1]), dir: join(runDir, e.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The newest checkpoint folder of a run, after repairing interrupted writes (call this to resume). */
export async function latestCheckpoint(runDir: string): Promise<string | undefined> {
  await recoverInterruptedWrites(runDir);
  return (await listCheckpoints(runDir)).at(-1)?.dir;
}

/**
 * Deletes all but the `k` newest checkpoint folders (k >= 1), after repairing
 * writes a crash interrupted (see recoverInterruptedWrites). Returns the
 * deleted checkpoint folders. `protect`: folders never deleted (the best checkpoint).
 */
export async function keepLast(runDir: string, k: number, protect: readonly string[] = []): Promise<string[]> {
  if (!Number.isInteger(k) || k < 1) throw new Error(`keepLast: k must be an integer >= 1, got ${k}`);
  await recoverInterruptedWrites(runDir);
  const all = await listCheckpoints(runDir);
  const kept = new Set(protect.map((d) => resolve(d)));
  const doomed = all.slice(0, Math.max(0, all.length - k)).map((c) => c.dir).filter((d) => !kept.has(resolve(d)));
  // Renamed before deletion, so a crash never leaves a half-deleted folder under a checkpoint's name.
  for (const d of doomed) await removeDirAtomic(d);
  return doomed;
}

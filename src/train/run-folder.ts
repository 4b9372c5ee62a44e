// A run folder belongs to one run at a time. A new run refuses a folder that already holds a run (log.jsonl,
// train_config.json or checkpoint-<step> folders) unless it resumes it or is told to overwrite it (Hugging Face's
// overwrite_output_dir), and a lock file holding the training process's id keeps two processes from training
// into one folder at once; a lock whose process is gone (a crash, a kill -9) is taken over.
import { closeSync, openSync, readFileSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../io/files.js';

/** The lock file in a run folder while a process trains into it; it holds the process id. */
export const LOCK_FILE = 'train.lock';

/** What marks a folder as holding a run. */
const RUN_MARKERS = ['log.jsonl', 'train_config.json', 'finetune_config.json'];
const CHECKPOINT_RE = /^checkpoint-\d+$/;

/**
 * Files and folders a run writes into its folder; --overwrite removes exactly these (never anything else the
 * folder may hold, since `--out` may name a folder with other things in it).
 */
const RUN_FILES = [
  'log.jsonl', 'train_config.json', 'loss.svg', 'tokenizer', 'onnx', 'config.json', 'model.safetensors', 'generation_config.json',
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.sha256',
  // fine-tuning: the metric curve and the per-class report
  'finetune_config.json', 'metrics.svg', 'classification_report.json', 'report.md', 'confusion_matrix.svg', 'domain_check.json',
];

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** What in `dir` shows that it holds a run: e.g. ["log.jsonl", "checkpoint-500"]; empty for a new folder. */
export function runContents(dir: string): string[] {
  return entries(dir).filter((n) => RUN_MARKERS.includes(n) || CHECKPOINT_RE.test(n)).sort();
}

/** Holds a run folder's lock until released. */
export interface RunLock {
  readonly file: string;
  release(): void;
}

function readLockPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Takes the lock of a run folder (which must exist): creates `train.lock` holding this process's id. A lock held
 * by a running process is an error naming it; a stale one (its process has exited) is taken over.
 */
export function lockRunFolder(dir: string): RunLock {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readLockPid(file);
      if (pid !== undefined && pidAlive(pid))
        throw new Error(`${dir}: another training process (pid ${pid}${pid === process.pid ? ', this one' : ''}) is using this run folder (${file}); wait for it to finish, or use another --out`);
      // Stale (the process is gone) or unreadable: take it over.
      try {
        unlinkSync(file);
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'ENOENT') throw e2;
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    return {
      file,
      release: () => {
        if (released) return;
        released = true;
        // Only our own lock is removed.
        if (readLockPid(file) === process.pid) rmSync(file, { force: true });
      },
    };
  }
  throw new Error(`${dir}: could not take the lock ${file} (another process keeps creating it)`);
}

/**
 * Checks that a new run may train into `dir`: a folder holding a run is refused unless `overwrite`, which first
 * removes the old run's files (log, settings, checkpoints, the finished model, the tokenizer). Call it holding the
 * folder's lock. Returns what was removed.
 */
export function claimForNewRun(dir: string, overwrite: boolean, keep: readonly string[] = []): string[] {
  const found = runContents(dir);
  if (!found.length) return [];
  if (!overwrite) {
    const shown = found.length > 4 ? [...found.slice(0, 4), `... (${found.length} in all)`] : found;
    throw new Error(`--out ${dir} already holds a run (${shown.join(', ')}): continue it with --resume, or start over with --overwrite (deletes the old run), or choose another --out`);
  }
  // `keep`: folders the new run reads (a --tokenizer inside the old run folder) survive.
  const kept = (n: string) => keep.some((k) => k === path.resolve(dir, n) || k.startsWith(path.resolve(dir, n) + path.sep));
  const doomed = entries(dir).filter((n) => (RUN_FILES.includes(n) || CHECKPOINT_RE.test(n) || /^checkpoint-\d+\.(tmp|trash)-/.test(n)) && !kept(n));
  for (const n of doomed) rmSync(path.join(dir, n), { recursive: true, force: true });
  return doomed.sort();
}

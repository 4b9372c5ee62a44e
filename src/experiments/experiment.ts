// `pretrain experiment`: the pretrain-then-fine-tune paradigm measured. For each family's model (and, with the
// objective comparisons, each objective) one pretraining; then every cell of the grid task x label fraction x
// init (pretrained, scratch) x seed is fine-tuned and scored on held-out data; then results.json, report.md and
// report.html. Each finished cell is a JSON file in <out>/cells, so running the same command again continues
// where it stopped (an interrupted pretraining resumes from its checkpoint); a different configuration in a used
// folder is refused unless `overwrite`.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Backend } from '../runtime/backend.js';
import { writeFileAtomic } from '../io/files.js';
import { ProgressBar } from '../train/progress.js';
import { lockRunFolder } from '../train/run-folder.js';
import { analyze, type CellRecord, type Results } from './analysis.js';
import { finetuneSteps, fractionCount, plannedCells, plannedVariants, type ExperimentSettings, type TaskName } from './design.js';
import { domainCheck, pretrainVariant, type Pretrained } from './pretrained.js';
import type { DomainCheck } from '../train/domain.js';
import { writeReport } from './report.js';
import { loadTask, runCell, scoreName, taskAvailable, taskTexts, type TaskData } from './tasks.js';

export interface ExperimentOptions {
  settings: ExperimentSettings;
  out: string;
  /** A folder holding an experiment with other settings is refused unless this is set (it deletes that one). */
  overwrite?: boolean;
  backend: Backend;
  signal?: AbortSignal;
  /** The overall progress bar (one, across all cells). */
  progress?: boolean;
  log?: (s: string) => void;
}

export interface ExperimentOutcome {
  /** False when `signal` stopped it: run it again to continue. */
  complete: boolean;
  /** Cells fine-tuned by this call (the others were already done). */
  ran: number;
  results?: Results;
  seconds: number;
}

/** The settings file that marks a folder as holding an experiment. */
export const SETTINGS_FILE = 'experiment.json';
const OWNED = [SETTINGS_FILE, 'cells', 'pretrain', 'finetune', 'domain', 'results.json', 'report.md', 'report.html', 'figures'];

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentOutcome> {
  const t0 = performance.now();
  const log = o.log ?? ((s: string) => console.error(s));
  const s = o.settings;
  await mkdir(o.out, { recursive: true });
  const lock = lockRunFolder(o.out);
  try {
    await claimFolder(o.out, s, o.overwrite === true, log);
    const r = await runLocked(o, s, log);
    return { ...r, seconds: (performance.now() - t0) / 1000 };
  } finally {
    lock.release();
  }
}

/** A new folder gets the settings; the same settings continue; other settings are refused (or deleted with overwrite). */
async function claimFolder(out: string, s: ExperimentSettings, overwrite: boolean, log: (s: string) => void): Promise<void> {
  const file = path.join(out, SETTINGS_FILE);
  const wanted = `${JSON.stringify(s, null, 2)}\n`;
  if (existsSync(file)) {
    // What the experiment computes decides; the report's wording (leftOut) may change.
    const identity = (x: ExperimentSettings) => JSON.stringify({ ...x, leftOut: [] });
    const had = JSON.parse(await readFile(file, 'utf8')) as ExperimentSettings;
    if (identity(had) === identity(s)) {
      if (JSON.stringify(had) !== JSON.stringify(s)) await writeFileAtomic(file, wanted);
      return;
    }
    if (!overwrite)
      throw new Error(`--out ${out} holds an experiment with other settings (${file}): rerun it with its own settings to continue, or give --overwrite (deletes it), or choose another --out`);
    for (const n of OWNED) await rm(path.join(out, n), { recursive: true, force: true });
    log(`--overwrite: deleted the experiment in ${out}`);
  }
  await writeFileAtomic(file, wanted);
}

async function runLocked(o: ExperimentOptions, s: ExperimentSettings, log: (s: string) => void): Promise<Omit<ExperimentOutcome, 'seconds'>> {
  const tasks = new Map<TaskName, TaskData>();
  for (const t of s.tasks) if (taskAvailable(t, s)) tasks.set(t, await loadTask(t, s));
  const cells = plannedCells(s, (t) => tasks.has(t));
  const variants = plannedVariants(s).filter((v) => cells.some((c) => c.variant === v));
  const cellFile = (id: string) => path.join(o.out, 'cells', `${id}.json`);
  await mkdir(path.join(o.out, 'cells'), { recursive: true });

  // Progress in training steps: every pretraining's and every cell's, done ones counted at the start.
  const cellSteps = (c: (typeof cells)[number]) => finetuneSteps(s, fractionCount(tasks.get(c.task)!.data.train.length, c.fraction));
  const pretrainDone = (id: string) => existsSync(path.join(o.out, 'pretrain', id, 'experiment_done.json'));
  const total = variants.length * s.pretrain.steps + cells.reduce((n, c) => n + cellSteps(c), 0);
  let done = variants.filter((v) => pretrainDone(v.id)).length * s.pretrain.steps + cells.filter((c) => existsSync(cellFile(c.id))).reduce((n, c) => n + cellSteps(c), 0);
  const bar = o.progress ? new ProgressBar({ total, label: 'experiment', startStep: done }) : undefined;
  bar?.update({ step: done, extra: { cells: `${cells.filter((c) => existsSync(cellFile(c.id))).length}/${cells.length}` } });
  const say = (m: string) => (bar ? bar.log(m) : log(m));
  let finished = cells.filter((c) => existsSync(cellFile(c.id))).length;
  const advance = (steps: number) => {
    done += steps;
    bar?.update({ step: done, extra: { cells: `${finished}/${cells.length}` } });
  };

  const pretrained = new Map<string, Pretrained>();
  const domain: DomainCheck[] = [];
  let ran = 0;
  try {
    for (const v of variants) {
      const was = pretrainDone(v.id);
      const p = await pretrainVariant(s, v, o.out, { backend: o.backend, signal: o.signal, log: say });
      if (!p) return { complete: false, ran };
      if (!was) {
        say(`pretrained ${v.id}: ${p.steps} steps, held-out perplexity ${p.perplexity?.toFixed(1)}`);
        advance(s.pretrain.steps);
      }
      pretrained.set(v.id, p);
      for (const [t, data] of tasks) {
        if (!cells.some((c) => c.variant === v && c.task === t)) continue;
        domain.push(await cached(path.join(o.out, 'domain', `${v.id}__${t}.json`), () => domainCheck(p, t, taskTexts(data), o.backend)));
      }
    }
    for (const c of cells) {
      if (existsSync(cellFile(c.id))) continue;
      if (o.signal?.aborted) return { complete: false, ran };
      const t = tasks.get(c.task)!;
      const from = pretrained.get(c.variant.id)!;
      const dir = path.join(o.out, 'finetune', c.id);
      await rm(dir, { recursive: true, force: true });
      const t1 = performance.now();
      const r = await runCell(c, t, s, { backend: o.backend, base: from.base, out: dir, signal: o.signal });
      if (r.interrupted) return { complete: false, ran };
      const { interrupted: _i, ...run } = r;
      const record: CellRecord = {
        id: c.id, variant: c.variant.id, family: c.variant.family, objective: c.variant.objective, task: c.task, fraction: c.fraction,
        init: c.init, seed: c.seed, scoreName: scoreName(c.variant.family, t), ...run,
      };
      await writeFileAtomic(cellFile(c.id), `${JSON.stringify({ ...record, seconds: (performance.now() - t1) / 1000 }, null, 2)}\n`);
      // The cell's numbers are kept; its fine-tuned model is not needed again.
      await rm(dir, { recursive: true, force: true });
      ran++;
      finished++;
      say(`${c.id}: ${record.scoreName} ${(100 * record.score).toFixed(1)}% (${record.trainExamples} examples, ${record.steps} steps)`);
      advance(cellSteps(c));
    }
  } finally {
    bar?.finish();
  }
  const records = await Promise.all(cells.map(async (c) => stripTiming(JSON.parse(await readFile(cellFile(c.id), 'utf8')) as CellRecord & { seconds?: number })));
  const pretraining = [...pretrained.values()].map((p) => ({
    variant: p.variant.id, family: p.variant.family, objective: p.variant.objective, steps: p.steps, evalLoss: p.evalLoss, perplexity: p.perplexity,
  }));
  const results = analyze(s, pretraining, records, domain);
  await writeReport(o.out, results);
  return { complete: true, ran, results };
}

function stripTiming(r: CellRecord & { seconds?: number }): CellRecord {
  const { seconds: _s, ...rest } = r;
  return rest;
}

/** A JSON result computed once and kept in `file`. */
async function cached<T>(file: string, compute: () => Promise<T>): Promise<T> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as T;
  const v = await compute();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(v, null, 2)}\n`);
  return v;
}

/** The ids of the finished cells in an experiment folder. */
export async function finishedCells(out: string): Promise<string[]> {
  try {
    return (await readdir(path.join(out, 'cells'))).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

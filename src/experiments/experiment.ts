// `pretrain experiment`: the pretrain-then-fine-tune paradigm measured. For each family's model (and, with the
// objective comparisons, each objective) one pretraining; then every cell of the grid task x label fraction x
// init (pretrained, scratch) x seed is fine-tuned and scored on held-out data; then results.json, report.md and
// report.html. Each finished cell is a JSON file in <out>/cells, so running the same command again continues
// where it stopped (an interrupted pretraining resumes from its checkpoint); a different configuration in a used
// folder is refused unless `overwrite`.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { taskHead } from '../models/tasks.js';
import type { Backend } from '../runtime/backend.js';
import { writeFileAtomic } from '../io/files.js';
import { ProgressBar } from '../train/progress.js';
import { lockRunFolder } from '../train/run-folder.js';
import { analyze, type CellRecord, type Results } from './analysis.js';
import {
  PRETRAIN_STEP_COST, finetuneSteps, fractionCount, plannedCells, plannedVariants, taskSupport, type CellSpec, type ExperimentSettings, type TaskName, type Variant,
} from './design.js';
import { cellFile, domainFile, runJobs, type PlannedJob } from './jobs.js';
import { finishedPretraining } from './pretrained.js';
import type { DomainCheck } from '../train/domain.js';
import { writeReport } from './report.js';
import { loadTask, taskAvailable, type TaskData } from './tasks.js';

export interface ExperimentOptions {
  settings: ExperimentSettings;
  out: string;
  /** A folder holding an experiment with other settings is refused unless this is set (it deletes that one). */
  overwrite?: boolean;
  backend: Backend;
  signal?: AbortSignal;
  /** The overall progress bar (one, across all cells). */
  progress?: boolean;
  /**
   * Pretrainings and cells run at a time (default 1). Above 1 each runs in a child process on onnxruntime-node
   * with cores/jobs intra-op threads (src/experiments/jobs.ts), and `backend` must be nodeBackend.
   */
  jobs?: number;
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
  await mkdir(path.join(o.out, 'cells'), { recursive: true });
  // A finished cell counts only if it was fine-tuned with the head planned now (an older version's is run again).
  const staleHeads = new Map<string, string>();
  for (const c of cells) {
    const file = cellFile(o.out, c.id);
    if (!existsSync(file)) continue;
    const had = recordedArchitecture(JSON.parse(await readFile(file, 'utf8')) as Partial<CellRecord>, c, s);
    if (had !== cellArchitecture(c, s)) staleHeads.set(c.id, had);
  }
  if (staleHeads.size)
    log(`${staleHeads.size} finished cells were fine-tuned with another head than this version's (${[...new Set(staleHeads.values())].join(', ')}): running them again`);
  const cellDone = (id: string) => existsSync(cellFile(o.out, id)) && !staleHeads.has(id);
  const cellSteps = (c: CellSpec) => finetuneSteps(s, fractionCount(tasks.get(c.task)!.data.train.length, c.fraction));
  // The tasks a variant is fine-tuned on: its model's domain check runs on each.
  const tasksOf = (v: Variant) => [...tasks.keys()].filter((t) => cells.some((c) => c.variant === v && c.task === t));

  // Pretrainings first (each with the domain checks of its model), then the cells, each after its pretraining.
  const planned: PlannedJob[] = [];
  const longestFirst = [...variants].sort((a, b) => PRETRAIN_STEP_COST[b.family] - PRETRAIN_STEP_COST[a.family]);
  for (const v of longestFirst) {
    const domainTasks = tasksOf(v);
    const finished = (await finishedPretraining(o.out, v.id)) !== undefined && domainTasks.every((t) => existsSync(domainFile(o.out, v.id, t)));
    if (!finished) planned.push({ job: { kind: 'pretrain', variant: v.id, domainTasks }, steps: s.pretrain.steps });
  }
  for (const c of cells) {
    if (cellDone(c.id)) continue;
    const pretrainingPlanned = planned.some((j) => j.job.kind === 'pretrain' && j.job.variant === c.variant.id);
    planned.push({ job: { kind: 'cell', cell: c }, after: pretrainingPlanned ? c.variant.id : undefined, steps: cellSteps(c) });
  }

  // Progress in training steps: every pretraining's and every cell's, done ones counted at the start.
  const allSteps = variants.length * s.pretrain.steps + cells.reduce((n, c) => n + cellSteps(c), 0);
  let done = allSteps - planned.reduce((n, j) => n + j.steps, 0);
  let finished = cells.filter((c) => cellDone(c.id)).length;
  const bar = o.progress ? new ProgressBar({ total: allSteps, label: 'experiment', startStep: done }) : undefined;
  const show = () => bar?.update({ step: done, extra: { cells: `${finished}/${cells.length}` } });
  show();
  let ran = 0;
  let complete: boolean;
  try {
    complete = await runJobs(planned, {
      settings: s, out: o.out, backend: o.backend, jobs: o.jobs ?? 1, signal: o.signal,
      log: (m) => (bar ? bar.log(m) : log(m)),
      onDone: (j) => {
        done += j.steps;
        if (j.job.kind === 'cell') {
          ran++;
          finished++;
        }
        show();
      },
    });
  } finally {
    bar?.finish();
  }
  if (!complete) return { complete: false, ran };

  const records = await Promise.all(cells.map(async (c) => stripTiming(JSON.parse(await readFile(cellFile(o.out, c.id), 'utf8')) as CellRecord & { seconds?: number })));
  const pretraining = await Promise.all(variants.map(async (v) => {
    const p = (await finishedPretraining(o.out, v.id))!;
    return { variant: v.id, family: v.family, objective: v.objective, steps: p.steps, evalLoss: p.evalLoss, perplexity: p.perplexity };
  }));
  const domain: DomainCheck[] = [];
  for (const v of variants) for (const t of tasksOf(v)) domain.push(JSON.parse(await readFile(domainFile(o.out, v.id, t), 'utf8')) as DomainCheck);
  const results = analyze(s, pretraining, records, domain);
  await writeReport(o.out, results);
  return { complete: true, ran, results };
}

function stripTiming(r: CellRecord & { seconds?: number }): CellRecord {
  const { seconds: _s, ...rest } = r;
  return rest;
}

/** The ids of the finished cells in an experiment folder. */
export async function finishedCells(out: string): Promise<string[]> {
  try {
    return (await readdir(path.join(out, 'cells'))).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** The HF class a cell fine-tunes (BertForQuestionAnswering, T5ForConditionalGeneration, ...). */
function cellArchitecture(c: CellSpec, s: ExperimentSettings): string {
  const how = taskSupport(c.variant.family, c.task, s.user);
  if (!how) throw new Error(`${c.variant.family} cannot be fine-tuned on ${c.task}`);
  return taskHead(c.variant.family, how).architecture;
}

/**
 * The HF class a finished cell was fine-tuned as. Cells written before records named it come from when T5
 * answered questions as text-to-text (T5ForConditionalGeneration); every other head is unchanged since then.
 */
function recordedArchitecture(r: Partial<CellRecord>, c: CellSpec, s: ExperimentSettings): string {
  if (r.architecture !== undefined) return r.architecture;
  return c.variant.family === 't5' && taskSupport('t5', c.task, s.user) === 'qa' ? 'T5ForConditionalGeneration' : cellArchitecture(c, s);
}

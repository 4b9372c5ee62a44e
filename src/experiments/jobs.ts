// The experiment's work as jobs (a pretraining, or one fine-tuning cell) and where they run: one at a time in this
// process, or `jobs` at a time, each in a child process of its own (job-worker.ts) with its share of the cores.
// Side by side is faster on the experiment's small models: two quick-size pretrainings with one ORT thread each
// took 28.9 s together, against 39.7 s for the same two one after the other with two threads each (2 cores, 300
// steps of BERT and of GPT-2; docs/experiment.md). Every job leaves its result in the experiment folder (a
// pretraining's checkpoint and experiment_done.json, a cell's JSON, a domain check's JSON), so a job returns only
// whether it finished, and the parent reads the files.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../runtime/backend.js';
import { availableCores, nodeBackend } from '../runtime/node.js';
import { writeFileAtomic } from '../io/files.js';
import type { CellRecord } from './analysis.js';
import { VARIANTS, type CellSpec, type ExperimentSettings, type TaskName } from './design.js';
import { domainCheck, pretrainVariant, type Pretrained } from './pretrained.js';
import { loadTask, runCell, scoreName, taskTexts, type TaskData } from './tasks.js';

/** A pretraining (with the domain checks of its model on the tasks it is fine-tuned on), or a fine-tuning cell. */
export type Job = { kind: 'pretrain'; variant: string; domainTasks: TaskName[] } | { kind: 'cell'; cell: CellSpec };

export const cellFile = (out: string, id: string) => path.join(out, 'cells', `${id}.json`);
export const domainFile = (out: string, variant: string, task: TaskName) => path.join(out, 'domain', `${variant}__${task}.json`);

/** Runs jobs in the current process, keeping the tasks' data and the pretrained models it has loaded. */
export class JobRunner {
  private readonly tasks = new Map<TaskName, Promise<TaskData>>();
  private readonly models = new Map<string, Pretrained>();

  constructor(private readonly s: ExperimentSettings, private readonly out: string, private readonly backend: Backend, private readonly log: (m: string) => void) {}

  task(t: TaskName): Promise<TaskData> {
    let d = this.tasks.get(t);
    if (!d) this.tasks.set(t, (d = loadTask(t, this.s)));
    return d;
  }

  /** False when `signal` stopped the job: a pretraining keeps its checkpoint, a cell is redone next time. */
  async run(job: Job, signal?: AbortSignal): Promise<boolean> {
    return job.kind === 'pretrain' ? this.pretrain(job.variant, job.domainTasks, signal) : this.cell(job.cell, signal);
  }

  /** The finished pretraining of a variant (loaded from its folder the first time). */
  private async model(id: string, signal?: AbortSignal): Promise<Pretrained | undefined> {
    const had = this.models.get(id);
    if (had) return had;
    const v = VARIANTS.find((x) => x.id === id);
    if (!v) throw new Error(`unknown pretraining variant "${id}"`);
    const p = await pretrainVariant(this.s, v, this.out, { backend: this.backend, signal, log: this.log });
    if (p) this.models.set(id, p);
    return p;
  }

  private async pretrain(id: string, domainTasks: TaskName[], signal?: AbortSignal): Promise<boolean> {
    const p = await this.model(id, signal);
    if (!p) return false;
    for (const t of domainTasks) {
      const file = domainFile(this.out, id, t);
      if (existsSync(file)) continue;
      const check = await domainCheck(p, t, taskTexts(await this.task(t)), this.backend);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, `${JSON.stringify(check, null, 2)}\n`);
    }
    return true;
  }

  private async cell(c: CellSpec, signal?: AbortSignal): Promise<boolean> {
    const from = await this.model(c.variant.id, signal);
    if (!from) return false;
    const t = await this.task(c.task);
    const dir = path.join(this.out, 'finetune', c.id);
    await rm(dir, { recursive: true, force: true });
    const t0 = performance.now();
    const r = await runCell(c, t, this.s, { backend: this.backend, base: from.base, out: dir, signal });
    if (r.interrupted) return false;
    const { interrupted: _i, ...run } = r;
    const record: CellRecord = {
      id: c.id, variant: c.variant.id, family: c.variant.family, objective: c.variant.objective, task: c.task, fraction: c.fraction,
      init: c.init, seed: c.seed, scoreName: scoreName(t), ...run,
    };
    await writeFileAtomic(cellFile(this.out, c.id), `${JSON.stringify({ ...record, seconds: (performance.now() - t0) / 1000 }, null, 2)}\n`);
    // The cell's numbers are kept; its fine-tuned model is not needed again.
    await rm(dir, { recursive: true, force: true });
    this.log(`${c.id}: ${record.scoreName} ${(100 * record.score).toFixed(1)}% (${record.trainExamples} examples, ${record.steps} steps)`);
    return true;
  }
}

/** A place that runs one job at a time. */
interface Lane {
  run(job: Job): Promise<boolean>;
  abort(): void;
  close(): Promise<void>;
}

/** Messages to and from a child (job-worker.ts). */
export type ToChild = { type: 'init'; settings: ExperimentSettings; out: string } | { type: 'job'; job: Job } | { type: 'abort' };
export type FromChild = { type: 'log'; text: string } | { type: 'done'; finished: boolean } | { type: 'error'; message: string };

const WORKER = fileURLToPath(new URL('./job-worker.js', import.meta.url));

/** A child process running jobs with `threads` intra-op threads. */
function childLane(s: ExperimentSettings, out: string, threads: number, log: (m: string) => void): Lane {
  // Its own process group: Ctrl-C reaches the parent, which stops the child through `abort` (a pretraining then
  // saves its checkpoint); a child whose parent is gone stops at its next step (job-worker.ts).
  const child: ChildProcess = fork(WORKER, [], {
    env: { ...process.env, PRETRAIN_INTRA_OP_THREADS: process.env.PRETRAIN_INTRA_OP_THREADS ?? String(threads) },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let pending: { resolve: (finished: boolean) => void; reject: (e: Error) => void; job: Job } | undefined;
  child.on('message', (m: FromChild) => {
    if (m.type === 'log') return log(m.text);
    const p = pending;
    pending = undefined;
    if (m.type === 'done') p?.resolve(m.finished);
    else p?.reject(new Error(m.message));
  });
  void exited.then((code) => {
    const p = pending;
    pending = undefined;
    p?.reject(new Error(`the child process running ${jobName(p.job)} ended (exit code ${code})`));
  });
  child.send({ type: 'init', settings: s, out } satisfies ToChild);
  return {
    run: (job) => new Promise<boolean>((resolve, reject) => {
      pending = { resolve, reject, job };
      child.send({ type: 'job', job } satisfies ToChild);
    }),
    abort: () => {
      if (child.connected) child.send({ type: 'abort' } satisfies ToChild);
    },
    close: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

export const jobName = (j: Job) => (j.kind === 'pretrain' ? `the pretraining of ${j.variant}` : `cell ${j.cell.id}`);

/** A job, the pretraining it needs first (by variant id), and its size in training steps (for the progress bar). */
export interface PlannedJob {
  job: Job;
  after?: string;
  steps: number;
}

export interface RunJobsOptions {
  settings: ExperimentSettings;
  out: string;
  backend: Backend;
  /** Jobs at a time; above 1 each runs in a child process on onnxruntime-node with cores/jobs threads. */
  jobs: number;
  signal?: AbortSignal;
  log: (m: string) => void;
  onDone: (j: PlannedJob) => void;
}

/**
 * Runs the jobs, each when the pretraining it needs is done, in list order as lanes come free. False when `signal`
 * stopped them (finished jobs keep their results); the first error stops the others and is thrown.
 */
export async function runJobs(planned: PlannedJob[], o: RunJobsOptions): Promise<boolean> {
  if (!(Number.isInteger(o.jobs) && o.jobs >= 1)) throw new Error(`jobs must be an integer >= 1, got ${o.jobs}`);
  if (o.jobs > 1 && o.backend !== nodeBackend) throw new Error(`jobs ${o.jobs}: jobs run side by side in child processes on onnxruntime-node; with another backend (${o.backend.name}) use jobs 1`);
  const lanes: Lane[] = [];
  if (o.jobs === 1) {
    const runner = new JobRunner(o.settings, o.out, o.backend, o.log);
    lanes.push({ run: (job) => runner.run(job, o.signal), abort: () => {}, close: async () => {} });
  } else {
    // Threads by the jobs asked for, children only for the jobs there are (none when every job is done).
    const threads = Math.max(1, Math.floor(availableCores() / o.jobs));
    for (let i = 0; i < Math.min(o.jobs, planned.length); i++) lanes.push(childLane(o.settings, o.out, threads, o.log));
  }
  const pending = [...planned];
  const done = new Set<string>();
  let stopped = false;
  let failure: unknown;
  let wake: () => void = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const stopAll = () => {
    stopped = true;
    for (const l of lanes) l.abort();
    notify();
  };
  o.signal?.addEventListener('abort', stopAll);
  let running = 0;
  const work = async (lane: Lane) => {
    for (;;) {
      if (stopped || o.signal?.aborted) return;
      const i = pending.findIndex((j) => j.after === undefined || done.has(j.after));
      if (i < 0) {
        if (pending.length === 0) return;
        if (running === 0) throw new Error(`${jobName(pending[0]!.job)} waits for a pretraining that is not planned`);
        await changed;
        continue;
      }
      const [j] = pending.splice(i, 1) as [PlannedJob];
      running++;
      try {
        if (!(await lane.run(j.job))) return stopAll();
        if (j.job.kind === 'pretrain') done.add(j.job.variant);
        o.onDone(j);
      } finally {
        running--;
        notify();
      }
    }
  };
  try {
    await Promise.all(lanes.map((l) => work(l).catch((e: unknown) => {
      failure ??= e;
      stopAll();
    })));
  } finally {
    o.signal?.removeEventListener('abort', stopAll);
    await Promise.all(lanes.map((l) => l.close()));
  }
  if (failure !== undefined) throw failure;
  return !(stopped || o.signal?.aborted);
}

/** The default number of jobs at a time: one per core, at most 8. */
export function defaultJobs(): number {
  return Math.min(8, availableCores());
}

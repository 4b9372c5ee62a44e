// The training loop shared by every objective and by fine-tuning: schedule, gradient accumulation and clipping (in
// the compiled step), periodic evaluation and checkpoints (keep the last K), exact resume, a clean stop when the
// caller's AbortSignal fires (the CLI turns Ctrl-C into it), a stop on a non-finite loss that keeps the last good
// checkpoint, a progress bar, log.jsonl and a loss-curve SVG.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../graph/index.js';
import type { Backend } from '../runtime/backend.js';
import { Forward, TrainStep, type Batch } from '../runtime/step.js';
import { storeFromWeights, type ParameterStore } from '../runtime/store.js';
import type { OptimizerConfig } from '../runtime/optimizers.js';
import { checkpointDirName, keepLast, latestCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/files.js';
import type { JsonValue } from '../io/json.js';
import type { BatchStream } from '../objectives/objective.js';
import type { F32Tensor } from '../io/safetensors.js';
import { LogWriter, readLog, type LogRecord } from './log.js';
import { lossCurveSvg, lossPointsFromRecords, metricCurvesSvg } from './plot.js';
import { ProgressBar } from './progress.js';
import { learningRate, validateSchedule, type Decay } from './schedule.js';

/** Where training batches come from; its state goes into checkpoints so a resume continues the same stream. */
export type BatchSource = BatchStream;

export interface TrainerTask {
  /** Builds the training loss (train mode: dropout on) for one micro-batch. */
  trainLoss(g: Graph): Tensor;
  /**
   * Builds the evaluation graph (eval mode): `loss` (averaged over batches) and optionally head statistics
   * (`<head>/loss_sum`, `<head>/count`, `<head>/correct`, summed over batches; see HeadOutputs).
   */
  evalOutputs(g: Graph): { loss: Tensor; stats?: Record<string, Tensor> };
  train: BatchSource;
  /** Held-out batches, evaluated in full at each evaluation. */
  evalBatches?: () => Batch[];
  /** Tokens in one micro-batch (for tokens/s). */
  tokensPerMicroBatch: number;
  /**
   * Task metrics (e.g. accuracy, macro_f1) of the current weights, computed at each scheduled evaluation and merged
   * into the eval record of log.jsonl.
   */
  evaluateTask?: () => Promise<Record<string, number>>;
  /** Writes a checkpoint folder (config, weights, tokenizer) plus the given resume state; `final` at the end of training. */
  save(dir: string, resume: { trainerState: JsonValue; optimizer: Map<string, F32Tensor> }, final: boolean): Promise<void>;
}

export interface TrainerOptions {
  outDir: string;
  maxSteps: number;
  gradAccum: number;
  lr: number;
  warmup: number;
  decay: Decay;
  minLrRatio: number;
  optimizer: OptimizerConfig;
  gradClip: number;
  evalEvery: number;
  saveEvery: number;
  keepLast: number;
  seed: number;
  /** false: a new run; true: the newest checkpoint in outDir; a path: that checkpoint folder. */
  resume: boolean | string;
  /** Progress output; false silences the bar (tests). */
  progress?: boolean;
  /** What the progress bar calls this run (default "train"). */
  label?: string;
  /** Stop (and save) after this many steps of this run: lets tests interrupt a run. */
  stopAfter?: number;
  /** When it fires, the current step finishes, a checkpoint is saved and run() returns ('interrupt'). */
  signal?: AbortSignal;
  /**
   * The eval metric that decides the best model (HF metric_for_best_model / greater_is_better): "loss" or a key of
   * the eval record (a task metric such as "accuracy"; an "eval_" prefix is ignored). Default: loss, lower is better.
   */
  bestMetric?: { name: string; greaterIsBetter: boolean };
  /**
   * HF load_best_model_at_end: each evaluation that improves the best metric saves a checkpoint, kept besides the
   * last `keepLast`; at the end the best weights are loaded back and the final checkpoint is the best one.
   */
  saveBest?: boolean;
  /** HF early_stopping_patience: stop ('early-stop') after this many evaluations without improvement (0/undefined: never). */
  patience?: number;
}

/** An evaluation: the mean loss, the perplexity of the first language-model head, and each head's metrics. */
export interface EvalResult {
  loss: number;
  perplexity: number;
  /** e.g. mlm_accuracy, mlm_loss, mlm_perplexity, nsp_accuracy. */
  metrics: Record<string, number>;
}

/** Per-head metrics from summed statistics: <head>_loss, <head>_accuracy, and <head>_perplexity for token heads. */
export function metricsFromStats(sums: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const heads = Object.keys(sums).filter((k) => k.endsWith('/count')).map((k) => k.slice(0, -'/count'.length));
  for (const h of heads) {
    const n = sums[`${h}/count`];
    if (!(n > 0)) continue;
    out[`${h}_loss`] = sums[`${h}/loss_sum`] / n;
    out[`${h}_accuracy`] = sums[`${h}/correct`] / n;
    if (h === 'lm' || h === 'mlm' || h === 'sbo' || h === 'seq2seq') out[`${h}_perplexity`] = Math.exp(out[`${h}_loss`]);
    out[`${h}_count`] = n;
  }
  return out;
}

/** The best evaluation of the watched metric so far (HF best_metric, best_global_step, best_model_checkpoint). */
export interface BestMetric {
  metric: string;
  value: number;
  step: number;
  /** With saveBest: its checkpoint folder. */
  checkpoint?: string;
}

export interface TrainResult {
  step: number;
  losses: number[];
  lastEval?: EvalResult;
  /** 'early-stop': `patience` evaluations in a row did not improve the best metric. */
  stoppedBy: 'done' | 'interrupt' | 'nonfinite' | 'stopAfter' | 'early-stop';
  finalDir?: string;
  /** The lowest eval loss so far in the run (resumed runs included) and its step; also in trainer_state.json. */
  bestEval?: { loss: number; step: number };
  /** The best value of `bestMetric` (resumed runs included); with saveBest the returned weights are its weights. */
  best?: BestMetric;
}

/** The value of `name` in an eval record ("eval_accuracy" and "accuracy" name the same metric, as in HF). */
export function metricValue(record: Record<string, unknown>, name: string): number {
  const key = name.startsWith('eval_') ? name.slice('eval_'.length) : name;
  const v = record[key];
  if (typeof v !== 'number') {
    const known = Object.keys(record).filter((k) => k !== 'kind' && k !== 'step' && typeof record[k] === 'number');
    throw new Error(`metric for the best model "${name}": the evaluation has no such metric (it has ${known.join(', ')})`);
  }
  return v;
}

export class Trainer {
  private best: { loss: number; step: number } | undefined;
  private bestMetric: BestMetric | undefined;
  /** Evaluations since the best metric last improved (HF early_stopping_patience_counter). */
  private sinceBest = 0;

  constructor(
    private readonly backend: Backend,
    private readonly store: ParameterStore,
    private readonly task: TrainerTask,
    private readonly o: TrainerOptions,
  ) {
    validateSchedule({ lr: o.lr, warmupSteps: o.warmup, maxSteps: o.maxSteps, decay: o.decay, minLrRatio: o.minLrRatio });
    if (!(o.gradAccum >= 1)) throw new Error(`--grad-accum must be >= 1, got ${o.gradAccum}`);
    if (o.patience !== undefined && !(Number.isInteger(o.patience) && o.patience >= 0)) throw new Error(`--patience must be an integer >= 0, got ${o.patience}`);
  }

  private get watched(): { name: string; greaterIsBetter: boolean } {
    return this.o.bestMetric ?? { name: 'loss', greaterIsBetter: false };
  }

  /** Restores weights, moments, counters and the data position from a checkpoint folder. */
  private async restore(dir: string): Promise<void> {
    const ck = await loadCheckpoint(dir, { requireTrainerState: true });
    const specs = this.store.names().map((name) => ({ name, shape: this.store.shapes.get(name)! }));
    const loaded = storeFromWeights(specs, ck.weights, path.join(dir, 'model.safetensors'));
    for (const { name, shape } of specs) this.store.set(name, shape, loaded.get(name));
    for (const [k, v] of ck.optimizer ?? []) this.store.state.set(k, v.data);
    const s = ck.trainerState as {
      step: number; microStep: number; seed: number; data: JsonValue; best_eval_loss?: number; best_eval_step?: number;
      metric_for_best_model?: string; best_metric?: number; best_global_step?: number; best_model_checkpoint?: string | null;
      early_stopping_patience_counter?: number;
    };
    if (typeof s.best_eval_loss === 'number' && typeof s.best_eval_step === 'number') this.best = { loss: s.best_eval_loss, step: s.best_eval_step };
    // The best metric carries over only when the run watches the same metric.
    if (s.metric_for_best_model === this.watched.name && typeof s.best_metric === 'number' && typeof s.best_global_step === 'number') {
      this.bestMetric = { metric: s.metric_for_best_model, value: s.best_metric, step: s.best_global_step, ...(s.best_model_checkpoint ? { checkpoint: s.best_model_checkpoint } : {}) };
      this.sinceBest = s.early_stopping_patience_counter ?? 0;
    }
    this.store.step = s.step;
    this.store.microStep = s.microStep;
    this.store.seed = s.seed;
    this.task.train.restore(s.data);
  }

  private async checkpoint(final = false): Promise<string> {
    const dir = path.join(this.o.outDir, checkpointDirName(this.store.step));
    const optimizer = new Map<string, F32Tensor>();
    for (const [k, v] of this.store.state) {
      const param = k.slice(k.indexOf('/') + 1);
      optimizer.set(k, { shape: this.store.shapes.get(param)!, data: v });
    }
    const trainerState: JsonValue = {
      step: this.store.step,
      microStep: this.store.microStep,
      seed: this.store.seed,
      data: this.task.train.state(),
      maxSteps: this.o.maxSteps,
      ...(this.best ? { best_eval_loss: this.best.loss, best_eval_step: this.best.step } : {}),
      ...(this.bestMetric
        ? {
          metric_for_best_model: this.bestMetric.metric, best_metric: this.bestMetric.value, best_global_step: this.bestMetric.step,
          best_model_checkpoint: this.bestMetric.checkpoint ?? null, early_stopping_patience_counter: this.sinceBest,
        }
        : {}),
    };
    await this.task.save(dir, { trainerState, optimizer }, final);
    await keepLast(this.o.outDir, this.o.keepLast, this.bestMetric?.checkpoint ? [this.bestMetric.checkpoint] : []);
    return dir;
  }

  /** Loads the best checkpoint's weights into the store and re-saves that checkpoint as the final one. */
  private async finishWithBest(best: BestMetric & { checkpoint: string }): Promise<string> {
    const ck = await loadCheckpoint(best.checkpoint, { requireTrainerState: true });
    const specs = this.store.names().map((name) => ({ name, shape: this.store.shapes.get(name)! }));
    const loaded = storeFromWeights(specs, ck.weights, path.join(best.checkpoint, 'model.safetensors'));
    for (const { name, shape } of specs) this.store.set(name, shape, loaded.get(name));
    await this.task.save(best.checkpoint, { trainerState: ck.trainerState!, optimizer: ck.optimizer ?? new Map() }, true);
    return best.checkpoint;
  }

  private evalGraph?: Forward;

  async evaluate(): Promise<EvalResult | undefined> {
    const batches = this.task.evalBatches?.();
    if (!batches?.length) return undefined;
    this.evalGraph ??= await compileEval(this.backend, (g) => this.task.evalOutputs(g), this.store);
    return evaluateBatches(this.evalGraph, batches);
  }

  /**
   * A scheduled evaluation: the loss over the held-out batches and the task's metrics, as one log record; updates
   * the best loss, the best watched metric (saving its checkpoint with saveBest) and the patience counter.
   */
  private async scheduledEvaluation(): Promise<{ eval?: EvalResult; record?: LogRecord; line?: string; improved: boolean }> {
    const e = await this.evaluate();
    const taskMetrics = this.task.evaluateTask ? await this.task.evaluateTask() : {};
    if (!e && !Object.keys(taskMetrics).length) return { improved: false };
    const step = this.store.step;
    if (e && Number.isFinite(e.loss) && (!this.best || e.loss < this.best.loss)) this.best = { loss: e.loss, step };
    const record: LogRecord = { kind: 'eval', step, ...(e ? { loss: e.loss, perplexity: e.perplexity, ...e.metrics } : {}), ...taskMetrics };
    const w = this.watched;
    const value = metricValue(record, w.name);
    // Strictly better, as HF's np.greater / np.less.
    const improved = Number.isFinite(value) && (!this.bestMetric || (w.greaterIsBetter ? value > this.bestMetric.value : value < this.bestMetric.value));
    if (improved) {
      this.bestMetric = { metric: w.name, value, step };
      this.sinceBest = 0;
    } else this.sinceBest++;
    // A task's evaluation shows the eval loss and its own metrics (a classifier's perplexity means nothing).
    const line = this.task.evaluateTask
      ? [e ? `eval loss ${e.loss.toFixed(4)}` : '', formatTaskMetrics(taskMetrics)].filter(Boolean).join(', ')
      : formatEval(e!);
    return { eval: e, record, line, improved };
  }

  async run(): Promise<TrainResult> {
    const o = this.o;
    await mkdir(o.outDir, { recursive: true });
    if (o.resume) {
      const last = typeof o.resume === 'string' ? o.resume : await latestCheckpoint(o.outDir);
      if (!last) throw new Error(`--resume: no checkpoint-<step> folder in ${o.outDir}`);
      await this.restore(last);
    } else this.store.seed = o.seed;

    const logPath = path.join(o.outDir, 'log.jsonl');
    if (!o.resume && existsSync(logPath)) await writeFile(logPath, '');
    const log = await LogWriter.open(logPath, o.resume ? { resumeStep: this.store.step } : {});
    const records: LogRecord[] = o.resume ? (await readLog(logPath)).records : [];
    const record = (r: LogRecord) => {
      log.append(r);
      records.push(r);
    };
    const plot = async () => {
      await writeFileAtomic(path.join(o.outDir, 'loss.svg'), lossCurveSvg(lossPointsFromRecords(records), { title: `training loss (${path.basename(o.outDir)})` }));
      if (this.task.evaluateTask) {
        const names = taskMetricNames(records);
        if (names.length) await writeFileAtomic(path.join(o.outDir, 'metrics.svg'), metricCurvesSvg(records, names, { title: `eval metrics (${path.basename(o.outDir)})` }));
      }
    };

    const step = await TrainStep.compile(this.backend, (g) => this.task.trainLoss(g), this.store, { optimizer: o.optimizer, gradClip: o.gradClip });
    const bar = o.progress === false ? undefined : new ProgressBar({ total: o.maxSteps, startStep: this.store.step, label: o.label ?? 'train' });
    const onAbort = () => bar?.log('interrupt: finishing this step, saving a checkpoint, then stopping');
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const losses: number[] = [];
    let tokens = 0;
    let lastEval: TrainResult['lastEval'];
    let stoppedBy: TrainResult['stoppedBy'] = 'done';
    let ranThisRun = 0;
    try {
      while (this.store.step < o.maxSteps) {
        const lr = learningRate(this.store.step, { lr: o.lr, warmupSteps: o.warmup, maxSteps: o.maxSteps, decay: o.decay, minLrRatio: o.minLrRatio });
        const micro = Array.from({ length: o.gradAccum }, () => this.task.train.next());
        const r = await step.run(micro, lr);
        if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
          const last = await latestCheckpoint(o.outDir);
          const msg = `non-finite loss (${r.loss}) or gradient norm (${r.gradNorm}) at step ${this.store.step}; stopping. ` +
            (last ? `The last good checkpoint is ${last}.` : 'No checkpoint was written yet.') + ' Try a lower --lr or --grad-clip.';
          bar?.log(msg);
          record({ kind: 'error', step: this.store.step, message: msg });
          stoppedBy = 'nonfinite';
          break;
        }
        losses.push(r.loss);
        tokens += this.task.tokensPerMicroBatch * o.gradAccum;
        ranThisRun++;
        record({ kind: 'train', step: this.store.step, loss: r.loss, lr, grad_norm: r.gradNorm, tokens: this.store.step * o.gradAccum * this.task.tokensPerMicroBatch });
        bar?.update({ step: this.store.step, loss: r.loss, lr, tokens });
        const done = this.store.step >= o.maxSteps;
        // Every evalEvery steps, and always at the end (evalEvery 0: only at the end).
        let saveNow = false;
        let earlyStop = false;
        if (done || (o.evalEvery > 0 && this.store.step % o.evalEvery === 0)) {
          const ev = await this.scheduledEvaluation();
          lastEval = ev.eval;
          if (ev.record) {
            record(ev.record);
            bar?.log(`step ${this.store.step}: ${ev.line}`);
            // The best checkpoint is saved when it is found, so that it outlives the last-K rotation.
            if (ev.improved && o.saveBest) {
              this.bestMetric!.checkpoint = path.join(o.outDir, checkpointDirName(this.store.step));
              saveNow = true;
            }
            earlyStop = !done && (o.patience ?? 0) > 0 && this.sinceBest >= o.patience!;
          }
          await plot();
        }
        const interrupted = o.signal?.aborted === true;
        const stopAfter = o.stopAfter !== undefined && ranThisRun >= o.stopAfter;
        if (saveNow || (o.saveEvery > 0 && this.store.step % o.saveEvery === 0) || interrupted || stopAfter) {
          const dir = await this.checkpoint();
          bar?.log(`saved ${dir}`);
        }
        if (earlyStop) {
          bar?.log(`early stop: ${this.watched.name} did not improve in ${o.patience} evaluations (best ${this.bestMetric?.value} at step ${this.bestMetric?.step})`);
          stoppedBy = 'early-stop';
          break;
        }
        if (interrupted) {
          stoppedBy = 'interrupt';
          break;
        }
        if (stopAfter && !done) {
          stoppedBy = 'stopAfter';
          break;
        }
      }
      await plot();
      let finalDir: string | undefined;
      if (stoppedBy === 'done' || stoppedBy === 'early-stop') {
        const best = this.bestMetric;
        if (o.saveBest && best?.checkpoint && best.step !== this.store.step && existsSync(best.checkpoint)) {
          // The last state stays resumable; the final model is the best one.
          await this.checkpoint();
          finalDir = await this.finishWithBest({ ...best, checkpoint: best.checkpoint });
          bar?.log(`finished at step ${this.store.step}; the best model (${best.metric} ${best.value} at step ${best.step}) is ${finalDir}`);
        } else {
          finalDir = await this.checkpoint(true);
          bar?.log(`finished at step ${this.store.step}; checkpoint ${finalDir}`);
        }
      }
      return { step: this.store.step, losses, lastEval, stoppedBy, finalDir, bestEval: this.best, best: this.bestMetric };
    } finally {
      // End the bar's line, so what the caller prints next (results, an error) starts on a line of its own.
      bar?.finish();
      o.signal?.removeEventListener('abort', onAbort);
      log.close();
    }
  }
}

/** The evaluation graph of a loss and its head statistics. */
export function compileEval(backend: Backend, build: TrainerTask['evalOutputs'], store: ParameterStore): Promise<Forward> {
  return Forward.compile(backend, (g) => {
    const o = build(g);
    return { loss: o.loss, ...o.stats };
  }, store, 'eval');
}

/** Runs an evaluation graph over batches: the loss averaged over batches, head statistics summed into metrics. */
export async function evaluateBatches(fwd: Forward, batches: readonly Batch[]): Promise<EvalResult> {
  let sum = 0;
  const sums: Record<string, number> = {};
  for (const b of batches) {
    const out = await fwd.run(b);
    sum += Number(out.loss.data[0]);
    for (const [k, v] of Object.entries(out)) if (k !== 'loss') sums[k] = (sums[k] ?? 0) + Number(v.data[0]);
  }
  const loss = sum / batches.length;
  const metrics = metricsFromStats(sums);
  const lmLoss = metrics.lm_loss ?? metrics.mlm_loss ?? metrics.seq2seq_loss;
  return { loss, perplexity: Math.exp(lmLoss ?? loss), metrics };
}

/** The task metrics in eval records: every number but the loss, perplexity and the pretraining heads' statistics. */
function taskMetricNames(records: readonly LogRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records)
    if (r.kind === 'eval') for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !['step', 'loss', 'perplexity'].includes(k) && !/^(lm|mlm|nsp|sbo|seq2seq)_/.test(k)) names.add(k);
  return [...names];
}

/** Task metrics for the progress bar: "accuracy 81.2%, macro_f1 78.0%" (shares in percent). */
export function formatTaskMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => (/accuracy|f1|exact_match/.test(k) ? `${k} ${(100 * v).toFixed(1)}%` : `${k} ${v.toFixed(4)}`)).join(', ');
}

/** "eval loss 2.31, perplexity 10.07, masked-token accuracy 41.2%, NSP accuracy 78.0%" */
export function formatEval(e: EvalResult): string {
  const parts = [`eval loss ${e.loss.toFixed(4)}`, `perplexity ${e.perplexity.toFixed(2)}`];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (e.metrics.mlm_accuracy !== undefined) parts.push(`masked-token accuracy ${pct(e.metrics.mlm_accuracy)}`);
  if (e.metrics.nsp_accuracy !== undefined) parts.push(`NSP accuracy ${pct(e.metrics.nsp_accuracy)}`);
  if (e.metrics.sbo_accuracy !== undefined) parts.push(`SBO accuracy ${pct(e.metrics.sbo_accuracy)}`);
  if (e.metrics.seq2seq_accuracy !== undefined) parts.push(`target-token accuracy ${pct(e.metrics.seq2seq_accuracy)}`);
  return parts.join(', ');
}

// The training loop shared by every objective: schedule, gradient accumulation and clipping (in the compiled
// step), periodic evaluation and checkpoints (keep the last K), exact resume, a clean stop on Ctrl-C, a stop on a
// non-finite loss that keeps the last good checkpoint, a progress bar, log.jsonl and a loss-curve SVG.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../graph/index.js';
import type { Backend } from '../runtime/backend.js';
import { Forward, TrainStep, type Batch } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import type { OptimizerConfig } from '../runtime/optimizers.js';
import { checkpointDirName, keepLast, latestCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import type { JsonValue } from '../io/json.js';
import type { F32Tensor } from '../io/safetensors.js';
import { LogWriter, readLog, type LogRecord } from './log.js';
import { lossCurveSvg, lossPointsFromRecords } from './plot.js';
import { ProgressBar } from './progress.js';
import { learningRate, validateSchedule, type Decay } from './schedule.js';

/** Where training batches come from; its state goes into checkpoints so a resume continues the same stream. */
export interface BatchSource {
  next(): Batch;
  state(): JsonValue;
  restore(state: JsonValue): void;
}

export interface TrainerTask {
  /** Builds the training loss (train mode: dropout on) for one micro-batch. */
  trainLoss(g: Graph): Tensor;
  /** Builds the eval loss (eval mode) over the same inputs. */
  evalLoss(g: Graph): Tensor;
  train: BatchSource;
  /** Held-out batches, evaluated in full at each evaluation. */
  evalBatches?: () => Batch[];
  /** Tokens in one micro-batch (for tokens/s). */
  tokensPerMicroBatch: number;
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
  resume: boolean;
  /** Progress output; false silences the bar (tests). */
  progress?: boolean;
  /** What the progress bar calls this run (default "train"). */
  label?: string;
  /** Stop (and save) after this many steps of this run: lets tests interrupt a run. */
  stopAfter?: number;
}

export interface TrainResult {
  step: number;
  losses: number[];
  lastEval?: { loss: number; perplexity: number };
  stoppedBy: 'done' | 'interrupt' | 'nonfinite' | 'stopAfter';
  finalDir?: string;
}

export class Trainer {
  constructor(
    private readonly backend: Backend,
    private readonly store: ParameterStore,
    private readonly task: TrainerTask,
    private readonly o: TrainerOptions,
  ) {
    validateSchedule({ lr: o.lr, warmupSteps: o.warmup, maxSteps: o.maxSteps, decay: o.decay, minLrRatio: o.minLrRatio });
    if (!(o.gradAccum >= 1)) throw new Error(`--grad-accum must be >= 1, got ${o.gradAccum}`);
  }

  /** Restores weights, moments, counters and the data position from a checkpoint folder. */
  private async restore(dir: string): Promise<void> {
    const ck = await loadCheckpoint(dir, { requireTrainerState: true });
    for (const name of this.store.names()) {
      const w = ck.weights.get(name);
      if (!w) throw new Error(`${dir}/model.safetensors has no tensor "${name}"`);
      this.store.set(name, w.shape, w.data);
    }
    for (const [k, v] of ck.optimizer ?? []) this.store.state.set(k, v.data);
    const s = ck.trainerState as { step: number; microStep: number; seed: number; data: JsonValue };
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
    };
    await this.task.save(dir, { trainerState, optimizer }, final);
    await keepLast(this.o.outDir, this.o.keepLast);
    return dir;
  }

  private evalGraph?: Forward;

  async evaluate(): Promise<{ loss: number; perplexity: number } | undefined> {
    const batches = this.task.evalBatches?.();
    if (!batches?.length) return undefined;
    this.evalGraph ??= await Forward.compile(this.backend, (g) => ({ loss: this.task.evalLoss(g) }), this.store, 'eval');
    const fwd = this.evalGraph;
    let sum = 0;
    for (const b of batches) sum += Number((await fwd.run(b)).loss.data[0]);
    const loss = sum / batches.length;
    return { loss, perplexity: Math.exp(loss) };
  }

  async run(): Promise<TrainResult> {
    const o = this.o;
    await mkdir(o.outDir, { recursive: true });
    if (o.resume) {
      const last = await latestCheckpoint(o.outDir);
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
    const plot = () =>
      writeFile(path.join(o.outDir, 'loss.svg'), lossCurveSvg(lossPointsFromRecords(records), { title: `training loss (${path.basename(o.outDir)})` }));

    const step = await TrainStep.compile(this.backend, (g) => this.task.trainLoss(g), this.store, { optimizer: o.optimizer, gradClip: o.gradClip });
    const bar = o.progress === false ? undefined : new ProgressBar({ total: o.maxSteps, startStep: this.store.step, label: o.label ?? 'train' });
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      bar?.log('interrupt: finishing this step, saving a checkpoint, then exiting (Ctrl-C again to abort)');
    };
    process.on('SIGINT', onSigint);

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
        if (o.evalEvery > 0 && (this.store.step % o.evalEvery === 0 || done)) {
          lastEval = await this.evaluate();
          if (lastEval) {
            record({ kind: 'eval', step: this.store.step, loss: lastEval.loss, perplexity: lastEval.perplexity });
            bar?.log(`step ${this.store.step}: eval loss ${lastEval.loss.toFixed(4)}, perplexity ${lastEval.perplexity.toFixed(2)}`);
          }
          await plot();
        }
        const stopAfter = o.stopAfter !== undefined && ranThisRun >= o.stopAfter;
        if ((o.saveEvery > 0 && this.store.step % o.saveEvery === 0) || interrupted || stopAfter) {
          const dir = await this.checkpoint();
          bar?.log(`saved ${dir}`);
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
      if (stoppedBy === 'done') {
        finalDir = await this.checkpoint(true);
        bar?.log(`finished at step ${this.store.step}; checkpoint ${finalDir}`);
      }
      return { step: this.store.step, losses, lastEval, stoppedBy, finalDir };
    } finally {
      process.off('SIGINT', onSigint);
      log.close();
    }
  }
}

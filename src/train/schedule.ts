// Learning-rate schedules with linear warmup, matching Hugging Face's
// get_{cosine,linear,constant}_schedule_with_warmup (and, with minLrRatio,
// get_cosine_with_min_lr_schedule_with_warmup). No Node imports.

export type Decay = 'cosine' | 'linear' | 'constant';

export interface ScheduleOptions {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  warmupSteps: number;
  /** Total number of optimizer steps; the decay ends here. */
  maxSteps: number;
  decay: Decay;
  /** Floor as a fraction of lr for cosine/linear decay (HF min_lr_rate); 0 = decay to zero. */
  minLrRatio?: number;
}

/** The multiplier of the peak lr (HF's lr_lambda). */
export function lrFactor(step: number, opts: Omit<ScheduleOptions, 'lr'>): number {
  const { warmupSteps, maxSteps, decay } = opts;
  const minRatio = opts.minLrRatio ?? 0;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (decay === 'constant') return 1;
  // Clamped so that steps past maxSteps stay at the floor (HF's cosine would rise again).
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, maxSteps - warmupSteps));
  const f = decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return Math.max(0, minRatio + (1 - minRatio) * f);
}

/**
 * The learning rate for the optimizer update with index `step` (0-based: the
 * number of updates already done), as HF's LambdaLR yields it. With warmup,
 * step 0 therefore uses lr 0, as in HF.
 */
export function learningRate(step: number, opts: ScheduleOptions): number {
  return opts.lr * lrFactor(step, opts);
}

export function validateSchedule(opts: ScheduleOptions): void {
  if (!(opts.lr > 0)) throw new Error(`schedule: lr must be > 0, got ${opts.lr}`);
  if (!Number.isInteger(opts.warmupSteps) || opts.warmupSteps < 0) throw new Error(`schedule: warmupSteps must be an integer >= 0, got ${opts.warmupSteps}`);
  if (!Number.isInteger(opts.maxSteps) || opts.maxSteps < 1) throw new Error(`schedule: maxSteps must be an integer >= 1, got ${opts.maxSteps}`);
  const r = opts.minLrRatio ?? 0;
  if (!(r >= 0 && r <= 1)) throw new Error(`schedule: minLrRatio must be in [0, 1], got ${r}`);
}

// The optimizer steps of a run: the learning rate of each step from the schedule, grad-accum micro-batches from the
// stream, one compiled train step. The Trainer (checkpoints, logs, evaluation) and the browser playground both
// drive training through it, so the two see the same batches at the same learning rates. Pure: no Node imports.
import type { BatchStream } from '../objectives/objective.js';
import type { StepResult, TrainStep } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import { learningRate, type ScheduleOptions } from './schedule.js';

export interface StepsOptions extends ScheduleOptions {
  gradAccum: number;
}

/** Runs steps until the store's step reaches maxSteps, yielding each step's result and learning rate. */
export async function* optimizerSteps(step: TrainStep, store: ParameterStore, train: BatchStream, o: StepsOptions): AsyncGenerator<StepResult & { lr: number }> {
  while (store.step < o.maxSteps) {
    const lr = learningRate(store.step, o);
    const micro = Array.from({ length: o.gradAccum }, () => train.next());
    const r = await step.run(micro, lr);
    yield { ...r, lr };
  }
}

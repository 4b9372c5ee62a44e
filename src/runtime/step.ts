// Compiled steps. A train step is one ONNX graph: model + loss + autodiff + clipping + optimizer. With gradient
// accumulation two more graphs are used (accumulate gradients; apply the update), compiled once and reused for
// any number of micro-batches, so changing the accumulation count never recompiles.
import * as F from '../graph/index.js';
import { Graph, gradients, toOnnx, type Tensor } from '../graph/index.js';
import { scalarF32, scalarI64, type Backend, type HostTensor, type Session } from './backend.js';
import { appendUpdate, clipByGlobalNorm, stateKeys, type OptimizerConfig } from './optimizers.js';
import type { ParameterStore } from './store.js';

export type Batch = Record<string, HostTensor>;

/** Builds the model and its loss into `g`, declaring the data inputs it reads; returns the scalar loss. */
export type LossBuilder = (g: Graph) => Tensor;
/** Builds an inference or eval graph; returns its named outputs. */
export type OutputsBuilder = (g: Graph) => Record<string, Tensor>;

export const RNG_SEED = 'rng/seed';
export const RNG_STEP = 'rng/step';

/** The dropout seed and counter inputs (fed by the runtime from the store). */
export function rngInputs(g: Graph): { seed: Tensor; step: Tensor } {
  return { seed: g.inputOnce(RNG_SEED, 'int64', []), step: g.inputOnce(RNG_STEP, 'int64', []) };
}

const sessionCache = new Map<string, Promise<Session>>();

function fingerprint(bytes: Uint8Array): string {
  // FNV-1a over the serialised model: identical graphs share one session.
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return `${h.toString(16)}:${bytes.length}`;
}

async function session(backend: Backend, bytes: Uint8Array, profile = false, optimizedModelPath?: string): Promise<Session> {
  if (profile) return backend.createSession(bytes, { profile, optimizedModelPath });
  const key = `${backend.name}:${fingerprint(bytes)}`;
  let s = sessionCache.get(key);
  if (!s) {
    s = backend.createSession(bytes);
    sessionCache.set(key, s);
  }
  return s;
}

function feedsFor(s: Session, store: ParameterStore, extra: Record<string, HostTensor>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const name of s.inputNames) {
    if (extra[name]) feeds[name] = extra[name];
    else if (name === RNG_SEED) feeds[name] = scalarI64(store.seed);
    else if (name === RNG_STEP) feeds[name] = scalarI64(store.microStep);
    else if (store.params.has(name)) feeds[name] = store.tensor(name);
    else {
      const slash = name.indexOf('/');
      const param = name.slice(slash + 1);
      if (slash > 0 && store.params.has(param) && ['m', 'v', 'momentum'].includes(name.slice(0, slash)))
        feeds[name] = store.stateTensor(name, param);
      else throw new Error(`no value for graph input "${name}": not in the batch (${Object.keys(extra).join(', ')}) nor the parameter store`);
    }
  }
  return feeds;
}

function checkParams(g: Graph, store: ParameterStore): void {
  for (const [name, t] of g.params) {
    const shape = store.shapes.get(name);
    if (!shape) throw new Error(`the model declares parameter "${name}" [${t.shape}] but the store has no such parameter`);
    if (shape.join() !== t.shape.join()) throw new Error(`parameter "${name}": model expects [${t.shape}], store holds [${shape}]`);
  }
}

function num(t: HostTensor): number {
  return Number(t.data[0]);
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** Wall time of the ORT runs, in ms. */
  runMs: number;
}

export interface TrainStepOptions {
  optimizer: OptimizerConfig;
  /** Global-norm clipping threshold; none when undefined or 0. */
  gradClip?: number;
  /** Turn on ORT's profiler for the fused graph (benchmarks). */
  profile?: boolean;
  /** Where ORT writes the optimised fused graph (with `profile`). */
  optimizedModelPath?: string;
}

export class TrainStep {
  private accumulate?: Session;
  private apply?: Session;
  private zeroSums?: Record<string, HostTensor>;
  private constructor(
    private readonly backend: Backend,
    private readonly build: LossBuilder,
    private readonly store: ParameterStore,
    private readonly opts: TrainStepOptions,
    readonly fused: Session,
    readonly paramNames: string[],
    private readonly decay: Map<string, boolean>,
  ) {}

  static async compile(backend: Backend, build: LossBuilder, store: ParameterStore, opts: TrainStepOptions): Promise<TrainStep> {
    const g = new Graph('train_step');
    const loss = build(g);
    checkParams(g, store);
    const names = [...g.params.keys()];
    const decay = new Map(names.map((n) => [n, !g.paramInfo.get(n)!.noDecay]));
    const ps = names.map((n) => g.params.get(n)!);
    const lr = g.input('opt/lr', 'float32', []);
    const t = g.input('opt/t', 'float32', []);
    const raw = gradients(loss, ps);
    const { norm, updates } = g.scope('optimizer', 'optimizer', () => {
      const clipped = clipByGlobalNorm(raw, opts.gradClip);
      return { ...clipped, updates: appendUpdate(g, opts.optimizer, names.map((name, i) => ({ name, value: ps[i], grad: clipped.grads[i], decay: decay.get(name)! })), lr, t) };
    });
    g.output('loss', loss);
    g.output('grad_norm', norm);
    for (const [k, t] of updates) g.output(k, t);
    const s = await session(backend, toOnnx(g).bytes, opts.profile, opts.optimizedModelPath);
    return new TrainStep(backend, build, store, opts, s, names, decay);
  }

  /** One optimizer update from one or more micro-batches (gradients summed, then averaged). */
  async run(micro: Batch[], lr: number): Promise<StepResult> {
    if (micro.length === 0) throw new Error('train step: no micro-batches');
    const t0 = performance.now();
    const hyper = { 'opt/lr': scalarF32(lr), 'opt/t': scalarF32(this.store.step + 1) };
    let loss: number;
    let out: Record<string, HostTensor>;
    if (micro.length === 1) {
      out = await this.fused.run(feedsFor(this.fused, this.store, { ...micro[0], ...hyper }));
      loss = num(out.loss);
      this.store.microStep++;
    } else {
      await this.compileAccumulation();
      // ORT never writes its inputs, so one set of zero sums serves every step.
      let acc: Record<string, HostTensor> = (this.zeroSums ??= Object.fromEntries(
        this.paramNames.map((n) => [`acc/${n}`, { dtype: 'float32' as const, shape: this.store.shapes.get(n)!, data: new Float32Array(this.store.get(n).length) }]),
      ));
      loss = 0;
      for (const b of micro) {
        const r = await this.accumulate!.run(feedsFor(this.accumulate!, this.store, { ...b, ...acc }));
        loss += num(r.loss) / micro.length;
        acc = {};
        for (const n of this.paramNames) acc[`acc/${n}`] = r[`acc_out/${n}`];
        this.store.microStep++;
      }
      out = await this.apply!.run(feedsFor(this.apply!, this.store, { ...acc, ...hyper, 'opt/scale': scalarF32(1 / micro.length) }));
    }
    this.swap(out);
    this.store.step++;
    return { loss, gradNorm: num(out.grad_norm), runMs: performance.now() - t0 };
  }

  private swap(out: Record<string, HostTensor>): void {
    for (const n of this.paramNames) {
      this.store.params.set(n, out[`new/${n}`].data as Float32Array);
      for (const k of stateKeys(this.opts.optimizer, n)) this.store.state.set(k, out[`new/${k}`].data as Float32Array);
    }
  }

  private async compileAccumulation(): Promise<void> {
    if (this.accumulate) return;
    const ga = new Graph('accumulate_gradients');
    const loss = this.build(ga);
    const ps = this.paramNames.map((n) => ga.params.get(n)!);
    const grads = gradients(loss, ps);
    ga.output('loss', loss);
    this.paramNames.forEach((n, i) => ga.output(`acc_out/${n}`, F.add(ga.input(`acc/${n}`, 'float32', ps[i].shape as number[]), grads[i])));
    this.accumulate = await session(this.backend, toOnnx(ga).bytes);

    const gu = new Graph('apply_update');
    const scale = gu.input('opt/scale', 'float32', []);
    const values = this.paramNames.map((n) => gu.param(n, this.store.shapes.get(n)!));
    const summed = this.paramNames.map((n, i) => F.mul(gu.input(`acc/${n}`, 'float32', values[i].shape as number[]), scale));
    const { grads: clipped, norm } = clipByGlobalNorm(summed, this.opts.gradClip);
    const updates = appendUpdate(
      gu,
      this.opts.optimizer,
      this.paramNames.map((name, i) => ({ name, value: values[i], grad: clipped[i], decay: this.decay.get(name)! })),
      gu.input('opt/lr', 'float32', []),
      gu.input('opt/t', 'float32', []),
    );
    gu.output('grad_norm', norm);
    for (const [k, t] of updates) gu.output(k, t);
    this.apply = await session(this.backend, toOnnx(gu).bytes);
  }
}

/** An eval or inference graph over the same parameter store. */
export class Forward {
  private constructor(
    private readonly store: ParameterStore,
    readonly session: Session,
  ) {}

  static async compile(backend: Backend, build: OutputsBuilder, store: ParameterStore, name = 'forward'): Promise<Forward> {
    const g = new Graph(name);
    const outs = build(g);
    checkParams(g, store);
    for (const [k, t] of Object.entries(outs)) g.output(k, t);
    return new Forward(store, await session(backend, toOnnx(g).bytes));
  }

  run(batch: Batch, fetch?: string[]): Promise<Record<string, HostTensor>> {
    return this.session.run(feedsFor(this.session, this.store, batch), fetch);
  }
}

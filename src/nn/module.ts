// Modules with named parameters. A module declares its parameters (name, shape, init, decay) when constructed;
// calling it with a Ctx builds graph ops and binds its parameters as inputs of that graph. Names are joined with
// dots, so a model's tree of modules produces Hugging Face checkpoint names.
import type { Graph, Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';

export type Init = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' } | { kind: 'uniform'; bound: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** Exempt from weight decay (biases, norms, embeddings). */
  noDecay: boolean;
}

/** The floating-point type a model computes in: float32 always, except float64 for gradient checks. */
export type FloatDType = 'float32' | 'float64';

/**
 * What a forward pass builds into: the graph, train/eval mode, dropout state, and the float type of the parameters
 * (and of every float the model makes itself, such as masks and RoPE tables).
 */
export class Ctx {
  private salt = 0;
  constructor(
    readonly g: Graph,
    readonly train = false,
    readonly dropoutP = 0,
    readonly dtype: FloatDType = 'float32',
    /** Recompute each block's forward in the backward (Hugging Face's gradient_checkpointing), in training. */
    readonly gradientCheckpointing = false,
  ) {}

  /**
   * One transformer block (`prefix` is its parameter prefix): its residual adds are tagged as such for profiles,
   * and with gradient checkpointing it is one recomputed segment.
   */
  block<T>(prefix: string, build: () => T): T {
    return this.g.scope('residual', prefix, () => (this.train && this.gradientCheckpointing ? this.g.segment(build) : build()));
  }

  /** Dropout with a distinct hash salt per call site; identity in eval mode. */
  dropout(x: Tensor, p = this.dropoutP): Tensor {
    if (!this.train || p <= 0) return x;
    const seed = this.g.inputOnce('rng/seed', 'int64', []);
    const step = this.g.inputOnce('rng/step', 'int64', []);
    return F.dropout(x, p, seed, step, ++this.salt);
  }
}

export class Param {
  constructor(readonly spec: ParamSpec) {}
  /** This parameter as an input of the context's graph, in the context's float type. */
  in(ctx: Ctx): Tensor {
    const t = ctx.g.param(this.spec.name, this.spec.shape, { noDecay: this.spec.noDecay, dtype: ctx.dtype });
    if (t.dtype !== ctx.dtype) throw new Error(`parameter "${this.spec.name}" declared as ${t.dtype} and ${ctx.dtype} in one graph`);
    return t;
  }
}

export function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

export class Module {
  private readonly own: Param[] = [];
  private readonly children: Module[] = [];
  constructor(readonly prefix: string) {}

  protected param(name: string, shape: number[], init: Init, noDecay = false): Param {
    const p = new Param({ name: join(this.prefix, name), shape, init, noDecay });
    this.own.push(p);
    return p;
  }

  protected child<M extends Module>(m: M): M {
    this.children.push(m);
    return m;
  }

  /** Every parameter below this module, once each (tied parameters appear once). */
  parameters(): ParamSpec[] {
    const seen = new Map<string, ParamSpec>();
    const visit = (m: Module) => {
      for (const p of m.own) if (!seen.has(p.spec.name)) seen.set(p.spec.name, p.spec);
      m.children.forEach(visit);
    };
    visit(this);
    return [...seen.values()];
  }
}

// The basic layers, with Hugging Face's parameter names and weight layouts.
import type { Tensor } from '../graph/index.js';
import * as F from '../graph/index.js';
import { Ctx, Module, type Param } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  /**
   * 'out_in' is torch.nn.Linear's [out, in] weight (y = x W^T + b); 'in_out' is GPT-2's Conv1D [in, out]
   * (y = x W + b).
   */
  layout?: 'out_in' | 'in_out';
  std?: number;
}

export class Linear extends Module {
  readonly weight: Param;
  readonly bias?: Param;
  readonly layout: 'out_in' | 'in_out';
  constructor(prefix: string, readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super(prefix);
    this.layout = opts.layout ?? 'out_in';
    const shape = this.layout === 'out_in' ? [outFeatures, inFeatures] : [inFeatures, outFeatures];
    this.weight = this.param('weight', shape, { kind: 'normal', std: opts.std ?? 0.02 });
    if (opts.bias ?? true) this.bias = this.param('bias', [outFeatures], { kind: 'zeros' }, true);
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.g.scope(undefined, this.prefix, () => {
      const w = this.weight.in(ctx);
      const y = F.matmul(x, this.layout === 'out_in' ? F.transpose(w) : w);
      return this.bias ? F.add(y, this.bias.in(ctx)) : y;
    });
  }
}

export class Embedding extends Module {
  readonly weight: Param;
  constructor(prefix: string, readonly num: number, readonly dim: number, opts: { std?: number; decay?: boolean } = {}) {
    super(prefix);
    this.weight = this.param('weight', [num, dim], { kind: 'normal', std: opts.std ?? 0.02 }, !(opts.decay ?? false));
  }

  forward(ctx: Ctx, ids: Tensor): Tensor {
    return ctx.g.scope('embedding', this.prefix, () => F.gather(this.weight.in(ctx), ids, 0));
  }

  /** hidden @ weight^T: an output projection tied to this embedding. */
  attend(ctx: Ctx, hidden: Tensor): Tensor {
    return ctx.g.scope('lm_head', this.prefix, () => F.matmul(hidden, F.transpose(this.weight.in(ctx))));
  }
}

export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(prefix: string, readonly dim: number, readonly eps = 1e-5) {
    super(prefix);
    this.weight = this.param('weight', [dim], { kind: 'ones' }, true);
    this.bias = this.param('bias', [dim], { kind: 'zeros' }, true);
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.g.scope('norm', this.prefix, () => F.layerNorm(x, this.weight.in(ctx), this.bias.in(ctx), this.eps));
  }
}

export class RMSNorm extends Module {
  readonly weight: Param;
  constructor(prefix: string, readonly dim: number, readonly eps = 1e-6) {
    super(prefix);
    this.weight = this.param('weight', [dim], { kind: 'ones' }, true);
  }

  forward(ctx: Ctx, x: Tensor): Tensor {
    return ctx.g.scope('norm', this.prefix, () => F.rmsNorm(x, this.weight.in(ctx), this.eps));
  }
}

export type Activation = 'gelu' | 'gelu_new' | 'relu' | 'silu';

export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'gelu': return F.gelu(x, 'none');
    case 'gelu_new': return F.gelu(x, 'tanh');
    case 'relu': return F.relu(x);
    case 'silu': return F.silu(x);
  }
}

// Optimizers appended to the training graph, so one ORT run does forward, backward and update. The learning rate
// and the step count are graph inputs: schedules change them every step without recompiling.
import * as F from '../graph/index.js';
import type { Graph, Tensor } from '../graph/index.js';

export interface AdamWConfig {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (Loshchilov & Hutter), skipped for parameters declared noDecay. */
  weightDecay: number;
}
export interface SgdConfig {
  kind: 'sgd';
  momentum: number;
  weightDecay: number;
}
export type OptimizerConfig = AdamWConfig | SgdConfig;

export const defaultAdamW: AdamWConfig = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export function stateKeys(cfg: OptimizerConfig, param: string): string[] {
  return cfg.kind === 'adamw' ? [`m/${param}`, `v/${param}`] : cfg.momentum ? [`momentum/${param}`] : [];
}

/** Global-norm clipping as torch.nn.utils.clip_grad_norm_: scale by min(1, maxNorm / (norm + 1e-6)). */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number | undefined): { grads: Tensor[]; norm: Tensor } {
  const squares = grads.map((g) => F.sumAll(F.mul(g, g)));
  const norm = F.sqrt(squares.reduce((a, b) => F.add(a, b)));
  if (maxNorm === undefined || !(maxNorm > 0)) return { grads, norm };
  const coef = F.minimum(F.div(maxNorm, F.add(norm, 1e-6)), 1);
  return { grads: grads.map((g) => F.mul(g, coef)), norm };
}

export interface ParamUpdate {
  name: string;
  value: Tensor;
  grad: Tensor;
  decay: boolean;
}

/**
 * Appends the update and returns the new values by output name: `new/<param>` and `new/<state key>`.
 * `lr` is a float scalar input, `t` the 1-based step as a float scalar input (for Adam's bias correction).
 */
export function appendUpdate(g: Graph, cfg: OptimizerConfig, ps: ParamUpdate[], lr: Tensor, t: Tensor): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  if (cfg.kind === 'adamw') {
    // torch.optim.AdamW: p *= 1 - lr*wd; m, v updated; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
    const bc1 = F.sub(1, F.pow(F.scalar(g, cfg.beta1, 'float32'), t));
    const bc2 = F.sub(1, F.pow(F.scalar(g, cfg.beta2, 'float32'), t));
    const stepSize = F.div(lr, bc1);
    const sqrtBc2 = F.sqrt(bc2);
    for (const p of ps) {
      const shape = p.value.shape as number[];
      const m = g.input(`m/${p.name}`, 'float32', shape);
      const v = g.input(`v/${p.name}`, 'float32', shape);
      const m2 = F.add(F.mul(m, cfg.beta1), F.mul(p.grad, 1 - cfg.beta1));
      const v2 = F.add(F.mul(v, cfg.beta2), F.mul(F.mul(p.grad, p.grad), 1 - cfg.beta2));
      const decayed = p.decay && cfg.weightDecay ? F.mul(p.value, F.sub(1, F.mul(lr, cfg.weightDecay))) : p.value;
      const denom = F.add(F.div(F.sqrt(v2), sqrtBc2), cfg.eps);
      out.set(`new/${p.name}`, F.sub(decayed, F.mul(stepSize, F.div(m2, denom))));
      out.set(`new/m/${p.name}`, m2);
      out.set(`new/v/${p.name}`, v2);
    }
  } else {
    // torch.optim.SGD (dampening 0): g += wd*p; buf = momentum*buf + g; p -= lr*buf.
    for (const p of ps) {
      let grad = p.decay && cfg.weightDecay ? F.add(p.grad, F.mul(p.value, cfg.weightDecay)) : p.grad;
      if (cfg.momentum) {
        const buf = g.input(`momentum/${p.name}`, 'float32', p.value.shape as number[]);
        grad = F.add(F.mul(buf, cfg.momentum), grad);
        out.set(`new/momentum/${p.name}`, grad);
      }
      out.set(`new/${p.name}`, F.sub(p.value, F.mul(lr, grad)));
    }
  }
  return out;
}

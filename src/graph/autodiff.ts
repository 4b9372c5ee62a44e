// Reverse-mode autodiff: walks the nodes that lead to the loss in reverse order and appends each op's gradient
// rule to the same graph, so the backward pass is ordinary ONNX ops (the CPU build of ORT has no gradient ops).
import { dimEq, shapeStr } from './shape.js';
import type { Node, Tensor } from './tensor.js';
import { add } from './ops/elementwise.js';
import { fill } from './ops/shape.js';

/** d(loss)/d(t) for each tensor in `wrt` (a zero tensor where the loss does not depend on it). */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const g = loss.graph;
  // Nodes the loss depends on, through tensors that carry a gradient.
  const relevant = new Set<Node>();
  const stack = [loss];
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id) || !t.requiresGrad || !t.producer) continue;
    seen.add(t.id);
    relevant.add(t.producer);
    stack.push(...t.producer.inputs);
  }
  const order = [...relevant].sort((a, b) => b.id - a.id);

  const parts = new Map<number, Tensor[]>();
  const contribute = (t: Tensor, d: Tensor) => {
    if (d.rank !== t.rank || d.shape.some((s, i) => !dimEq(s, t.shape[i])))
      throw new Error(`autodiff: gradient of shape ${shapeStr(d.shape)} for a tensor of shape ${shapeStr(t.shape)}`);
    const list = parts.get(t.id);
    if (list) list.push(d);
    else parts.set(t.id, [d]);
  };
  const total = (t: Tensor): Tensor | undefined => {
    const list = parts.get(t.id);
    if (!list) return undefined;
    const sum = list.reduce((a, b) => add(a, b));
    parts.set(t.id, [sum]);
    return sum;
  };

  contribute(loss, seed ?? fill(g, loss.dtype, [...loss.shape], 1));
  for (const node of order) {
    const dOut = node.outputs.map(total);
    if (dOut.every((d) => d === undefined)) continue;
    const dIn = node.op.grad!(node, dOut);
    node.inputs.forEach((x, i) => {
      const d = dIn[i];
      if (d && x.requiresGrad) contribute(x, d);
    });
  }
  return wrt.map((t) => total(t) ?? fill(g, t.dtype, [...t.shape], 0));
}

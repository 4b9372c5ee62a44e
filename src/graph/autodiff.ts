// Reverse-mode autodiff: walks the nodes that lead to the loss in reverse order and appends each op's gradient
// rule to the same graph, so the backward pass is ordinary ONNX ops (the CPU build of ORT has no gradient ops).
import { dimEq, shapeStr } from './shape.js';
import { isFloat } from './dtype.js';
import type { Node, Tensor } from './tensor.js';
import { add, cast, mul } from './ops/elementwise.js';
import { fill, reshape, slice } from './ops/shape.js';

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

  // Checkpoint segments: each segment's forward is re-emitted once, when the backward first reaches it, and its
  // nodes' gradient rules read the recomputed tensors instead of the forward's.
  const recomputed = new Map<number, Map<number, Node>>();
  const recompute = (segment: number, dOut: Tensor): Map<number, Node> => {
    const nodes = g.nodes.filter((n) => n.segment === segment);
    const inside = new Set(nodes.flatMap((n) => n.outputs.map((t) => t.id)));
    // The recomputation reads its activations through `x + 0 * dOut[0]`: a data dependency on the incoming gradient,
    // so ORT runs it in the backward (not beside the forward) and cannot merge it with the forward's identical ops.
    const gate = mul(slice(reshape(dOut, [-1]), 0, 0, 1), 0);
    const map = new Map<number, Tensor>();
    const mapped = (x: Tensor): Tensor => {
      let y = map.get(x.id);
      if (y) return y;
      y = !inside.has(x.id) && x.kind === 'op' && isFloat(x.dtype) ? add(x, gate.dtype === x.dtype ? gate : cast(gate, x.dtype)) : x;
      map.set(x.id, y);
      return y;
    };
    const clones = new Map<number, Node>();
    for (const n of nodes) {
      const outs = g.inScope(n.scope && { ...n.scope, backward: true }, () => g.apply(n.op, n.inputs.map(mapped), n.attrs));
      n.outputs.forEach((t, i) => map.set(t.id, outs[i]));
      clones.set(n.id, outs[0].producer!);
    }
    return clones;
  };
  const forwardOf = (node: Node, dOut: readonly (Tensor | undefined)[]): Node => {
    if (node.segment === undefined) return node;
    let clones = recomputed.get(node.segment);
    if (!clones) {
      clones = recompute(node.segment, dOut.find((d) => d !== undefined)!);
      recomputed.set(node.segment, clones);
    }
    return clones.get(node.id)!;
  };

  contribute(loss, seed ?? fill(g, loss.dtype, [...loss.shape], 1));
  for (const node of order)
    g.inScope(node.scope && { ...node.scope, backward: true }, () => {
      const dOut = node.outputs.map(total);
      if (dOut.every((d) => d === undefined)) return;
      const fwd = forwardOf(node, dOut);
      const dIn = fwd.op.grad!(fwd, dOut);
      node.inputs.forEach((x, i) => {
        const d = dIn[i];
        if (d && x.requiresGrad) contribute(x, d);
      });
    });
  return wrt.map((t) => total(t) ?? fill(g, t.dtype, [...t.shape], 0));
}

// Symbolic tensors and the graph that records the ops applied to them. Building a graph never touches data:
// a Tensor is a dtype, a shape and the node that produces it.
import type { AnyTypedArray, DType } from './dtype.js';
import type { Dim } from './shape.js';
import type { Lowering } from './lower.js';

export type AttrValue = number | string | boolean | readonly number[] | readonly Dim[];
export type Attrs = Record<string, AttrValue | undefined>;

export interface OutputSpec {
  dtype: DType;
  shape: Dim[];
}

/**
 * One op: its shape rule (`infer`), how it becomes ONNX nodes (`lower`) and its gradient rule (`grad`), which
 * builds the backward with the same op builders. Ops without `grad` are not differentiable (masks, indices).
 */
export interface OpDef<A extends Attrs = Attrs> {
  readonly type: string;
  infer(inputs: readonly Tensor[], attrs: A): OutputSpec[];
  lower(l: Lowering, node: Node<A>): void;
  grad?(node: Node<A>, dOutputs: readonly (Tensor | undefined)[]): (Tensor | undefined)[];
}

/**
 * Which module built a node: `part` is the model part (embedding, attention, mlp, norm, lm_head, optimizer) of the
 * innermost scope that names one, `path` the module's parameter prefix, `backward` true for gradient nodes. ONNX
 * node names carry it (see `scopeLabel`), so ORT's per-node profile can be folded by part.
 */
export interface Scope {
  part: string;
  path: string;
  backward: boolean;
}

/** `part/fwd|bwd/path`: the prefix of the ONNX node and tensor names a scope's nodes get. */
export function scopeLabel(s: Scope): string {
  return `${s.part}/${s.backward ? 'bwd' : 'fwd'}/${s.path}`;
}

export class Node<A extends Attrs = Attrs> {
  readonly outputs: Tensor[] = [];
  constructor(
    readonly id: number,
    readonly op: OpDef<A>,
    readonly inputs: readonly Tensor[],
    readonly attrs: A,
    readonly scope?: Scope,
    /** The checkpoint segment this node belongs to: its forward is recomputed in the backward (see `Graph.segment`). */
    readonly segment?: number,
  ) {}
}

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    /** The node that produces this tensor; undefined for graph inputs and constants. */
    readonly producer: Node | undefined,
    readonly outputIndex: number,
    readonly kind: 'op' | 'input' | 'param' | 'const',
    readonly name?: string,
    readonly value?: AnyTypedArray,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** True when a gradient can flow into this tensor from a parameter. */
  requiresGrad = false;
}

export interface ParamInfo {
  shape: number[];
  /** Excluded from weight decay (biases, norms, embeddings by convention). */
  noDecay: boolean;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params = new Map<string, Tensor>();
  readonly paramInfo = new Map<string, ParamInfo>();
  readonly outputs = new Map<string, Tensor>();
  readonly constants: Tensor[] = [];
  private nextId = 0;
  private currentScope?: Scope;
  private currentSegment?: number;
  private segments = 0;

  constructor(readonly name = 'graph') {}

  /**
   * Runs `build` with its nodes tagged as built by module `path`; `part` names the model part, or undefined to keep
   * the enclosing scope's part (a Linear inside attention is attention).
   */
  scope<T>(part: string | undefined, path: string, build: () => T): T {
    const outer = this.currentScope;
    this.currentScope = { part: part ?? outer?.part ?? 'other', path, backward: outer?.backward ?? false };
    try {
      return build();
    } finally {
      this.currentScope = outer;
    }
  }

  /** Runs `build` (a gradient rule) with its nodes tagged as the backward of `s`. */
  inScope<T>(s: Scope | undefined, build: () => T): T {
    const outer = this.currentScope;
    this.currentScope = s;
    try {
      return build();
    } finally {
      this.currentScope = outer;
    }
  }

  /**
   * Gradient checkpointing: the nodes `build` adds form one segment, whose internal activations the backward does
   * not read; autodiff recomputes the segment's forward from its inputs when the gradient reaches it, so only the
   * tensors crossing the segment's boundary stay alive between forward and backward. Segments do not nest (an
   * inner call joins the outer segment).
   */
  segment<T>(build: () => T): T {
    if (this.currentSegment !== undefined) return build();
    this.currentSegment = this.segments++;
    try {
      return build();
    } finally {
      this.currentSegment = undefined;
    }
  }

  input(name: string, dtype: DType, shape: Dim[]): Tensor {
    if (this.inputs.some((t) => t.name === name)) throw new Error(`graph input "${name}" declared twice`);
    const t = new Tensor(this, this.nextId++, dtype, shape, undefined, 0, 'input', name);
    this.inputs.push(t);
    return t;
  }

  /** The input called `name`, declared on first use (shared inputs such as the dropout seed). */
  inputOnce(name: string, dtype: DType, shape: Dim[]): Tensor {
    return this.inputs.find((t) => t.name === name) ?? this.input(name, dtype, shape);
  }

  /** A trainable parameter, fed from the parameter store on every run. Declaring a name twice returns the same tensor. */
  param(name: string, shape: number[], opts: { noDecay?: boolean; dtype?: DType } = {}): Tensor {
    const existing = this.params.get(name);
    if (existing) {
      if (existing.shape.join() !== shape.join())
        throw new Error(`parameter "${name}" declared with shapes [${existing.shape}] and [${shape}]`);
      return existing;
    }
    const t = new Tensor(this, this.nextId++, opts.dtype ?? 'float32', shape, undefined, 0, 'param', name);
    t.requiresGrad = true;
    this.params.set(name, t);
    this.paramInfo.set(name, { shape, noDecay: opts.noDecay ?? false });
    return t;
  }

  constant(value: AnyTypedArray, dtype: DType, shape: number[]): Tensor {
    const t = new Tensor(this, this.nextId++, dtype, shape, undefined, 0, 'const', undefined, value);
    this.constants.push(t);
    return t;
  }

  output(name: string, t: Tensor): Tensor {
    if (t.graph !== this) throw new Error(`output "${name}" belongs to another graph`);
    if (this.params.has(name) || this.inputs.some((i) => i.name === name))
      throw new Error(`output "${name}" has the name of a graph input; ONNX names must be unique`);
    this.outputs.set(name, t);
    return t;
  }

  apply<A extends Attrs>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    for (const x of inputs)
      if (x.graph !== this) throw new Error(`${op.type}: an input belongs to another graph`);
    const specs = op.infer(inputs, attrs);
    const node = new Node<A>(this.nodes.length, op, inputs, attrs, this.currentScope, this.currentSegment);
    const differentiable = op.grad !== undefined && inputs.some((x) => x.requiresGrad);
    specs.forEach((s, i) => {
      const t = new Tensor(this, this.nextId++, s.dtype, s.shape, node as unknown as Node, i, 'op');
      t.requiresGrad = differentiable;
      node.outputs.push(t);
    });
    this.nodes.push(node as unknown as Node);
    return node.outputs;
  }
}

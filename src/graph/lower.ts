// Turns a Graph into an ONNX ModelProto. Opset 21 with IR version 10: opset 21 is the newest for which the
// onnxruntime-node 1.30 CPU build still has every kernel we emit (its random ops stop at 21, and we keep the door
// open to them), it has Gelu (20), LayerNormalization (17), ScatterND with reduction (18), and onnxruntime-web
// and transformers.js load it. IR 10 is the IR version that introduced opset 21.
import { AttributeType, ModelProto } from './onnx-proto.js';
import { onnxDataType, scalarArray, type AnyTypedArray, type DType } from './dtype.js';
import { dimSymbols, type Dim } from './shape.js';
import { scopeLabel, type Graph, type Node, type Tensor } from './tensor.js';

export const OPSET = 21;
export const IR_VERSION = 10;

export type OnnxAttr =
  | ['int', number]
  | ['float', number]
  | ['string', string]
  | ['ints', readonly number[]]
  | ['floats', readonly number[]]
  | ['tensor', { dtype: DType; value: AnyTypedArray }];

interface NodeProtoJson {
  op_type: string;
  domain?: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

interface TensorProtoJson {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

function rawBytes(v: AnyTypedArray): Uint8Array {
  // ONNX raw_data is little-endian, as are the machines ORT runs on.
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function encodeAttr(name: string, a: OnnxAttr): Record<string, unknown> {
  switch (a[0]) {
    case 'int': return { name, type: AttributeType.INT, i: a[1] };
    case 'float': return { name, type: AttributeType.FLOAT, f: a[1] };
    case 'string': return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a[1]) };
    case 'ints': return { name, type: AttributeType.INTS, ints: [...a[1]] };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: [...a[1]] };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: { dims: [1], data_type: onnxDataType[a[1].dtype], raw_data: rawBytes(a[1].value) } };
  }
}

/** What an op's `lower` writes through: ONNX nodes, constants and run-time shape tensors. */
export class Lowering {
  readonly nodes: NodeProtoJson[] = [];
  readonly initializers: TensorProtoJson[] = [];
  private readonly names = new Map<number, string>();
  private readonly constCache = new Map<string, string>();
  private readonly symbolSources = new Map<string, { input: string; axis: number }>();
  private readonly dimCache = new Map<string, string>();
  private counter = 0;
  /** The scope label of the node being lowered: the prefix of the ONNX names it gets. */
  scope = '';

  constructor(inputs: readonly Tensor[]) {
    for (const t of inputs)
      t.shape.forEach((d, axis) => {
        if (typeof d === 'string' && !d.includes('*') && !this.symbolSources.has(d))
          this.symbolSources.set(d, { input: t.name!, axis });
      });
  }

  /** A symbol whose value is known only once `tensor` (an op's output) is computed: its length along `axis`. */
  declareSymbol(symbol: string, tensor: string, axis: number): void {
    if (this.symbolSources.has(symbol)) throw new Error(`dimension "${symbol}" is declared twice`);
    this.symbolSources.set(symbol, { input: tensor, axis });
  }

  setName(t: Tensor, name: string): void {
    this.names.set(t.id, name);
  }

  name(t: Tensor): string {
    let n = this.names.get(t.id);
    if (n === undefined) {
      // First named by its producer's lowering, so an op output carries the producer's scope.
      n = t.name ?? `${this.scope && `${this.scope}/`}t${t.id}`;
      this.names.set(t.id, n);
    }
    return n;
  }

  /** A fresh name; op outputs carry the scope label, so fused nodes in ORT's profile still say where they came from. */
  tmp(prefix = 'tmp', scoped = true): string {
    return `${scoped && this.scope ? `${this.scope}/` : ''}_${prefix}${this.counter++}`;
  }

  add(opType: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttr> = {}, domain = ''): void {
    this.nodes.push({
      op_type: opType,
      domain,
      name: `${this.scope && `${this.scope}/`}${opType}_${this.nodes.length}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
  }

  /** One node with one fresh output; returns the output's name. */
  emit(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}, domain = ''): string {
    const out = this.tmp(opType);
    this.add(opType, inputs, [out], attrs, domain);
    return out;
  }

  initializer(name: string, dtype: DType, dims: readonly number[], value: AnyTypedArray): void {
    this.initializers.push({ name, dims: [...dims], data_type: onnxDataType[dtype], raw_data: rawBytes(value) });
  }

  constI64(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar}:${values.join(',')}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.tmp('c', false);
      this.initializer(n, 'int64', scalar ? [] : [values.length], BigInt64Array.from(values.map(BigInt)));
      this.constCache.set(key, n);
    }
    return n;
  }

  constScalar(value: number, dtype: DType): string {
    const key = `${dtype}:${value}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.tmp('c', false);
      this.initializer(n, dtype, [], scalarArray(value, dtype));
      this.constCache.set(key, n);
    }
    return n;
  }

  /** A 1-D int64 tensor holding the run-time value of a dim. */
  private dimValue(d: Dim): string {
    const key = String(d);
    let n = this.dimCache.get(key);
    if (n) return n;
    if (typeof d === 'number') return this.constI64([d]);
    const { coef, syms } = dimSymbols(d);
    let acc: string | undefined = coef === 1 ? undefined : this.constI64([coef]);
    for (const s of syms) {
      const src = this.symbolSources.get(s);
      if (!src) throw new Error(`dimension "${s}" is not declared by any graph input, so its value is unknown at run time`);
      let v = this.dimCache.get(s);
      if (!v) {
        v = this.emit('Shape', [src.input], { start: ['int', src.axis], end: ['int', src.axis + 1] });
        this.dimCache.set(s, v);
      }
      acc = acc === undefined ? v : this.emit('Mul', [acc, v]);
    }
    n = acc ?? this.constI64([1]);
    this.dimCache.set(key, n);
    return n;
  }

  /** A 1-D int64 shape tensor for `shape`, computed at run time where it has symbols. */
  shape(shape: readonly Dim[]): string {
    if (shape.every((d) => typeof d === 'number')) return this.constI64(shape as number[]);
    const key = `shape:${shape.join(',')}`;
    let n = this.dimCache.get(key);
    if (!n) {
      n = this.emit('Concat', shape.map((d) => this.dimValue(d)), { axis: ['int', 0] });
      this.dimCache.set(key, n);
    }
    return n;
  }
}

function valueInfo(name: string, dtype: DType, shape: readonly Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: onnxDataType[dtype],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export interface LoweredModel {
  bytes: Uint8Array;
  /** Inputs the model actually reads (unused ones are pruned), in order. */
  inputNames: string[];
  outputNames: string[];
}

/** Serialise the part of `graph` that its outputs depend on. */
export function toOnnx(graph: Graph, opts: { metadata?: Record<string, string>; docString?: string } = {}): LoweredModel {
  const outputs = [...graph.outputs.entries()];
  if (outputs.length === 0) throw new Error(`graph "${graph.name}" has no outputs`);

  // Keep only what the outputs need.
  const live = new Set<Node>();
  const usedLeaves = new Set<Tensor>();
  const stack: Tensor[] = outputs.map(([, t]) => t);
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.producer) {
      live.add(t.producer);
      stack.push(...t.producer.inputs);
    } else usedLeaves.add(t);
  }
  const leafInputs = [...graph.inputs, ...graph.params.values()].filter((t) => usedLeaves.has(t));
  // Symbols are read from declared inputs even if unused otherwise, so keep every input that names a symbol.
  const symbolic = [...graph.inputs].filter((t) => !usedLeaves.has(t) && t.shape.some((d) => typeof d === 'string'));

  const l = new Lowering([...leafInputs, ...symbolic]);
  const claimed = new Set<number>();
  for (const [name, t] of outputs)
    if (t.kind === 'op' && !claimed.has(t.id)) {
      l.setName(t, name);
      claimed.add(t.id);
    }
  for (const c of graph.constants) if (usedLeaves.has(c)) l.initializer(l.name(c), c.dtype, c.shape as number[], c.value!);
  for (const n of graph.nodes)
    if (live.has(n)) {
      l.scope = n.scope ? scopeLabel(n.scope) : '';
      n.op.lower(l, n);
    }
  l.scope = '';
  for (const [name, t] of outputs) if (l.name(t) !== name) l.add('Identity', [l.name(t)], [name]);

  const inputsUsed = [...leafInputs, ...symbolic];
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'pretrain',
    producer_version: '0.1.0',
    doc_string: opts.docString ?? '',
    opset_import: [
      { domain: '', version: OPSET },
      { domain: 'com.microsoft', version: 1 },
    ],
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: l.nodes,
      initializer: l.initializers,
      input: inputsUsed.map((t) => valueInfo(t.name!, t.dtype, t.shape)),
      output: outputs.map(([name, t]) => valueInfo(name, t.dtype, t.shape)),
    },
  };
  const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
  return { bytes, inputNames: inputsUsed.map((t) => t.name!), outputNames: outputs.map(([n]) => n) };
}

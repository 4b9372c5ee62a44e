// The graph layer: symbolic tensors, the op set, autodiff and ONNX export. No Node-only imports here.
export type { DType, AnyTypedArray } from './dtype.js';
export { isFloat, typedArrayFor } from './dtype.js';
export type { Dim, Shape } from './shape.js';
export { numel, dimEq, shapeStr } from './shape.js';
export { Graph, Tensor, Node } from './tensor.js';
export type { OpDef, ParamInfo } from './tensor.js';
export { gradients } from './autodiff.js';
export { toOnnx, OPSET, IR_VERSION, type LoweredModel } from './lower.js';
export * from './ops/index.js';

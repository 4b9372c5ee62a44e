export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** ONNX TensorProto.DataType codes. */
export const onnxDataType: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

export function typedArrayFor(d: DType, n: number): AnyTypedArray {
  switch (d) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

/** A one-element array of `dtype` holding `value` (scalar constants). */
export function scalarArray(value: number, dtype: DType): AnyTypedArray {
  switch (dtype) {
    case 'float64': return Float64Array.of(value);
    case 'float32': return Float32Array.of(value);
    case 'int64': return BigInt64Array.of(BigInt(value));
    case 'int32': return Int32Array.of(value);
    case 'bool': return Uint8Array.of(value ? 1 : 0);
  }
}

// Safetensors parsing and serialisation over plain bytes (no Node imports, so
// the browser can reuse it). Format: u64 little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {..}}, then the
// tensor bytes. Parsing only reads numbers and JSON: nothing is ever executed.

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

/** F16 and BF16 stay as their raw 16-bit patterns; use `toFloat32` to widen. */
export type TensorData = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array;

export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** The in-memory weight format used across the project (HF names as keys). */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface WritableTensor {
  shape: number[];
  data: Float32Array | BigInt64Array;
}

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
};

// The reference implementation refuses headers above 100 MB; so do we, which
// also stops a corrupt length from making us decode garbage for a long time.
const MAX_HEADER_BYTES = 100_000_000;

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

function fail(fileName: string, msg: string): never {
  throw new Error(`${fileName}: ${msg}`);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

function parseHeader(bytes: Uint8Array, fileName: string): ParsedHeader {
  if (bytes.byteLength < 8) {
    fail(fileName, `truncated safetensors file: ${bytes.byteLength} bytes, the 8-byte header length is missing`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.byteLength - 8)) {
    fail(fileName, `truncated or corrupt safetensors file: header length ${headerLen64} exceeds the ${bytes.byteLength - 8} bytes after it`);
  }
  const headerLen = Number(headerLen64);
  if (headerLen > MAX_HEADER_BYTES) fail(fileName, `safetensors header of ${headerLen} bytes is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2) fail(fileName, `safetensors header of ${headerLen} bytes is too short to be a JSON object`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail(fileName, 'safetensors header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(fileName, 'safetensors header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(fileName, `safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    fail(fileName, 'safetensors header is not a JSON object');
  }

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail(fileName, '"__metadata__" must be an object of strings');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(fileName, `"__metadata__.${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(name, value, fileName));
  }

  const dataStart = 8 + headerLen;
  const bufferLen = bytes.byteLength - dataStart;
  // Offsets must tile the byte buffer exactly: no gaps, no overlaps, no tail.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(fileName, `tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(fileName, `tensor "${e.name}": data_offsets start at ${e.begin} but the previous tensor ends at ${cursor} (gap in the byte buffer)`);
    if (e.end > bufferLen) fail(fileName, `tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] go past the end of the ${bufferLen}-byte buffer (truncated file?)`);
    cursor = e.end;
  }
  if (cursor !== bufferLen) {
    fail(fileName, `the tensors cover ${cursor} bytes but the byte buffer has ${bufferLen} (trailing data or a missing tensor)`);
  }
  return { entries, metadata, dataStart };
}

function parseEntry(name: string, value: unknown, fileName: string): HeaderEntry {
  const where = `tensor "${name}"`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(fileName, `${where}: header entry must be an object`);
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(fileName, `${where}: unexpected field "${key}"`);
  }
  if (!isDtype(v.dtype)) {
    fail(fileName, `${where}: unsupported dtype ${JSON.stringify(v.dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
  }
  if (!Array.isArray(v.shape) || !v.shape.every(isNonNegInt)) {
    fail(fileName, `${where}: "shape" must be an array of non-negative integers, got ${JSON.stringify(v.shape)}`);
  }
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt) || offs[0] > offs[1]) {
    fail(fileName, `${where}: "data_offsets" must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`);
  }
  const shape = v.shape as number[];
  const [begin, end] = offs as [number, number];
  const expected = numel(shape) * ITEM_SIZE[v.dtype];
  if (end - begin !== expected) {
    fail(fileName, `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${v.dtype} shape [${shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype: v.dtype, shape: [...shape], begin, end };
}

// Copies the bytes so the result is aligned and does not pin the file buffer.
function readData(bytes: Uint8Array, start: number, e: HeaderEntry): TensorData {
  const n = numel(e.shape);
  const src = bytes.subarray(start + e.begin, start + e.end);
  const copy = new Uint8Array(src.byteLength);
  copy.set(src);
  const buf = copy.buffer;
  // Typed arrays use the platform's byte order; safetensors is little-endian.
  if (!LITTLE_ENDIAN) swapBytes(copy, ITEM_SIZE[e.dtype]);
  switch (e.dtype) {
    case 'F64': return new Float64Array(buf, 0, n);
    case 'F32': return new Float32Array(buf, 0, n);
    case 'F16':
    case 'BF16': return new Uint16Array(buf, 0, n);
    case 'I64': return new BigInt64Array(buf, 0, n);
    case 'I32': return new Int32Array(buf, 0, n);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** Parses a whole safetensors file. `fileName` only names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, fileName: string): SafetensorsContents {
  const { entries, metadata, dataStart } = parseHeader(bytes, fileName);
  const tensors = new Map<string, RawTensor>();
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: readData(bytes, dataStart, e) });
  }
  return { tensors, metadata };
}

/** Only the header: names, dtypes and shapes, without reading the data. */
export function readSafetensorsHeader(bytes: Uint8Array, fileName: string): {
  tensors: Map<string, { dtype: SafetensorsDtype; shape: number[] }>;
  metadata: Record<string, string>;
} {
  const { entries, metadata } = parseHeader(bytes, fileName);
  return { tensors: new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Widens a floating-point tensor to float32 (F64 is rounded). Integer dtypes are refused. */
export function toFloat32(t: RawTensor, what = 'tensor'): Float32Array {
  switch (t.dtype) {
    case 'F32': return t.data as Float32Array;
    case 'F64': return Float32Array.from(t.data as Float64Array);
    case 'F16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const src = t.data as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new Error(`${what}: dtype ${t.dtype} is an integer type, not convertible to float32`);
  }
}

/** Parses a file of floating-point weights into float32 tensors (what models load). */
export function parseSafetensorsF32(bytes: Uint8Array, fileName: string): Map<string, F32Tensor> {
  const { tensors } = parseSafetensors(bytes, fileName);
  const out = new Map<string, F32Tensor>();
  for (const [name, t] of tensors) out.set(name, { shape: t.shape, data: toFloat32(t, `${fileName}: tensor "${name}"`) });
  return out;
}

// Order of the reference implementation's Dtype enum; it writes higher dtypes
// first (then by name) so every tensor stays aligned to its item size.
const DTYPE_RANK: Record<'F32' | 'I64', number> = { F32: 1, I64: 2 };

/**
 * Serialises F32 (and I64, given a BigInt64Array) tensors as Hugging Face
 * does: `__metadata__` {format: "pt"} unless other metadata is given, tensors
 * sorted by name, header padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, WritableTensor> | Readonly<Record<string, WritableTensor>>,
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)) as [string, WritableTensor][];
  const items = list.map(([name, t]) => {
    if (name === '__metadata__') throw new Error('serializeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    const dtype: 'F32' | 'I64' = t.data instanceof BigInt64Array ? 'I64' : t.data instanceof Float32Array ? 'F32' : badData(name);
    if (!t.shape.every((d) => isNonNegInt(d))) throw new Error(`serializeSafetensors: tensor "${name}": invalid shape ${JSON.stringify(t.shape)}`);
    if (numel(t.shape) !== t.data.length) {
      throw new Error(`serializeSafetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${numel(t.shape)} elements but the data has ${t.data.length}`);
    }
    return { name, dtype, t };
  });
  items.sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, dtype, t } of items) {
    const size = t.data.length * ITEM_SIZE[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(headerBytes.length + pad).fill(0x20);
    padded.set(headerBytes);
    headerBytes = padded;
  }

  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const { dtype, t } of items) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, pos);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + src.byteLength), ITEM_SIZE[dtype]);
    pos += src.byteLength;
  }
  return out;
}

function badData(name: string): never {
  throw new Error(`serializeSafetensors: tensor "${name}": data must be a Float32Array or BigInt64Array`);
}

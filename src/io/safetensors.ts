// Safetensors parsing and serialisation over plain bytes (no Node imports, so
// the browser can reuse it). Format: u64 little-endian header length N, N bytes
// of UTF-8 JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {..}},
// then the tensor bytes. Parsing only reads numbers and JSON: nothing is ever
// executed. The rules are those of the reference reader (huggingface/safetensors,
// `SafeTensors::read_metadata` and `Metadata::validate`) and its format notes:
// header at most 100 MB; strict UTF-8 (no byte-order mark); the header starts
// with "{" and is one JSON object, optionally padded with whitespace; no key
// appears twice; shapes and offsets are plain non-negative integers; the
// tensors, sorted by offsets, tile the byte buffer exactly to the end of the
// file; each holds exactly shape x dtype bytes; "__metadata__" maps strings to
// strings. Every dtype of the reference is read; only the floating-point ones
// convert to float32, and that is refused where it is asked for, not for the
// whole file.

/** Every dtype the reference implementation knows. */
export type SafetensorsDtype =
  | 'BOOL' | 'F4' | 'F6_E2M3' | 'F6_E3M2' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'F8_E8M0' | 'F8_E4M3FNUZ'
  | 'F8_E5M2FNUZ' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'C64' | 'F64' | 'I64' | 'U64';

/**
 * F16 and BF16 stay as their raw 16-bit patterns (use `toFloat32` to widen); BOOL and U8 are bytes; the 8-bit,
 * sub-byte float formats and C64 are their raw little-endian bytes.
 */
export type TensorData =
  | Float64Array | Float32Array | Uint16Array | Int16Array | BigInt64Array | BigUint64Array | Int32Array
  | Uint32Array | Int8Array | Uint8Array;

export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/**
 * The in-memory weight format used across the project (HF names as keys). `dtype` is set by the readers to the
 * file's dtype; for a tensor that is not floating-point, reading `data` throws (naming the file, tensor and dtype).
 */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
  readonly dtype?: SafetensorsDtype;
}

export interface WritableTensor {
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/** Bits per element, as the reference's `Dtype::bitsize`. */
const BITS: Record<SafetensorsDtype, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8, I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

/** The dtypes `toFloat32` converts. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F64', 'F32', 'F16', 'BF16'];

// The reference implementation refuses headers above 100 MB; so do we, which
// also stops a corrupt length from making us decode garbage for a long time.
export const MAX_HEADER_BYTES = 100_000_000;

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(BITS, s);
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

// ---------------------------------------------------------------------------
// A strict JSON reader for the header. JSON.parse cannot be used: it keeps the
// last of duplicate keys, and it turns 2.0 and 2e0 into the integer 2, where
// the reference (serde_json into usize) refuses both.

/** A JSON number as written; the header's numbers must be plain integers. */
class JsonNumber {
  constructor(readonly text: string) {}
}
type JVal = null | boolean | string | JsonNumber | JVal[] | Map<string, JVal>;

class HeaderJson {
  private i = 0;
  constructor(private readonly s: string, private readonly fileName: string) {}

  private err(msg: string): never {
    fail(this.fileName, `safetensors header is not valid JSON (${msg} at character ${this.i})`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  parseDocument(): Map<string, JVal> {
    // The format requires the header's first byte to be "{" (no whitespace, no byte-order mark).
    if (this.s.charCodeAt(0) !== 0x7b) fail(this.fileName, 'safetensors header does not start with "{"');
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.err('unexpected text after the header object');
    return v as Map<string, JVal>;
  }

  private value(depth: number): JVal {
    if (depth > 64) this.err('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(lit, this.i)) {
        this.i += lit.length;
        return v;
      }
    }
    this.err(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(depth: number): Map<string, JVal> {
    const out = new Map<string, JVal>();
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.err('expected a string key');
      const key = this.string();
      if (out.has(key)) fail(this.fileName, `safetensors header has the key ${JSON.stringify(key)} twice (duplicate keys are not allowed)`);
      this.ws();
      if (this.s[this.i] !== ':') this.err('expected ":"');
      this.i++;
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.err('expected "," or "}"');
    }
  }

  private array(depth: number): JVal[] {
    const out: JVal[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.err('expected "," or "]"');
    }
  }

  private number(): JsonNumber {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.err('bad number');
    this.i += m[0].length;
    return new JsonNumber(m[0]);
  }

  private string(): string {
    const s = this.s;
    this.i++;
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.err('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.err('control character in a string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      const e = s[this.i + 1];
      this.i += 2;
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u') {
        let code = this.hex4();
        if (code >= 0xd800 && code <= 0xdbff) {
          if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') this.err('lone surrogate in a \\u escape');
          this.i += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) this.err('lone surrogate in a \\u escape');
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        } else if (code >= 0xdc00 && code <= 0xdfff) this.err('lone surrogate in a \\u escape');
        out += String.fromCodePoint(code);
      } else this.err('bad escape');
      start = this.i;
    }
  }

  private hex4(): number {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.err('bad \\u escape');
    this.i += 4;
    return parseInt(h, 16);
  }
}

/** A JSON value as it appears in error messages. */
function show(v: JVal | undefined): string {
  if (v === undefined) return 'nothing';
  if (v instanceof JsonNumber) return v.text;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}: ${show(x)}`).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return JSON.stringify(v);
}

/** A plain non-negative integer literal (as serde_json reads into usize), within JavaScript's exact range. */
function intOf(v: JVal | undefined): number | undefined {
  if (!(v instanceof JsonNumber) || !/^(0|[1-9][0-9]*)$/.test(v.text)) return undefined;
  const n = Number(v.text);
  return Number.isSafeInteger(n) ? n : undefined;
}

// ---------------------------------------------------------------------------

export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offsets into the byte buffer (which starts at `dataStart` in the file). */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  /** By name, in the header's order. */
  entries: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** Where the byte buffer starts in the file: 8 + the header length. */
  dataStart: number;
}

/**
 * The header length from the file's first 8 bytes, checked against the 100 MB limit and the file size; the
 * header is the next that many bytes.
 */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, fileName: string): number {
  if (first8.byteLength < 8 || fileSize < 8) {
    fail(fileName, `truncated safetensors file: ${fileSize} bytes, the 8-byte header length is missing`);
  }
  const len = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (len > BigInt(fileSize - 8)) {
    fail(fileName, `truncated or corrupt safetensors file: header length ${len} exceeds the ${fileSize - 8} bytes after it`);
  }
  const n = Number(len);
  if (n > MAX_HEADER_BYTES) fail(fileName, `safetensors header of ${n} bytes is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  return n;
}

/**
 * Parses and validates the header from its bytes (the `safetensorsHeaderLength` bytes after the first 8) and the
 * size of the whole file, without needing the tensor data.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, fileName: string): ParsedHeader {
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where the "{" check refuses it, as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(fileName, 'safetensors header is not valid UTF-8');
  }
  const json = new HeaderJson(text, fileName).parseDocument();

  const metadata: Record<string, string> = {};
  const entries = new Map<string, HeaderEntry>();
  for (const [name, value] of json) {
    if (name === '__metadata__') {
      if (value === null) continue; // serde reads null as "no metadata"
      if (!(value instanceof Map)) fail(fileName, `"__metadata__" must be an object of strings, got ${show(value)}`);
      for (const [k, v] of value) {
        if (typeof v !== 'string') fail(fileName, `"__metadata__.${k}" must be a string, got ${show(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.set(name, parseEntry(name, value, fileName));
  }

  const dataStart = 8 + headerBytes.byteLength;
  const bufferLen = fileSize - dataStart;
  // Offsets must tile the byte buffer exactly: no gaps, no overlaps, no tail.
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
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

function parseEntry(name: string, value: JVal, fileName: string): HeaderEntry {
  const where = `tensor "${name}"`;
  if (!(value instanceof Map)) fail(fileName, `${where}: header entry must be an object, got ${show(value)}`);
  for (const key of value.keys()) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(fileName, `${where}: unexpected field "${key}"`);
  }
  const dtype = value.get('dtype');
  if (!isDtype(dtype)) {
    fail(fileName, `${where}: unsupported dtype ${show(dtype)} (supported: ${Object.keys(BITS).join(', ')})`);
  }
  const rawShape = value.get('shape');
  const shape = Array.isArray(rawShape) ? rawShape.map(intOf) : undefined;
  if (!shape || !shape.every((d): d is number => d !== undefined)) {
    fail(fileName, `${where}: "shape" must be an array of non-negative integers, got ${show(rawShape)}`);
  }
  const rawOffs = value.get('data_offsets');
  const offs = Array.isArray(rawOffs) && rawOffs.length === 2 ? rawOffs.map(intOf) : undefined;
  if (!offs || offs[0] === undefined || offs[1] === undefined || offs[0] > offs[1]) {
    fail(fileName, `${where}: "data_offsets" must be [begin, end] with integers 0 <= begin <= end, got ${show(rawOffs)}`);
  }
  const [begin, end] = offs as [number, number];
  // Exact arithmetic: a product of safe integers may not be one.
  const bits = shape.reduce((a, d) => a * BigInt(d), 1n) * BigInt(BITS[dtype]);
  if (bits % 8n !== 0n) fail(fileName, `${where}: ${dtype} shape [${shape.join(', ')}] does not fill a whole number of bytes`);
  const expected = bits / 8n;
  if (BigInt(end - begin) !== expected) {
    fail(fileName, `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype, shape, begin, end };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array, size: number): void {
  if (size <= 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/**
 * Decodes one tensor from its bytes (exactly `end - begin` of them). Copies, so the result is aligned and does
 * not pin the file buffer.
 */
export function decodeTensor(e: HeaderEntry, src: Uint8Array): RawTensor {
  const n = numel(e.shape);
  const copy = new Uint8Array(src.byteLength);
  copy.set(src);
  const buf = copy.buffer;
  const item = BITS[e.dtype] / 8;
  // Typed arrays use the platform's byte order; safetensors is little-endian.
  if (!LITTLE_ENDIAN && e.dtype !== 'C64') swapBytes(copy, item);
  if (!LITTLE_ENDIAN && e.dtype === 'C64') swapBytes(copy, 4);
  const data = ((): TensorData => {
    switch (e.dtype) {
      case 'F64': return new Float64Array(buf, 0, n);
      case 'F32': return new Float32Array(buf, 0, n);
      case 'F16':
      case 'BF16':
      case 'U16': return new Uint16Array(buf, 0, n);
      case 'I16': return new Int16Array(buf, 0, n);
      case 'I64': return new BigInt64Array(buf, 0, n);
      case 'U64': return new BigUint64Array(buf, 0, n);
      case 'I32': return new Int32Array(buf, 0, n);
      case 'U32': return new Uint32Array(buf, 0, n);
      case 'I8': return new Int8Array(buf, 0, n);
      default: return copy; // BOOL, U8, the 8-bit and sub-byte floats, C64: raw bytes
    }
  })();
  return { dtype: e.dtype, shape: [...e.shape], data };
}

/** The header from a whole file's bytes. */
function headerOfBytes(bytes: Uint8Array, fileName: string): ParsedHeader {
  const n = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.byteLength, fileName);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.byteLength, fileName);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Parses a whole safetensors file. `fileName` only names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, fileName: string): SafetensorsContents {
  const { entries, metadata, dataStart } = headerOfBytes(bytes, fileName);
  const tensors = new Map<string, RawTensor>();
  for (const name of [...entries.keys()].sort(byName)) {
    const e = entries.get(name)!;
    tensors.set(name, decodeTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end)));
  }
  return { tensors, metadata };
}

/** Only the header: names, dtypes and shapes, without reading the data. */
export function readSafetensorsHeader(bytes: Uint8Array, fileName: string): {
  tensors: Map<string, { dtype: SafetensorsDtype; shape: number[] }>;
  metadata: Record<string, string>;
} {
  const { entries, metadata } = headerOfBytes(bytes, fileName);
  return { tensors: new Map([...entries.values()].map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Widens a floating-point tensor (F64, F32, F16, BF16) to float32 (F64 is rounded); other dtypes are refused. */
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
      throw new Error(`${what} has dtype ${t.dtype}, which is not a floating-point type (${FLOAT_DTYPES.join(', ')}): it cannot be used as float32 weights`);
  }
}

/**
 * The float32 view of a read tensor. A tensor that is not floating-point is kept (name, shape, dtype) and its
 * `data` throws when read, so a file with, say, a U8 buffer loads and fails only if that tensor is used as weights.
 */
export function f32TensorOf(t: RawTensor, what: string): F32Tensor {
  if (FLOAT_DTYPES.includes(t.dtype)) return { shape: t.shape, data: toFloat32(t, what), dtype: t.dtype };
  const dtype = t.dtype;
  return {
    shape: t.shape,
    dtype,
    get data(): Float32Array {
      return toFloat32(t, what);
    },
  };
}

/**
 * Parses a file of weights into float32 tensors (what models load). Tensors of other dtypes are listed, and
 * refused when their data is read (see `f32TensorOf`).
 */
export function parseSafetensorsF32(bytes: Uint8Array, fileName: string): Map<string, F32Tensor> {
  const { tensors } = parseSafetensors(bytes, fileName);
  const out = new Map<string, F32Tensor>();
  for (const [name, t] of tensors) out.set(name, f32TensorOf(t, `${fileName}: tensor "${name}"`));
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
    const size = (t.data.length * BITS[dtype]) / 8;
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
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + src.byteLength), BITS[dtype] / 8);
    pos += src.byteLength;
  }
  return out;
}

function badData(name: string): never {
  throw new Error(`serializeSafetensors: tensor "${name}": data must be a Float32Array or BigInt64Array`);
}

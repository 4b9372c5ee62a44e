import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, parseSafetensorsF32, readSafetensorsHeader, safetensorsHeaderLength, serializeSafetensors, toFloat32 } from '../../src/io/safetensors.js';
import { readSafetensorsF32, readSafetensorsHeaderFile } from '../../src/io/files.js';
import { storeFromWeights } from '../../src/runtime/store.js';

const FIXTURES = ['gpt2', 'llama', 'bert', 't5'];
const fixturePath = (m: string) => `test/fixtures/hf/${m}/model.safetensors`;
const fixture = (m: string) => new Uint8Array(readFileSync(fixturePath(m)));

/** Builds a safetensors file from a header object and raw data bytes. */
function build(header: unknown, data: Uint8Array, rawHeader?: string): Uint8Array {
  const h = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

test('reads the HF fixtures: names, shapes, metadata', () => {
  const { tensors, metadata } = parseSafetensors(fixture('gpt2'), 'gpt2');
  assert.deepEqual(metadata, { format: 'pt' });
  assert.equal(tensors.size, 28);
  const cAttn = tensors.get('transformer.h.0.attn.c_attn.weight')!;
  assert.equal(cAttn.dtype, 'F32');
  assert.deepEqual(cAttn.shape, [32, 96]);
  assert.equal(cAttn.data.length, 32 * 96);
  assert.ok(!tensors.has('lm_head.weight'), 'tied lm_head is not stored');
  const counts: Record<string, number> = { bert: 46, gpt2: 28, llama: 21, t5: 47 };
  for (const m of FIXTURES) assert.equal(parseSafetensors(fixture(m), m).tensors.size, counts[m]);
  assert.deepEqual(readSafetensorsHeader(fixture('llama'), 'llama').tensors.get('model.layers.0.self_attn.k_proj.weight'), { dtype: 'F32', shape: [16, 32] });
});

test('serialising the parsed fixtures reproduces the files byte for byte (HF layout)', () => {
  for (const m of FIXTURES) {
    const bytes = fixture(m);
    const again = serializeSafetensors(parseSafetensorsF32(bytes, m));
    assert.equal(Buffer.compare(Buffer.from(again), Buffer.from(bytes)), 0, m);
  }
});

test('header is padded with spaces to a multiple of 8 and metadata comes first', () => {
  for (const n of [1, 2, 3, 5, 7, 11]) {
    const name = 'x'.repeat(n);
    const out = serializeSafetensors({ [name]: { shape: [2], data: new Float32Array([1, 2]) } });
    const len = Number(new DataView(out.buffer).getBigUint64(0, true));
    assert.equal(len % 8, 0);
    const text = new TextDecoder().decode(out.subarray(8, 8 + len));
    assert.match(text, /^\{"__metadata__":\{"format":"pt"\},/);
    assert.equal(text.trimEnd().length + (len - text.trimEnd().length), len);
    assert.ok(/^ *$/.test(text.slice(text.lastIndexOf('}') + 1)));
  }
});

test('round trip keeps F32 bits and I64 values exactly; I64 is written first for alignment', () => {
  const f = new Float32Array([0, -0, 1.5, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]);
  const i = new BigInt64Array([0n, -1n, 9007199254740993n, -(2n ** 63n)]);
  const out = serializeSafetensors(new Map<string, { shape: number[]; data: Float32Array | BigInt64Array }>([
    ['b.f', { shape: [2, 4], data: f }],
    ['a.odd', { shape: [1], data: new Float32Array([7]) }],
    ['z.i', { shape: [4], data: i }],
  ]));
  const { tensors } = parseSafetensors(out, 'mem');
  assert.deepEqual([...tensors.keys()], ['a.odd', 'b.f', 'z.i']);
  assert.deepEqual(bytesOf(tensors.get('b.f')!.data), bytesOf(f));
  assert.equal(tensors.get('z.i')!.dtype, 'I64');
  assert.deepEqual([...(tensors.get('z.i')!.data as BigInt64Array)], [...i]);
  const header = readSafetensorsHeader(out, 'mem');
  assert.deepEqual(header.tensors.get('z.i'), { dtype: 'I64', shape: [4] });
  const len = Number(new DataView(out.buffer).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + len)));
  assert.deepEqual(json['z.i'].data_offsets, [0, 32]);
});

test('reads F64, F16, BF16, I32 and I64 and widens floats to float32 on request', () => {
  const f64 = new Float64Array([0.1, -2.5]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000]);
  const bf16 = new Uint16Array([0x3f80, 0xc020, 0x0000]);
  const i32 = new Int32Array([-7, 2147483647]);
  const i64 = new BigInt64Array([-(2n ** 62n)]);
  const parts = [bytesOf(f64), bytesOf(f16), bytesOf(bf16), bytesOf(i32), bytesOf(i64)];
  const header: Record<string, unknown> = {};
  const names = ['d', 'h', 'b', 'i', 'l'];
  const dtypes = ['F64', 'F16', 'BF16', 'I32', 'I64'];
  const shapes = [[2], [2, 3], [3], [2], [1]];
  let off = 0;
  parts.forEach((p, k) => {
    header[names[k]!] = { dtype: dtypes[k], shape: shapes[k], data_offsets: [off, off + p.length] };
    off += p.length;
  });
  const data = new Uint8Array(off);
  off = 0;
  for (const p of parts) { data.set(p, off); off += p.length; }
  const { tensors } = parseSafetensors(build(header, data), 'mixed.safetensors');
  assert.deepEqual([...(tensors.get('d')!.data as Float64Array)], [0.1, -2.5]);
  assert.deepEqual([...toFloat32(tensors.get('d')!)], [Math.fround(0.1), -2.5]);
  assert.deepEqual([...toFloat32(tensors.get('h')!)], [1, -2, 65504, 2 ** -24, Infinity, -0]);
  assert.deepEqual([...toFloat32(tensors.get('b')!)], [1, -2.5, 0]);
  assert.deepEqual([...(tensors.get('i')!.data as Int32Array)], [-7, 2147483647]);
  assert.deepEqual([...(tensors.get('l')!.data as BigInt64Array)], [-(2n ** 62n)]);
  assert.throws(() => toFloat32(tensors.get('i')!, 'x: tensor "i"'), /tensor "i" has dtype I32, which is not a floating-point type/);
  // Integer tensors do not make the whole file unreadable: they are refused where read as float32 weights.
  const f32 = parseSafetensorsF32(build(header, data), 'mixed.safetensors');
  assert.deepEqual([...f32.get('d')!.data], [Math.fround(0.1), -2.5]);
  assert.equal(f32.get('i')!.dtype, 'I32');
  assert.deepEqual(f32.get('i')!.shape, [2]);
  assert.throws(() => f32.get('i')!.data, /mixed\.safetensors: tensor "i" has dtype I32, which is not a floating-point type/);
});

test('corrupt files fail with a message naming the file and the tensor or field', () => {
  const four = bytesOf(new Float32Array([1, 2, 3, 4]));
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
  assert.doesNotThrow(() => parseSafetensors(build(ok, four), 'ok.st'));

  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(5), /^Error: f\.st: truncated safetensors file: 5 bytes, the 8-byte header length is missing/],
    ['header beyond file', (() => { const b = build(ok, four); new DataView(b.buffer).setBigUint64(0, 10_000n, true); return b; })(), /^Error: f\.st: .*header length 10000 exceeds/],
    ['header length absurd', (() => { const b = build(ok, four); new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true); return b; })(), /^Error: f\.st: .*header length/],
    ['bad JSON', build(null, four, '{"a": {'), /^Error: f\.st: safetensors header is not valid JSON/],
    ['not an object', build(null, four, '[1, 2]'), /^Error: f\.st: safetensors header does not start with "\{"/],
    ['header length 0', build(null, new Uint8Array(0), ''), /^Error: f\.st: safetensors header does not start with "\{"/],
    ['overlap', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, four.subarray(0, 12)), /^Error: f\.st: tensor "b": .*overlap/],
    ['out of range', build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, four.subarray(0, 12)), /^Error: f\.st: tensor "a": .*past the end of the 12-byte buffer/],
    ['gap', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, four), /^Error: f\.st: tensor "b": .*gap/],
    ['trailing bytes', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, four), /^Error: f\.st: the tensors cover 8 bytes but the byte buffer has 16/],
    ['size mismatch', build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": .*F32 shape \[3\] needs 12/],
    ['unknown dtype', build({ a: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": unsupported dtype "Q4"/],
    ['lower-case dtype', build({ a: { dtype: 'f32', shape: [4], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": unsupported dtype "f32"/],
    ['bad shape', build({ a: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": "shape" must be/],
    ['bad offsets', build({ a: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, four), /^Error: f\.st: tensor "a": "data_offsets" must be/],
    ['extra field', build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16], code: 'x' } }, four), /^Error: f\.st: tensor "a": unexpected field "code"/],
    ['bad metadata', build({ __metadata__: { format: 1 }, a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, four), /^Error: f\.st: "__metadata__.format" must be a string/],
  ];
  for (const [what, bytes, re] of cases) assert.throws(() => parseSafetensors(bytes, 'f.st'), re, what);

  const gpt2 = fixture('gpt2');
  assert.throws(() => parseSafetensors(gpt2.subarray(0, gpt2.length - 100), 'cut.safetensors'), /^Error: cut\.safetensors: tensor "transformer\.wte\.weight": .*past the end/);
  assert.throws(() => parseSafetensors(gpt2.subarray(0, 1000), 'cut.safetensors'), /^Error: cut\.safetensors: truncated or corrupt/);
});

test('serialising rejects inconsistent tensors', () => {
  assert.throws(() => serializeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }), /tensor "w": shape \[3\] has 3 elements but the data has 2/);
  assert.throws(() => serializeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }), /reserved/);
});

const enc = (s: string) => new TextEncoder().encode(s);
/** A file from raw header bytes and data. */
function buildRaw(headerBytes: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

test('header rules of the reference reader: "{" first, strict UTF-8, no BOM, one object, whitespace padding only', () => {
  const four = bytesOf(new Float32Array([1, 2, 3, 4]));
  const json = '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}';
  assert.doesNotThrow(() => parseSafetensors(build(null, four, json), 'f.st'));
  assert.doesNotThrow(() => parseSafetensors(build(null, four, json + '    '), 'f.st'), 'space padding is allowed');
  assert.doesNotThrow(() => parseSafetensors(build(null, four, json + ' \n\t\r'), 'f.st'), 'JSON whitespace after the object');
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc(json)]);
  assert.throws(() => parseSafetensors(buildRaw(bom, four), 'f.st'), /^Error: f\.st: safetensors header does not start with "\{"/, 'BOM');
  assert.throws(() => parseSafetensors(build(null, four, ' ' + json), 'f.st'), /does not start with "\{"/, 'leading space');
  assert.throws(() => parseSafetensors(build(null, four, json + 'x'), 'f.st'), /not valid JSON \(unexpected text after the header object/);
  assert.throws(() => parseSafetensors(build(null, four, json + '{}'), 'f.st'), /not valid JSON/);
  assert.throws(() => parseSafetensors(build(null, four, json + '\0'), 'f.st'), /not valid JSON/, 'NUL padding');
  const badUtf8 = new Uint8Array([...enc('{"a'), 0xff, ...enc('":1}')]);
  assert.throws(() => parseSafetensors(buildRaw(badUtf8, new Uint8Array(0)), 'f.st'), /^Error: f\.st: safetensors header is not valid UTF-8/);
  const overlong = new Uint8Array([...enc('{"a'), 0xc0, 0xa2, ...enc('":1}')]);
  assert.throws(() => parseSafetensors(buildRaw(overlong, new Uint8Array(0)), 'f.st'), /not valid UTF-8/, 'overlong encoding');
  assert.throws(() => parseSafetensors(build(null, four, '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],}}'), 'f.st'), /not valid JSON/, 'trailing comma');
  assert.throws(() => parseSafetensors(build(null, new Uint8Array(0), '{"\\ud800x":1}'), 'f.st'), /lone surrogate/);
  // Escapes in names are decoded as JSON says.
  const esc = parseSafetensors(build(null, four, '{"\\u0061\\n\\ud83d\\ude00":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'), 'f.st');
  assert.deepEqual([...esc.tensors.keys()], ['a\n\u{1F600}']);
  // An empty file's header is "{}" (padded), and it is valid.
  assert.equal(parseSafetensors(build(null, new Uint8Array(0), '{}      '), 'f.st').tensors.size, 0);
});

test('the header length is checked before anything is decoded: at most 100 MB and within the file', () => {
  const big = new Uint8Array(8);
  new DataView(big.buffer).setBigUint64(0, 100_000_001n, true);
  // Declares 100 MB + 1 but the file is small: refused as beyond the file, before allocating anything.
  assert.throws(() => parseSafetensors(big, 'f.st'), /^Error: f\.st: truncated or corrupt safetensors file: header length 100000001 exceeds the 0 bytes/);
  assert.throws(() => safetensorsHeaderLength(big, 200_000_000, 'f.st'), /^Error: f\.st: safetensors header of 100000001 bytes is larger than the 100000000-byte limit/);
  assert.equal(safetensorsHeaderLength(big.fill(0).fill(8, 0, 1), 16, 'f.st'), 8);
});

test('duplicate keys are refused: tensor names, metadata keys, fields', () => {
  const eight = bytesOf(new Float32Array([1, 2]));
  const t = (a: number, b: number) => `{"dtype":"F32","shape":[1],"data_offsets":[${a},${b}]}`;
  assert.throws(() => parseSafetensors(build(null, eight, `{"w":${t(0, 4)},"w":${t(4, 8)}}`), 'f.st'), /^Error: f\.st: safetensors header has the key "w" twice/);
  assert.throws(() => parseSafetensors(build(null, eight.subarray(0, 4), `{"w":${t(0, 4)},"w":${t(0, 4)}}`), 'f.st'), /key "w" twice/);
  assert.throws(() => parseSafetensors(build(null, eight.subarray(0, 4), `{"__metadata__":{"a":"1","a":"2"},"w":${t(0, 4)}}`), 'f.st'), /key "a" twice/);
  assert.throws(() => parseSafetensors(build(null, eight.subarray(0, 4), `{"__metadata__":{},"__metadata__":{},"w":${t(0, 4)}}`), 'f.st'), /key "__metadata__" twice/);
  assert.throws(() => parseSafetensors(build(null, eight.subarray(0, 4), `{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), 'f.st'), /key "dtype" twice/);
  // "\u0077" is "w": the same key written differently is still a duplicate.
  assert.throws(() => parseSafetensors(build(null, eight, `{"w":${t(0, 4)},"\\u0077":${t(4, 8)}}`), 'f.st'), /key "w" twice/);
});

test('shapes and offsets must be plain integers: 2.0, 2e0, -0, 1.5, strings and huge numbers are refused', () => {
  const sixteen = bytesOf(new Float32Array([1, 2, 3, 4]));
  const file = (shape: string, offs: string) => build(null, sixteen, `{"a":{"dtype":"F32","shape":${shape},"data_offsets":${offs}}}`);
  assert.doesNotThrow(() => parseSafetensors(file('[2,2]', '[0,16]'), 'f.st'));
  for (const bad of ['[2.0,2]', '[2e0,2]', '[-0,4]', '[1.5,2]', '["2",2]', '[2,null]', '4', '[4.]', '[9007199254740993,0]']) {
    assert.throws(() => parseSafetensors(file(bad, '[0,16]'), 'f.st'), /^Error: f\.st: (tensor "a": "shape" must be an array of non-negative integers|safetensors header is not valid JSON)/, bad);
  }
  for (const bad of ['[0,16.0]', '[0.0,16]', '[0,1.6e1]', '[-0,16]', '[0]', '[0,16,16]', '["0",16]', '[0,18446744073709551616]']) {
    assert.throws(() => parseSafetensors(file('[4]', bad), 'f.st'), /^Error: f\.st: (tensor "a": "data_offsets" must be \[begin, end\] with integers|safetensors header is not valid JSON)/, bad);
  }
  // Products beyond 2^53 are computed exactly, not rounded into a match.
  assert.throws(() => parseSafetensors(file('[4294967296,4294967296,0]', '[0,16]'), 'f.st'), /needs 0/);
  assert.throws(() => parseSafetensors(file('[9007199254740991,4]', '[0,16]'), 'f.st'), /needs 144115188075855856/);
  // Zero-size and scalar tensors are valid.
  const z = build(null, sixteen, '{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"r":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}');
  const { tensors } = parseSafetensors(z, 'z.st');
  assert.equal(tensors.get('e')!.data.length, 0);
  assert.deepEqual([...(tensors.get('s')!.data as Float32Array)], [1]);
});

test('"__metadata__" is a string-to-string map (or null); other values are refused', () => {
  const four = bytesOf(new Float32Array([1]));
  const file = (meta: string) => build(null, four, `{"__metadata__":${meta},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`);
  assert.deepEqual(parseSafetensors(file('{"format":"pt","x":""}'), 'f.st').metadata, { format: 'pt', x: '' });
  assert.deepEqual(parseSafetensors(file('null'), 'f.st').metadata, {});
  assert.throws(() => parseSafetensors(file('{"n":1}'), 'f.st'), /"__metadata__\.n" must be a string, got 1/);
  assert.throws(() => parseSafetensors(file('{"n":{"x":"y"}}'), 'f.st'), /"__metadata__\.n" must be a string/);
  assert.throws(() => parseSafetensors(file('["a"]'), 'f.st'), /"__metadata__" must be an object of strings/);
  assert.throws(() => parseSafetensors(file('"pt"'), 'f.st'), /"__metadata__" must be an object of strings/);
});

test('every dtype of the reference is read; non-float tensors are refused only where used as float weights', () => {
  const parts: [string, string, number[], Uint8Array][] = [
    ['u64', 'U64', [2], bytesOf(new BigUint64Array([2n ** 64n - 1n, 3n]))],
    ['w', 'F32', [2], bytesOf(new Float32Array([0.5, -1]))],
    ['u32', 'U32', [1], bytesOf(new Uint32Array([4294967295]))],
    ['i16', 'I16', [2], bytesOf(new Int16Array([-32768, 7]))],
    ['u16', 'U16', [1], bytesOf(new Uint16Array([65535]))],
    ['i8', 'I8', [2], bytesOf(new Int8Array([-128, 5]))],
    ['u8', 'U8', [3], new Uint8Array([0, 128, 255])],
    ['mask', 'BOOL', [2], new Uint8Array([1, 0])],
    ['f8', 'F8_E4M3', [1], new Uint8Array([0x38])],
    ['f4', 'F4', [2], new Uint8Array([0x21])],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, dtype, shape, b] of parts) {
    header[name] = { dtype, shape, data_offsets: [off, off + b.length] };
    off += b.length;
  }
  const data = new Uint8Array(off);
  off = 0;
  for (const [, , , b] of parts) { data.set(b, off); off += b.length; }
  const file = build(header, data);
  const { tensors } = parseSafetensors(file, 'all.safetensors');
  assert.deepEqual([...(tensors.get('u64')!.data as BigUint64Array)], [2n ** 64n - 1n, 3n]);
  assert.deepEqual([...(tensors.get('u32')!.data as Uint32Array)], [4294967295]);
  assert.deepEqual([...(tensors.get('i16')!.data as Int16Array)], [-32768, 7]);
  assert.deepEqual([...(tensors.get('u16')!.data as Uint16Array)], [65535]);
  assert.deepEqual([...(tensors.get('i8')!.data as Int8Array)], [-128, 5]);
  assert.deepEqual([...(tensors.get('u8')!.data as Uint8Array)], [0, 128, 255]);
  assert.deepEqual([...(tensors.get('mask')!.data as Uint8Array)], [1, 0]);
  assert.equal(tensors.get('f4')!.dtype, 'F4');

  // The float weights load; asking for a float parameter from an integer tensor names the tensor and its dtype.
  const f32 = parseSafetensorsF32(file, 'all.safetensors');
  assert.deepEqual([...f32.get('w')!.data], [0.5, -1]);
  const store = storeFromWeights([{ name: 'w', shape: [2] }], f32, 'all.safetensors');
  assert.deepEqual([...store.get('w')], [0.5, -1]);
  assert.throws(
    () => storeFromWeights([{ name: 'w', shape: [2] }, { name: 'u8', shape: [3] }], f32, 'all.safetensors'),
    /all\.safetensors does not match[^]*"u8": all\.safetensors: tensor "u8" has dtype U8, which is not a floating-point type/,
  );
  for (const name of ['mask', 'i8', 'u64', 'f8']) assert.throws(() => f32.get(name)!.data, new RegExp(`tensor "${name}" has dtype`));

  // Sub-byte dtypes must fill whole bytes (the reference's MisalignedSlice).
  assert.throws(() => parseSafetensors(build({ a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)), 'f.st'), /tensor "a": F4 shape \[3\] does not fill a whole number of bytes/);
  assert.throws(() => parseSafetensors(build({ a: { dtype: 'BOOL', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)), 'f.st'), /needs 3/);
});

test('files: the header is read without loading the data, and only the tensors asked for are read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    // A 3 GiB tensor (a sparse file): more than readFile can load (2 GiB), so the readers must read by offsets.
    const bigBytes = 3 * 2 ** 30;
    const small = new Float32Array([1.5, -2]);
    const header = { __metadata__: { format: 'pt' }, big: { dtype: 'U8', shape: [bigBytes], data_offsets: [0, bigBytes] }, small: { dtype: 'F32', shape: [2], data_offsets: [bigBytes, bigBytes + 8] } };
    const head = build(header, new Uint8Array(0));
    const path = join(dir, 'huge.safetensors');
    writeFileSync(path, head);
    truncateSync(path, head.length + bigBytes + 8);
    const fd = openSync(path, 'r+');
    writeSync(fd, bytesOf(small), 0, 8, head.length + bigBytes);
    closeSync(fd);

    const h = await readSafetensorsHeaderFile(path);
    assert.deepEqual(h.tensors.get('big'), { dtype: 'U8', shape: [bigBytes] });
    assert.deepEqual(h.metadata, { format: 'pt' });
    const w = await readSafetensorsF32(path, ['small']);
    assert.deepEqual([...w.keys()], ['small']);
    assert.deepEqual([...w.get('small')!.data], [1.5, -2]);

    // The same validation as for bytes: a file one byte short fails on the header, before any data is read.
    truncateSync(path, head.length + bigBytes + 7);
    await assert.rejects(readSafetensorsHeaderFile(path), /huge\.safetensors: tensor "small": .*past the end/);
    const bomFile = join(dir, 'bom.safetensors');
    writeFileSync(bomFile, buildRaw(new Uint8Array([0xef, 0xbb, 0xbf, ...enc('{}')]), new Uint8Array(0)));
    await assert.rejects(readSafetensorsF32(bomFile), /bom\.safetensors: safetensors header does not start with "\{"/);
    const short = join(dir, 'short.safetensors');
    writeFileSync(short, new Uint8Array(3));
    await assert.rejects(readSafetensorsHeaderFile(short), /short\.safetensors: truncated safetensors file: 3 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

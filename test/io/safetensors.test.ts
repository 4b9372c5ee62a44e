import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSafetensors, parseSafetensorsF32, readSafetensorsHeader, serializeSafetensors, toFloat32 } from '../../src/io/safetensors.js';

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
  assert.throws(() => toFloat32(tensors.get('i')!, 'x: tensor "i"'), /tensor "i".*integer/);
  assert.throws(() => parseSafetensorsF32(build(header, data), 'mixed.safetensors'), /mixed\.safetensors: tensor "i"/);
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
    ['overlap', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, four.subarray(0, 12)), /^Error: f\.st: tensor "b": .*overlap/],
    ['out of range', build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, four.subarray(0, 12)), /^Error: f\.st: tensor "a": .*past the end of the 12-byte buffer/],
    ['gap', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, four), /^Error: f\.st: tensor "b": .*gap/],
    ['trailing bytes', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, four), /^Error: f\.st: the tensors cover 8 bytes but the byte buffer has 16/],
    ['size mismatch', build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": .*F32 shape \[3\] needs 12/],
    ['unknown dtype', build({ a: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, four), /^Error: f\.st: tensor "a": unsupported dtype "Q4"/],
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

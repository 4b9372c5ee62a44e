// A zip archive of files stored uncompressed (method 0), as every unzip tool and browser-side loader reads it:
// the playground downloads a checkpoint folder as one file. Pure: no Node imports.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The zip of `files` (names with '/' make folders), under `folder/` when given. */
export function zipFiles(files: Readonly<Record<string, Uint8Array | string>>, folder = ''): Uint8Array {
  const enc = new TextEncoder();
  const entries = Object.entries(files).map(([name, data]) => {
    const bytes = typeof data === 'string' ? enc.encode(data) : data;
    return { name: enc.encode(folder ? `${folder}/${name}` : name), bytes, crc: crc32(bytes) };
  });
  const size = entries.reduce((n, e) => n + 30 + e.name.length + e.bytes.length + 46 + e.name.length, 22);
  if (size > 0xffffffff) throw new Error(`zipFiles: ${size} bytes is more than a zip without ZIP64 holds (4 GiB)`);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let pos = 0;
  const offsets: number[] = [];
  const header = (sig: number, e: (typeof entries)[number], central: boolean, offset: number) => {
    v.setUint32(pos, sig, true);
    pos += 4;
    if (central) (v.setUint16(pos, 20, true), (pos += 2));
    v.setUint16(pos, 20, true); // version needed
    v.setUint16(pos + 2, 0x0800, true); // UTF-8 names
    v.setUint16(pos + 4, 0, true); // stored
    v.setUint16(pos + 6, 0, true); // time
    v.setUint16(pos + 8, 0x21, true); // date: 1980-01-01
    v.setUint32(pos + 10, e.crc, true);
    v.setUint32(pos + 14, e.bytes.length, true);
    v.setUint32(pos + 18, e.bytes.length, true);
    v.setUint16(pos + 22, e.name.length, true);
    v.setUint16(pos + 24, 0, true);
    pos += 26;
    if (central) {
      v.setUint16(pos, 0, true); // comment
      v.setUint16(pos + 2, 0, true); // disk
      v.setUint16(pos + 4, 0, true); // internal attributes
      v.setUint32(pos + 6, 0, true); // external attributes
      v.setUint32(pos + 10, offset, true);
      pos += 14;
    }
    out.set(e.name, pos);
    pos += e.name.length;
  };
  for (const e of entries) {
    offsets.push(pos);
    header(0x04034b50, e, false, 0);
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  const centralStart = pos;
  entries.forEach((e, i) => header(0x02014b50, e, true, offsets[i]!));
  const centralSize = pos - centralStart;
  v.setUint32(pos, 0x06054b50, true);
  v.setUint16(pos + 8, entries.length, true);
  v.setUint16(pos + 10, entries.length, true);
  v.setUint32(pos + 12, centralSize, true);
  v.setUint32(pos + 16, centralStart, true);
  return out;
}

/**
 * Token shards: a corpus tokenised once into binary files, cached by
 * (corpus fingerprint, tokenizer hash) and reused. Node only (fs).
 *
 * A shard set is a folder with manifest.json and shard-NNNNN.bin files.
 * Shard file layout (little-endian):
 *   0   8 B   magic "PTTOKSHD"
 *   8   u32   format version (1)
 *   12  u32   bytes per token id: 2 (uint16) or 4 (uint32)
 *   16  u64   token count T
 *   24  u64   document count D
 *   32  u64   sentence count S
 *   40  u64   byte offset of the index
 *   48  32 B  sha256 of the tokenizer (Tokenizer.hash)
 *   80  u32   vocabulary size
 *   84  u32   header size (128)
 *   88  40 B  zero
 *   128       T token ids
 *   index (8-byte aligned): u64 docStart[D+1] (token offsets, last = T),
 *                           u64 docSentence[D+1] (first sentence of each document, last = S),
 *                           u64 sentStart[S+1] (token offsets, last = T)
 * Writing goes to a temporary folder renamed into place when complete, so
 * an interrupted build never looks finished.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { readCorpus, resolveCorpus, type CorpusOptions } from './corpus.js';
import { DataError } from './errors.js';
import { needsSpaceBetweenSentences, sentenceTexts } from './memory.js';
import type { DocumentSource, TokenDocument } from './types.js';

export const SHARD_MAGIC = 'PTTOKSHD';
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 128;

export interface ShardHeader {
  version: number;
  bytesPerToken: 2 | 4;
  tokenCount: number;
  documentCount: number;
  sentenceCount: number;
  indexOffset: number;
  tokenizerHash: string;
  vocabSize: number;
}

export interface ShardManifest {
  format: 'pretrain-token-shards';
  version: number;
  corpus: string;
  fingerprint: string;
  tokenizerHash: string;
  vocabSize: number;
  bytesPerToken: 2 | 4;
  /** Whether sentences after the first in a document were encoded with a leading space (byte-level BPE). */
  spaceBetweenSentences: boolean;
  tokenCount: number;
  documentCount: number;
  sentenceCount: number;
  shards: Array<{ file: string; tokenCount: number; documentCount: number; sentenceCount: number }>;
  /** Document ids and labels in order (labels only when the corpus has them). */
  documents: Array<{ id: string; label?: string | number }>;
  createdAt: string;
}

// ---------------------------------------------------------------- writer

class ShardFileWriter {
  private fd: number;
  private buf: Uint8Array;
  private view: Uint16Array | Uint32Array;
  private fill = 0;
  /** Next byte to write: positional writes do not move the file position. */
  private pos = SHARD_HEADER_BYTES;
  tokenCount = 0;
  private docStart: number[] = [];
  private docSentence: number[] = [];
  private sentStart: number[] = [];

  constructor(
    readonly path: string,
    private readonly bytesPerToken: 2 | 4,
    private readonly tokenizerHash: string,
    private readonly vocabSize: number,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, new Uint8Array(SHARD_HEADER_BYTES), 0, SHARD_HEADER_BYTES, 0);
    const n = 1 << 18;
    this.buf = new Uint8Array(n * bytesPerToken);
    this.view = bytesPerToken === 2 ? new Uint16Array(this.buf.buffer) : new Uint32Array(this.buf.buffer);
  }

  get documentCount(): number {
    return this.docStart.length;
  }
  get sentenceCount(): number {
    return this.sentStart.length;
  }

  /** One document: its sentences' ids. */
  addDocument(sentences: ArrayLike<number>[]): void {
    this.docStart.push(this.tokenCount);
    this.docSentence.push(this.sentStart.length);
    for (const s of sentences) {
      this.sentStart.push(this.tokenCount);
      for (let i = 0; i < s.length; i++) {
        if (this.fill === this.view.length) this.flush();
        this.view[this.fill++] = s[i]!;
      }
      this.tokenCount += s.length;
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    const n = this.fill * this.bytesPerToken;
    writeSync(this.fd, this.buf, 0, n, this.pos);
    this.pos += n;
    this.fill = 0;
  }

  finish(): void {
    this.flush();
    let pos = SHARD_HEADER_BYTES + this.tokenCount * this.bytesPerToken;
    const pad = (8 - (pos % 8)) % 8;
    if (pad) writeSync(this.fd, new Uint8Array(pad), 0, pad, pos);
    pos += pad;
    const indexOffset = pos;
    const D = this.docStart.length;
    const S = this.sentStart.length;
    const idx = new BigUint64Array(D + 1 + D + 1 + S + 1);
    let k = 0;
    for (const v of this.docStart) idx[k++] = BigInt(v);
    idx[k++] = BigInt(this.tokenCount);
    for (const v of this.docSentence) idx[k++] = BigInt(v);
    idx[k++] = BigInt(S);
    for (const v of this.sentStart) idx[k++] = BigInt(v);
    idx[k++] = BigInt(this.tokenCount);
    const bytes = new Uint8Array(idx.buffer);
    writeSync(this.fd, bytes, 0, bytes.length, indexOffset);
    const h = Buffer.alloc(SHARD_HEADER_BYTES);
    h.write(SHARD_MAGIC, 0, 'latin1');
    h.writeUInt32LE(SHARD_VERSION, 8);
    h.writeUInt32LE(this.bytesPerToken, 12);
    h.writeBigUInt64LE(BigInt(this.tokenCount), 16);
    h.writeBigUInt64LE(BigInt(D), 24);
    h.writeBigUInt64LE(BigInt(S), 32);
    h.writeBigUInt64LE(BigInt(indexOffset), 40);
    Buffer.from(this.tokenizerHash, 'hex').copy(h, 48, 0, 32);
    h.writeUInt32LE(this.vocabSize, 80);
    h.writeUInt32LE(SHARD_HEADER_BYTES, 84);
    writeSync(this.fd, h, 0, SHARD_HEADER_BYTES, 0);
    closeSync(this.fd);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

export interface BuildShardsOptions extends CorpusOptions {
  /** Folder holding shard sets; default `.cache/shards` under the current directory. */
  cacheDir?: string;
  /** Start a new shard file after this many tokens (documents are never split). Default 2^26. */
  shardTokens?: number;
  /** Rebuild even when a complete cached set exists. */
  force?: boolean;
  /** Sentences sent to the native encoder per call. Default 4096. */
  batchSentences?: number;
  onProgress?: (p: { documents: number; tokens: number }) => void;
}

/** Cache folder name for (corpus, tokenizer). */
export function shardKey(fingerprint: string, tokenizerHash: string): string {
  return createHash('sha256').update(`${SHARD_VERSION}\n${fingerprint}\n${tokenizerHash}`).digest('hex').slice(0, 20);
}

/**
 * Tokenise a corpus into shards (or reuse the cached ones) and open them.
 * Sentences are encoded without special tokens; objectives add their own.
 */
export async function buildShards(spec: string, tokenizer: Tokenizer, options: BuildShardsOptions = {}): Promise<ShardSet> {
  const corpus = resolveCorpus(spec, options);
  const cacheDir = resolve(options.cacheDir ?? join(process.cwd(), '.cache', 'shards'));
  const dir = join(cacheDir, shardKey(corpus.fingerprint, tokenizer.hash));
  if (!options.force && existsSync(join(dir, 'manifest.json'))) {
    try {
      return openShards(dir, { tokenizer });
    } catch {
      // A damaged cache entry is rebuilt below.
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  const bytesPerToken: 2 | 4 = tokenizer.vocabSize <= 65536 ? 2 : 4;
  const shardTokens = options.shardTokens ?? 1 << 26;
  const batchSentences = options.batchSentences ?? 4096;
  const spaced = needsSpaceBetweenSentences(tokenizer);
  const shards: ShardManifest['shards'] = [];
  const documents: ShardManifest['documents'] = [];
  let writer: ShardFileWriter | undefined;
  const closeWriter = (): void => {
    if (!writer) return;
    writer.finish();
    shards.push({ file: writer.path.slice(tmp.length + 1), tokenCount: writer.tokenCount, documentCount: writer.documentCount, sentenceCount: writer.sentenceCount });
    writer = undefined;
  };
  let totalTokens = 0;
  // Pending documents wait until their sentences come back from the encoder in one batch.
  let pendingDocs: number[] = [];
  let pendingTexts: string[] = [];
  const encodePending = async (): Promise<void> => {
    if (pendingDocs.length === 0) return;
    const ids = await tokenizer.encodeIdsBatch(pendingTexts);
    let k = 0;
    for (const nSent of pendingDocs) {
      const sents = ids.slice(k, k + nSent);
      k += nSent;
      if (!writer || writer.tokenCount >= shardTokens) {
        closeWriter();
        writer = new ShardFileWriter(join(tmp, `shard-${String(shards.length).padStart(5, '0')}.bin`), bytesPerToken, tokenizer.hash, tokenizer.vocabSize);
      }
      writer.addDocument(sents);
      for (const s of sents) totalTokens += s.length;
    }
    pendingDocs = [];
    pendingTexts = [];
    options.onProgress?.({ documents: documents.length, tokens: totalTokens });
  };
  try {
    for await (const doc of readCorpus(corpus)) {
      documents.push(doc.label === undefined ? { id: doc.id } : { id: doc.id, label: doc.label });
      pendingDocs.push(doc.sentences.length);
      pendingTexts.push(...sentenceTexts(doc, spaced));
      if (pendingTexts.length >= batchSentences) await encodePending();
    }
    await encodePending();
    closeWriter();
    const manifest: ShardManifest = {
      format: 'pretrain-token-shards',
      version: SHARD_VERSION,
      corpus: corpus.spec,
      fingerprint: corpus.fingerprint,
      tokenizerHash: tokenizer.hash,
      vocabSize: tokenizer.vocabSize,
      bytesPerToken,
      spaceBetweenSentences: spaced,
      tokenCount: totalTokens,
      documentCount: documents.length,
      sentenceCount: shards.reduce((s, x) => s + x.sentenceCount, 0),
      shards,
      documents,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    writer?.abort();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return openShards(dir, { tokenizer });
}

// ---------------------------------------------------------------- reader

export function readShardHeader(file: string, fd: number): ShardHeader {
  const h = Buffer.alloc(SHARD_HEADER_BYTES);
  const n = readSync(fd, h, 0, SHARD_HEADER_BYTES, 0);
  if (n < SHARD_HEADER_BYTES || h.toString('latin1', 0, 8) !== SHARD_MAGIC) {
    throw new DataError(`not a token shard: expected a file starting with "${SHARD_MAGIC}"`, file);
  }
  const version = h.readUInt32LE(8);
  if (version !== SHARD_VERSION) throw new DataError(`token shard format version ${version}: expected ${SHARD_VERSION} (rebuild the shards)`, file);
  const bpt = h.readUInt32LE(12);
  if (bpt !== 2 && bpt !== 4) throw new DataError(`bad bytes per token ${bpt}: expected 2 or 4`, file);
  const header: ShardHeader = {
    version,
    bytesPerToken: bpt,
    tokenCount: Number(h.readBigUInt64LE(16)),
    documentCount: Number(h.readBigUInt64LE(24)),
    sentenceCount: Number(h.readBigUInt64LE(32)),
    indexOffset: Number(h.readBigUInt64LE(40)),
    tokenizerHash: h.toString('hex', 48, 80),
    vocabSize: h.readUInt32LE(80),
  };
  const size = fstatSync(fd).size;
  const expected = header.indexOffset + 8 * (2 * header.documentCount + header.sentenceCount + 3);
  if (size !== expected) throw new DataError(`truncated or damaged token shard (${size} bytes, expected ${expected})`, file);
  return header;
}

/** One shard file: index in memory (8 bytes per document and sentence), tokens read on demand. */
export class ShardReader implements DocumentSource {
  readonly header: ShardHeader;
  private fd: number;
  private readonly docStart: Float64Array;
  private readonly docSentence: Float64Array;
  private readonly sentStart: Float64Array;
  private scratch = Buffer.alloc(0);

  constructor(readonly file: string) {
    this.fd = openSync(file, 'r');
    try {
      this.header = readShardHeader(file, this.fd);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    const { documentCount: D, sentenceCount: S, indexOffset } = this.header;
    const idx = Buffer.alloc(8 * (2 * D + S + 3));
    readSync(this.fd, idx, 0, idx.length, indexOffset);
    const all = new BigUint64Array(idx.buffer, idx.byteOffset, idx.length / 8);
    const toF = (a: number, n: number): Float64Array => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(all[a + i]!);
      return out;
    };
    this.docStart = toF(0, D + 1);
    this.docSentence = toF(D + 1, D + 1);
    this.sentStart = toF(2 * D + 2, S + 1);
  }

  get documentCount(): number {
    return this.header.documentCount;
  }
  get tokenCount(): number {
    return this.header.tokenCount;
  }

  /** Token ids [start, end) of the shard's flat token stream. */
  readTokens(start: number, end: number): Uint32Array {
    const n = end - start;
    if (start < 0 || end > this.header.tokenCount || n < 0) throw new RangeError(`readTokens(${start}, ${end}) outside 0..${this.header.tokenCount}`);
    const bpt = this.header.bytesPerToken;
    if (this.scratch.length < n * bpt) this.scratch = Buffer.alloc(Math.max(n * bpt, 1 << 16));
    readSync(this.fd, this.scratch, 0, n * bpt, SHARD_HEADER_BYTES + start * bpt);
    const out = new Uint32Array(n);
    if (bpt === 2) {
      const v = new Uint16Array(this.scratch.buffer, this.scratch.byteOffset, n);
      out.set(v);
    } else out.set(new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, n));
    return out;
  }

  document(i: number): TokenDocument {
    if (i < 0 || i >= this.header.documentCount) throw new RangeError(`document ${i} outside 0..${this.header.documentCount - 1}`);
    const t0 = this.docStart[i]!;
    const t1 = this.docStart[i + 1]!;
    const s0 = this.docSentence[i]!;
    const s1 = this.docSentence[i + 1]!;
    const bounds = new Uint32Array(s1 - s0 + 1);
    for (let s = s0; s < s1; s++) bounds[s - s0] = this.sentStart[s]! - t0;
    bounds[s1 - s0] = t1 - t0;
    return { tokens: this.readTokens(t0, t1), sentenceBounds: bounds };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** All shards of a set as one DocumentSource (documents numbered across shards). */
export class ShardSet implements DocumentSource {
  readonly documentCount: number;
  readonly tokenCount: number;
  private readonly firstDoc: number[];

  constructor(
    readonly dir: string,
    readonly manifest: ShardManifest,
    readonly shards: ShardReader[],
  ) {
    this.firstDoc = [];
    let d = 0;
    for (const s of shards) {
      this.firstDoc.push(d);
      d += s.documentCount;
    }
    this.documentCount = d;
    this.tokenCount = shards.reduce((n, s) => n + s.tokenCount, 0);
  }

  document(i: number): TokenDocument {
    // Binary search for the shard holding document i.
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstDoc[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.shards[lo]!.document(i - this.firstDoc[lo]!);
  }

  /** Documents in storage order, read shard by shard. */
  *documents(): Generator<TokenDocument> {
    for (const s of this.shards) for (let i = 0; i < s.documentCount; i++) yield s.document(i);
  }

  close(): void {
    for (const s of this.shards) s.close();
  }
}

/** Open a shard set; with `tokenizer`, check it is the one the shards were built with. */
export function openShards(dir: string, options: { tokenizer?: Tokenizer } = {}): ShardSet {
  const d = resolve(dir);
  const mp = join(d, 'manifest.json');
  if (!existsSync(mp)) throw new DataError('no manifest.json: expected a complete token shard folder (built by buildShards)', d);
  let manifest: ShardManifest;
  try {
    manifest = JSON.parse(readFileSync(mp, 'utf8')) as ShardManifest;
  } catch (e) {
    throw new DataError(`unreadable manifest (${(e as Error).message}): expected JSON`, mp);
  }
  if (manifest.format !== 'pretrain-token-shards' || manifest.version !== SHARD_VERSION) {
    throw new DataError(`expected a token shard manifest of version ${SHARD_VERSION}`, mp);
  }
  const tk = options.tokenizer;
  if (tk && tk.hash !== manifest.tokenizerHash) {
    throw new DataError(
      `the shards were built with tokenizer ${manifest.tokenizerHash.slice(0, 12)} but the given tokenizer is ${tk.hash.slice(0, 12)}: expected the tokenizer folder the shards were made with (or rebuild the shards)`,
      d,
    );
  }
  const readers: ShardReader[] = [];
  try {
    for (const s of manifest.shards) {
      const r = new ShardReader(join(d, s.file));
      readers.push(r);
      if (r.header.tokenizerHash !== manifest.tokenizerHash) throw new DataError('shard tokenizer hash differs from manifest.json', r.file);
      if (r.header.tokenCount !== s.tokenCount || r.header.documentCount !== s.documentCount) {
        throw new DataError('shard counts differ from manifest.json: expected a complete shard', r.file);
      }
    }
  } catch (e) {
    for (const r of readers) r.close();
    throw e;
  }
  return new ShardSet(d, manifest, readers);
}

/**
 * Batching utilities shared by the objectives: packing token streams into
 * fixed blocks, padding with attention masks, and a seeded epoch shuffler
 * whose position can be saved and restored. Pure: no Node imports.
 */
import { Rng } from './rng.js';
import type { DocumentSource } from './types.js';

/** A rectangular batch, row-major [batchSize, seqLength]. */
export interface Batch {
  batchSize: number;
  seqLength: number;
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
}

export interface PadOptions {
  padId: number;
  /** Pad (and truncate) to exactly this length; default the longest sequence. */
  maxLength?: number;
  /** Round the length up to a multiple of this (e.g. 8). */
  padToMultipleOf?: number;
  /** Default 'right'. Left padding suits decoder generation. */
  side?: 'left' | 'right';
}

/** Pad sequences into one batch; longer sequences are truncated to maxLength. */
export function padBatch(seqs: ReadonlyArray<ArrayLike<number>>, options: PadOptions): Batch {
  const longest = seqs.reduce((m, s) => Math.max(m, s.length), 0);
  let L = options.maxLength ?? longest;
  if (options.padToMultipleOf && options.padToMultipleOf > 1) L = Math.ceil(L / options.padToMultipleOf) * options.padToMultipleOf;
  const B = seqs.length;
  const inputIds = new Int32Array(B * L).fill(options.padId);
  const attentionMask = new Int32Array(B * L);
  const left = options.side === 'left';
  for (let b = 0; b < B; b++) {
    const s = seqs[b]!;
    const n = Math.min(s.length, L);
    const off = b * L + (left ? L - n : 0);
    for (let i = 0; i < n; i++) {
      inputIds[off + i] = s[i]!;
      attentionMask[off + i] = 1;
    }
  }
  return { batchSize: B, seqLength: L, inputIds, attentionMask };
}

/** Stack equal-length blocks (already packed) into a batch with a full mask. */
export function stackBlocks(blocks: ReadonlyArray<ArrayLike<number>>): Batch {
  const B = blocks.length;
  const L = B ? blocks[0]!.length : 0;
  const inputIds = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    const s = blocks[b]!;
    if (s.length !== L) throw new Error(`stackBlocks: block ${b} has length ${s.length}, expected ${L}`);
    inputIds.set(s, b * L);
  }
  return { batchSize: B, seqLength: L, inputIds, attentionMask: new Int32Array(B * L).fill(1) };
}

/** int32 ids to the int64 tensors ONNX models exported by Hugging Face take. */
export function toBigInt64(a: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return out;
}

export interface PackerState {
  /** Tokens carried over into the next block. */
  carry: number[];
}

/**
 * Concatenate documents (each followed by `separatorId` when given, e.g. EOS
 * as GPT-2/nanoGPT do) and cut the stream into blocks of `blockSize`; the
 * tail shorter than a block stays in the carry (dropped at the end, as
 * run_clm's group_texts does).
 */
export class BlockPacker {
  private buf: Int32Array;
  private fill = 0;

  constructor(
    readonly blockSize: number,
    readonly separatorId?: number,
  ) {
    if (!(blockSize >= 1)) throw new Error(`BlockPacker: blockSize must be >= 1, got ${blockSize}`);
    this.buf = new Int32Array(blockSize);
  }

  /** Add one document; returns the blocks it completed. */
  push(tokens: ArrayLike<number>): Int32Array[] {
    const out: Int32Array[] = [];
    const put = (t: number): void => {
      this.buf[this.fill++] = t;
      if (this.fill === this.blockSize) {
        out.push(this.buf);
        this.buf = new Int32Array(this.blockSize);
        this.fill = 0;
      }
    };
    for (let i = 0; i < tokens.length; i++) put(tokens[i]!);
    if (this.separatorId !== undefined) put(this.separatorId);
    return out;
  }

  getState(): PackerState {
    return { carry: Array.from(this.buf.subarray(0, this.fill)) };
  }

  setState(s: PackerState): void {
    if (s.carry.length >= this.blockSize) throw new Error('BlockPacker.setState: carry longer than a block');
    this.buf = new Int32Array(this.blockSize);
    this.buf.set(s.carry);
    this.fill = s.carry.length;
  }
}

/** Pack a whole list of documents into blocks (tail dropped). */
export function packBlocks(docs: Iterable<ArrayLike<number>>, blockSize: number, separatorId?: number): Int32Array[] {
  const p = new BlockPacker(blockSize, separatorId);
  const out: Int32Array[] = [];
  for (const d of docs) out.push(...p.push(d));
  return out;
}

export interface ShufflerState {
  seed: number;
  epoch: number;
  position: number;
}

/**
 * A fresh permutation of [0, n) per epoch, derived from (seed, epoch) so
 * that only three numbers need saving to resume mid-epoch.
 */
export class EpochShuffler {
  private order: Uint32Array;
  private epoch_ = 0;
  private position_ = 0;

  constructor(
    readonly n: number,
    private readonly seed: number,
    private readonly shuffle = true,
  ) {
    this.order = this.permutation(0);
  }

  get epoch(): number {
    return this.epoch_;
  }
  get position(): number {
    return this.position_;
  }

  private permutation(epoch: number): Uint32Array {
    const a = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) a[i] = i;
    if (this.shuffle) new Rng(`${this.seed}:${epoch}`).shuffle(a);
    return a;
  }

  /** The next index; rolls over into a new epoch. */
  next(): number {
    if (this.n === 0) throw new Error('EpochShuffler: nothing to shuffle');
    if (this.position_ >= this.n) {
      this.epoch_++;
      this.position_ = 0;
      this.order = this.permutation(this.epoch_);
    }
    return this.order[this.position_++]!;
  }

  getState(): ShufflerState {
    return { seed: this.seed, epoch: this.epoch_, position: this.position_ };
  }

  setState(s: ShufflerState): void {
    if (s.seed !== this.seed) throw new Error(`EpochShuffler.setState: state is for seed ${s.seed}, this shuffler has ${this.seed}`);
    this.epoch_ = s.epoch;
    this.position_ = s.position;
    this.order = this.permutation(s.epoch);
  }
}

export interface BlockLoaderOptions {
  blockSize: number;
  batchSize: number;
  seed: number;
  /** Appended after every document (EOS for causal LM). */
  separatorId?: number;
  /** Shuffle document order each epoch. Default true. */
  shuffle?: boolean;
}

export interface BlockLoaderState {
  shuffler: ShufflerState;
  packer: PackerState;
  /** Completed blocks not yet served. */
  pending: number[][];
}

/**
 * Endless batches of packed blocks from a document source (token shards):
 * documents in a seeded order per epoch, concatenated with a separator, cut
 * into blocks, stacked into batches. Resumable through getState/setState.
 */
export class BlockLoader {
  private readonly shuffler: EpochShuffler;
  private readonly packer: BlockPacker;
  private pending: Int32Array[] = [];

  constructor(
    private readonly source: DocumentSource,
    readonly options: BlockLoaderOptions,
  ) {
    if (source.documentCount === 0) throw new Error('BlockLoader: the document source is empty');
    this.shuffler = new EpochShuffler(source.documentCount, options.seed, options.shuffle ?? true);
    this.packer = new BlockPacker(options.blockSize, options.separatorId);
  }

  get epoch(): number {
    return this.shuffler.epoch;
  }

  nextBatch(): Batch {
    let guard = 0;
    while (this.pending.length < this.options.batchSize) {
      const doc = this.source.document(this.shuffler.next());
      for (const b of this.packer.push(doc.tokens)) this.pending.push(b);
      // A source whose documents are all empty would loop forever.
      if (++guard > 10 * this.source.documentCount + this.options.batchSize * this.options.blockSize) {
        throw new Error('BlockLoader: documents yield no tokens');
      }
    }
    const blocks = this.pending.splice(0, this.options.batchSize);
    return stackBlocks(blocks);
  }

  getState(): BlockLoaderState {
    return { shuffler: this.shuffler.getState(), packer: this.packer.getState(), pending: this.pending.map((b) => Array.from(b)) };
  }

  setState(s: BlockLoaderState): void {
    this.shuffler.setState(s.shuffler);
    this.packer.setState(s.packer);
    this.pending = s.pending.map((b) => Int32Array.from(b));
  }
}

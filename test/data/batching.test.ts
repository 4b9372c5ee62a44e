import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockLoader, BlockPacker, EpochShuffler, packBlocks, padBatch, stackBlocks, toBigInt64 } from '../../src/data/batching.js';
import type { DocumentSource, TokenDocument } from '../../src/data/types.js';

test('padBatch: right and left padding, masks, multiple-of, truncation', () => {
  const r = padBatch([[1, 2, 3], [4]], { padId: 0 });
  assert.equal(r.seqLength, 3);
  assert.deepEqual(Array.from(r.inputIds), [1, 2, 3, 4, 0, 0]);
  assert.deepEqual(Array.from(r.attentionMask), [1, 1, 1, 1, 0, 0]);
  const l = padBatch([[1, 2, 3], [4]], { padId: 9, side: 'left', padToMultipleOf: 4 });
  assert.equal(l.seqLength, 4);
  assert.deepEqual(Array.from(l.inputIds), [9, 1, 2, 3, 9, 9, 9, 4]);
  assert.deepEqual(Array.from(l.attentionMask), [0, 1, 1, 1, 0, 0, 0, 1]);
  const t = padBatch([[1, 2, 3, 4, 5]], { padId: 0, maxLength: 2 });
  assert.deepEqual(Array.from(t.inputIds), [1, 2]);
  assert.deepEqual(toBigInt64([1, 2]), new BigInt64Array([1n, 2n]));
});

test('packing concatenates documents with a separator and drops the tail', () => {
  const blocks = packBlocks([[1, 2, 3], [4, 5], [6, 7, 8, 9]], 4, 0);
  assert.deepEqual(blocks.map((b) => Array.from(b)), [[1, 2, 3, 0], [4, 5, 0, 6], [7, 8, 9, 0]]);
  assert.deepEqual(packBlocks([[1, 2, 3, 4, 5]], 2).map((b) => Array.from(b)), [[1, 2], [3, 4]]);
  const p = new BlockPacker(3);
  p.push([1, 2, 3, 4]);
  const q = new BlockPacker(3);
  q.setState(JSON.parse(JSON.stringify(p.getState())));
  assert.deepEqual(q.push([5, 6]).map((b) => Array.from(b)), [[4, 5, 6]]);
  assert.throws(() => stackBlocks([[1, 2], [3]]));
});

test('EpochShuffler: a permutation per epoch, different across epochs, resumable', () => {
  const s = new EpochShuffler(10, 123);
  const e0 = Array.from({ length: 10 }, () => s.next());
  const e1 = Array.from({ length: 10 }, () => s.next());
  assert.deepEqual([...e0].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  assert.equal(s.epoch, 1);
  const t = new EpochShuffler(10, 123);
  for (let i = 0; i < 13; i++) t.next();
  const state = t.getState();
  const rest = Array.from({ length: 20 }, () => t.next());
  const u = new EpochShuffler(10, 123);
  u.setState(state);
  assert.deepEqual(Array.from({ length: 20 }, () => u.next()), rest);
  assert.deepEqual(Array.from({ length: 5 }, () => new EpochShuffler(5, 1, false).next()), [0, 0, 0, 0, 0]);
});

class ArraySource implements DocumentSource {
  constructor(private docs: number[][]) {}
  get documentCount(): number {
    return this.docs.length;
  }
  get tokenCount(): number {
    return this.docs.reduce((s, d) => s + d.length, 0);
  }
  document(i: number): TokenDocument {
    const t = Uint32Array.from(this.docs[i]!);
    return { tokens: t, sentenceBounds: Uint32Array.from([0, t.length]) };
  }
}

test('BlockLoader: deterministic from the seed and resumable mid-stream', () => {
  const docs = Array.from({ length: 37 }, (_, i) => Array.from({ length: 3 + (i % 11) }, (_, j) => i * 100 + j + 1));
  const src = new ArraySource(docs);
  const mk = (): BlockLoader => new BlockLoader(src, { blockSize: 8, batchSize: 4, seed: 5, separatorId: 0 });
  const a = mk();
  for (let i = 0; i < 7; i++) a.nextBatch();
  const state = JSON.parse(JSON.stringify(a.getState()));
  const next = Array.from({ length: 10 }, () => Array.from(a.nextBatch().inputIds));
  const b = mk();
  b.setState(state);
  assert.deepEqual(Array.from({ length: 10 }, () => Array.from(b.nextBatch().inputIds)), next);
  const c = mk();
  const first = c.nextBatch();
  assert.equal(first.batchSize, 4);
  assert.equal(first.seqLength, 8);
  assert.ok(first.attentionMask.every((x) => x === 1));
  // Every token of the first epoch appears in order of some document.
  assert.ok(a.epoch >= 1);
});

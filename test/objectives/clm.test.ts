// Causal-LM blocks: packing (HF group_texts) and random windows (nanoGPT), and the batch layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clmBatch, clmPaddedBatch, packDocuments, randomWindows } from '../../src/objectives/clm.js';
import { Rng } from '../../src/data/index.js';

test('packing joins documents with EOS and drops the tail, as group_texts does', () => {
  const blocks = packDocuments([[1, 2, 3], [4, 5], [6, 7, 8, 9]], 4, 0);
  assert.deepEqual(blocks.map((b) => Array.from(b)), [[1, 2, 3, 0], [4, 5, 0, 6], [7, 8, 9, 0]]);
  assert.deepEqual(packDocuments([[1, 2]], 4, 0), [], 'a stream shorter than a block gives no block');
  assert.throws(() => packDocuments([[1]], 1, 0), /block size must be >= 2/);
});

test('random windows are contiguous slices with uniform starts, reproducible from the seed', () => {
  const stream = Int32Array.from({ length: 50 }, (_, i) => i);
  const rng = new Rng(3);
  const starts = new Array<number>(50 - 8 + 1).fill(0);
  for (let k = 0; k < 200; k++)
    for (const w of randomWindows(stream, 8, 10, () => rng.random())) {
      for (let i = 1; i < 8; i++) assert.equal(w[i], w[0] + i);
      starts[w[0]]++;
    }
  // 2000 draws over 43 starts: every start is drawn, none wildly often (expected 46.5 each).
  assert.ok(Math.min(...starts) > 15 && Math.max(...starts) < 85, `start counts ${Math.min(...starts)}..${Math.max(...starts)}`);
  const a = randomWindows(stream, 8, 4, (() => { const r = new Rng(9); return () => r.random(); })());
  const b = randomWindows(stream, 8, 4, (() => { const r = new Rng(9); return () => r.random(); })());
  assert.deepEqual(a, b);
  assert.throws(() => randomWindows(stream, 50, 1, Math.random), /longer than the block size/);
});

test('batches: labels equal the inputs; padded batches mask padding and ignore it in the labels', () => {
  const b = clmBatch([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(b.input_ids.shape, [2, 3]);
  assert.deepEqual(Array.from(b.labels.data as BigInt64Array, Number), [1, 2, 3, 4, 5, 6]);
  const p = clmPaddedBatch([[1, 2, 3], [4]], 0);
  assert.deepEqual(Array.from(p.input_ids.data as BigInt64Array, Number), [1, 2, 3, 4, 0, 0]);
  assert.deepEqual(Array.from(p.attention_mask.data as BigInt64Array, Number), [1, 1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(p.labels.data as BigInt64Array, Number), [1, 2, 3, 4, -100, -100]);
});

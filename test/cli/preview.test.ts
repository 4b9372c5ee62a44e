// `pretrain preview`: the formatting of masked examples (pure), on tiny synthetic batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPreview, previewExamples } from '../../src/cli/preview.js';
import { int64Tensor } from '../../src/objectives/mlm.js';

const WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran'];
const text = (id: number) => WORDS[id] ?? `<${id}>`;
const special = (id: number) => id <= 4;

test('NSP example: segments A/B, label, [MASK](original), {original->random}, <kept>; padding left out', () => {
  // [CLS] the [MASK](cat) [SEP] {sat->dog} <on> [SEP] [PAD]
  const T = 8;
  const b = {
    input_ids: int64Tensor([1, T], [2, 5, 4, 3, 10, 8, 3, 0]),
    attention_mask: int64Tensor([1, T], [1, 1, 1, 1, 1, 1, 1, 0]),
    labels: int64Tensor([1, T], [-100, -100, 6, -100, 7, 8, -100, -100]),
    token_type_ids: int64Tensor([1, T], [0, 0, 0, 0, 1, 1, 1, 0]),
    next_sentence_label: int64Tensor([1], [1]),
  };
  const ex = previewExamples(b, text, special, 4);
  assert.equal(ex.length, 1);
  assert.deepEqual(ex[0]!.tokens.map((t) => t.kind), ['none', 'none', 'mask', 'none', 'random', 'keep', 'none']);
  const plain = formatPreview(ex, { color: false, json: false, info: { objective: 'mlm+nsp' } });
  assert.match(plain, /objective: mlm\+nsp/);
  assert.match(plain, /NotNext, random B \(label 1\)/);
  assert.match(plain, /^A: \[CLS\] the \[MASK\]\(cat\) \[SEP\]$/m);
  assert.match(plain, /^B: \{sat->dog\} <on> \[SEP\]$/m);
  assert.ok(!plain.includes('\x1b['), 'no ANSI codes without colour');
  assert.ok(!plain.includes('[PAD]'), 'padding is left out');
  const coloured = formatPreview(ex, { color: true, json: false });
  assert.match(coloured, /\x1b\[1;37;41m\[MASK\]\x1b\[0m/);
  assert.match(coloured, /\x1b\[1;33msat->dog\x1b\[0m/);
  const j = JSON.parse(formatPreview(ex, { color: false, json: true, info: { objective: 'mlm+nsp' } }));
  assert.equal(j.objective, 'mlm+nsp');
  assert.deepEqual(j.examples[0].tokens, ['[CLS]', 'the', 'cat', '[SEP]', 'sat', 'on', '[SEP]']);
  assert.deepEqual(j.examples[0].input_tokens, ['[CLS]', 'the', '[MASK]', '[SEP]', 'dog', 'on', '[SEP]']);
  assert.deepEqual(j.examples[0].input_ids, [2, 5, 4, 3, 10, 8, 3]);
  assert.deepEqual(j.examples[0].labels, [-100, -100, 6, -100, 7, 8, -100]);
  assert.deepEqual(j.examples[0].token_type_ids, [0, 0, 0, 0, 1, 1, 1]);
  assert.equal(j.examples[0].next_sentence_label, 1);
});

test('span example: span brackets, SBO boundaries, JSON spans', () => {
  // [CLS] the [[cat sat]] on [[mat]] [SEP]
  const T = 7;
  const b = {
    input_ids: int64Tensor([1, T], [2, 5, 4, 4, 8, 9, 3]),
    attention_mask: int64Tensor([1, T], [1, 1, 1, 1, 1, 1, 1]),
    labels: int64Tensor([1, T], [-100, -100, 6, 7, -100, 9, -100]),
    sbo_left: int64Tensor([1, 3], [1, 1, 4]),
    sbo_right: int64Tensor([1, 3], [4, 4, 6]),
    sbo_position: int64Tensor([1, 3], [0, 1, 0]),
    sbo_labels: int64Tensor([1, 3], [6, 7, 9]),
  };
  const ex = previewExamples(b, text, special, 4);
  assert.deepEqual(ex[0]!.spans, [{ start: 2, end: 3, kind: 'mask' }, { start: 5, end: 5, kind: 'keep' }]);
  const plain = formatPreview(ex, { color: false, json: false });
  assert.match(plain, /\[CLS\] the \[\[\[MASK\]\(cat\) \[MASK\]\(sat\)\]\] on \[\[<mat>\]\] \[SEP\]/);
  assert.match(plain, /2 spans, 3 SBO targets/);
  assert.match(plain, /SBO: the _2_ on \| on _1_ \[SEP\]/);
  const j = JSON.parse(formatPreview(ex, { color: false, json: true }));
  assert.deepEqual(j.examples[0].spans, [{ start: 2, end: 3, kind: 'mask' }, { start: 5, end: 5, kind: 'keep' }]);
  assert.deepEqual(j.examples[0].sbo[2], { left: 4, right: 6, position: 0, label: 9 });
});

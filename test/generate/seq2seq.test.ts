// Seq2seq generation over the T5 fixture: greedy tokens equal HF's generation.new_tokens and the step logits
// equal its scores, with the KV cache (self-attention keys/values growing, cross-attention keys/values computed
// once) and without it (the whole decoder sequence re-read each step); a padded batch of two prompts gives each
// prompt's own continuation; EOS stops a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseT5Config } from '../../src/io/hf-config.js';
import { T5ForConditionalGeneration, t5ConfigFromHf } from '../../src/models/t5.js';
import { Seq2SeqGenerator } from '../../src/generate/seq2seq.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { loadWeights, maxAbs, readConfigJson, readReference, type Reference } from '../helpers/fixtures.js';

type T5Generation = Reference['generation'] & { decoder_start_token_id: number; eos_token_id: number };
const ref = readReference('t5');
const gen = ref.generation as T5Generation;
const config = t5ConfigFromHf(parseT5Config(readConfigJson('t5'), 't5/config.json'));

async function load() {
  const model = new T5ForConditionalGeneration(config);
  return { model, store: await loadWeights('t5', model, true) };
}

for (const cache of [true, false]) {
  test(`t5 greedy generation ${cache ? 'with' : 'without'} the KV cache: HF's tokens and scores`, async () => {
    const { model, store } = await load();
    const g = await Seq2SeqGenerator.create(nodeBackend, model, store, { cache });
    const prompt = gen.input_ids[0];
    assert.ok(gen.attention_mask[0].every((m) => m === 1));
    const res = await g.generate(prompt, {
      maxNewTokens: gen.max_new_tokens, decoderStartTokenId: gen.decoder_start_token_id, eosTokenId: gen.eos_token_id, returnLogits: true,
    });
    assert.deepEqual(res.tokens, gen.new_tokens);
    assert.equal(res.runs, gen.max_new_tokens);
    const V = config.vocabSize;
    let worst = 0;
    res.logits!.forEach((step, k) => (worst = Math.max(worst, maxAbs(step[0], gen.scores.data.slice(k * V, (k + 1) * V)))));
    console.log(`t5 generation (${cache ? 'cache' : 'no cache'}): max |scores - ref| ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `scores differ by ${worst}`);
  });
}

test('t5 generation: a right-padded batch gives each prompt its own continuation; EOS ends a row', async () => {
  const { model, store } = await load();
  const withCache = await Seq2SeqGenerator.create(nodeBackend, model, store);
  const noCache = await Seq2SeqGenerator.create(nodeBackend, model, store, { cache: false });
  const a = gen.input_ids[0];
  const b = [9, 40, 77, 3, 1];
  const opts = { maxNewTokens: 6, decoderStartTokenId: 0, returnLogits: true };
  const alone = await withCache.generate(b, opts);
  const batch = await withCache.generate([a, b], opts);
  const batchNoCache = await noCache.generate([a, b], opts);
  assert.deepEqual(batch.tokens[0], gen.new_tokens[0].slice(0, 6));
  assert.deepEqual(batch.tokens[1], alone.tokens[0]);
  assert.deepEqual(batchNoCache.tokens, batch.tokens);
  for (let k = 0; k < 6; k++) assert.ok(maxAbs(batch.logits![k][1], alone.logits![k][0]) < 1e-4, `step ${k}: padding changed the logits`);
  // Treat the first generated token as EOS: the row stops after one token.
  const first = alone.tokens[0][0];
  const stopped = await withCache.generate(b, { ...opts, eosTokenId: first });
  assert.deepEqual(stopped.tokens, [[first]]);
  assert.deepEqual(stopped.finishReason, ['eos']);
});

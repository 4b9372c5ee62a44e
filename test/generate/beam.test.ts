// Beam search against test/fixtures/hf/beam_reference.json, token for token, for the gpt2, llama and t5 fixtures:
// num_beams 2 and 4 with each model's own EOS, and with two other EOS ids that make hypotheses finish early, under
// length penalties 1, 0, 2 and -1 and early_stopping false, true and 'never' (50 cases per model), through the KV
// cache and without it.
//
// About the reference: Python transformers is not installable where this project is built, so
// beam_reference.json was made by test/fixtures/hf/make_beam_reference.py, a float64 PyTorch re-implementation of
// the fixture models and of HF generate()'s beam search (BeamSearchScorer / BeamHypotheses). That script first
// checks that its models reproduce transformers' own greedy tokens and step logits (reference.json), so the
// models are HF's; the beam search is HF's algorithm as re-implemented there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { causalLMFromHf } from '../../src/models/index.js';
import { parseHfConfig, parseT5Config } from '../../src/io/hf-config.js';
import { T5ForConditionalGeneration, t5ConfigFromHf } from '../../src/models/t5.js';
import { Generator } from '../../src/generate/generate.js';
import { Seq2SeqGenerator } from '../../src/generate/seq2seq.js';
import { beamSearch, gatherRows, repeatRows } from '../../src/generate/beam.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { loadWeights, readConfigJson } from '../helpers/fixtures.js';

interface BeamCase {
  num_beams: number;
  eos_token_id: number;
  length_penalty: number;
  early_stopping: boolean | 'never';
  max_new_tokens: number;
  new_tokens: number[];
  sequence_score: number;
  steps: number;
}
interface BeamReference {
  models: Record<string, { input_ids: number[]; decoder_start_token_id?: number; cases: BeamCase[] }>;
}
const ref = JSON.parse(readFileSync('test/fixtures/hf/beam_reference.json', 'utf8')) as BeamReference;

const opts = (c: BeamCase) => ({
  numBeams: c.num_beams, maxNewTokens: c.max_new_tokens, eosTokenId: c.eos_token_id, lengthPenalty: c.length_penalty, earlyStopping: c.early_stopping,
});
const label = (c: BeamCase) => `beams ${c.num_beams}, eos ${c.eos_token_id}, length_penalty ${c.length_penalty}, early_stopping ${String(c.early_stopping)}`;

for (const name of ['gpt2', 'llama']) {
  for (const cache of [true, false]) {
    test(`${name} beam search ${cache ? 'with' : 'without'} the KV cache: the reference beams, token for token`, async () => {
      const info = causalLMFromHf(parseHfConfig(readConfigJson(name), `${name}/config.json`));
      const store = await loadWeights(name, info.model as unknown as Parameters<typeof loadWeights>[1]);
      const gen = await Generator.create(nodeBackend, info.model, store, { cache });
      const m = ref.models[name];
      for (const c of m.cases) {
        const r = await gen.beamSearch(m.input_ids, opts(c));
        assert.deepEqual(r.sequences[0].tokens, c.new_tokens, label(c));
        assert.ok(Math.abs(r.sequences[0].score - c.sequence_score) < 1e-4, `${label(c)}: score ${r.sequences[0].score} vs ${c.sequence_score}`);
        assert.equal(r.runs, c.steps, `${label(c)}: runs`);
        assert.equal(r.sequences[0].finishReason, c.new_tokens.length < c.max_new_tokens || c.new_tokens.at(-1) === c.eos_token_id ? 'eos' : 'length');
      }
    });
  }
}

for (const cache of [true, false]) {
  test(`t5 beam search ${cache ? 'with' : 'without'} the KV cache: the reference beams, token for token`, async () => {
    const model = new T5ForConditionalGeneration(t5ConfigFromHf(parseT5Config(readConfigJson('t5'), 't5/config.json')));
    const gen = await Seq2SeqGenerator.create(nodeBackend, model, await loadWeights('t5', model), { cache });
    const m = ref.models.t5;
    for (const c of m.cases) {
      const r = await gen.beamSearch(m.input_ids, { ...opts(c), decoderStartTokenId: m.decoder_start_token_id! });
      assert.deepEqual(r.tokens[0], c.new_tokens, label(c));
      assert.ok(Math.abs(r.scores[0] - c.sequence_score) < 1e-4, `${label(c)}: score ${r.scores[0]} vs ${c.sequence_score}`);
      assert.equal(r.runs, c.steps, `${label(c)}: runs`);
    }
  });
}

test('beam search over a batch: each prompt gets the beams it gets alone', async () => {
  const info = causalLMFromHf(parseHfConfig(readConfigJson('gpt2'), 'gpt2/config.json'));
  const store = await loadWeights('gpt2', info.model as unknown as Parameters<typeof loadWeights>[1]);
  const gen = await Generator.create(nodeBackend, info.model, store);
  const a = ref.models.gpt2.input_ids;
  const b = [5, 9, 100];
  const o = { numBeams: 3, maxNewTokens: 8, eosTokenId: 50 };
  const batch = await gen.beamSearch([a, b], o);
  assert.deepEqual(batch.sequences[0].tokens, (await gen.beamSearch(a, o)).sequences[0].tokens);
  assert.deepEqual(batch.sequences[1].tokens, (await gen.beamSearch(b, o)).sequences[0].tokens);

  const model = new T5ForConditionalGeneration(t5ConfigFromHf(parseT5Config(readConfigJson('t5'), 't5/config.json')));
  const s2s = await Seq2SeqGenerator.create(nodeBackend, model, await loadWeights('t5', model));
  const x = ref.models.t5.input_ids;
  const y = [9, 40, 77, 3, 1];
  const so = { numBeams: 4, maxNewTokens: 6, decoderStartTokenId: 0, eosTokenId: 1 };
  const both = await s2s.beamSearch([x, y], so);
  assert.deepEqual(both.tokens, [(await s2s.beamSearch(x, so)).tokens[0], (await s2s.beamSearch(y, so)).tokens[0]]);
});

test('beam search core: one beam is greedy; options are checked; rows gather and repeat', async () => {
  // A fake model: logits favour token (step + row-independent) so beams are predictable.
  const vocab = 5;
  let step = 0;
  const r = await beamSearch(1, vocab, { numBeams: 1, maxNewTokens: 3 }, async () => {
    const l = new Float32Array(vocab).fill(0);
    l[(step++ % 4) + 1] = 3;
    return l;
  });
  assert.deepEqual(r.best[0].tokens, [1, 2, 3]);
  assert.equal(r.best[0].finishReason, 'length');
  await assert.rejects(beamSearch(1, vocab, { numBeams: 0, maxNewTokens: 3 }, async () => new Float32Array(vocab)), /numBeams must be a positive integer/);
  await assert.rejects(beamSearch(1, vocab, { numBeams: 2, maxNewTokens: 3, earlyStopping: 'sometimes' as never }, async () => new Float32Array(vocab)), /earlyStopping/);
  const t = { dtype: 'float32' as const, shape: [3, 2], data: Float32Array.from([0, 1, 2, 3, 4, 5]) };
  assert.deepEqual([...gatherRows(t, [2, 0]).data], [4, 5, 0, 1]);
  assert.deepEqual([...repeatRows({ dtype: 'int64', shape: [2, 1], data: BigInt64Array.from([7n, 8n]) }, 2).data], [7n, 7n, 8n, 8n]);
});

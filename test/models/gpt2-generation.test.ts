// GPT-2's greedy generation against the Hugging Face fixture (test/fixtures/hf/gpt2), without a KV cache: the full
// forward is re-run on the growing sequence and the last position's logits pick the next token. HF generated with
// its cache; the fixture's README says a cache-free loop gives the same tokens and scores to 3e-15.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ctx } from '../../src/nn/index.js';
import { Gpt2LMHeadModel, gpt2Config } from '../../src/models/gpt2.js';
import { Forward } from '../../src/runtime/step.js';
import type { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { i64, loadWeights, readConfigJson, readReference } from '../helpers/fixtures.js';

const ref = readReference('gpt2');
const hf = readConfigJson('gpt2') as Record<string, number>;
const config = gpt2Config({
  vocabSize: hf.vocab_size, nEmbd: hf.n_embd, nLayer: hf.n_layer, nHead: hf.n_head, nPositions: hf.n_positions,
  layerNormEpsilon: hf.layer_norm_epsilon, bosTokenId: hf.bos_token_id, eosTokenId: hf.eos_token_id,
});

async function load(): Promise<{ model: Gpt2LMHeadModel; store: ParameterStore }> {
  const model = new Gpt2LMHeadModel(config);
  return { model, store: await loadWeights('gpt2', model) };
}

test('gpt2 fixture: greedy generation without a cache gives the same tokens and scores', async () => {
  const { model, store } = await load();
  const fwd = await Forward.compile(nodeBackend, (g) => {
    const ctx = new Ctx(g);
    const { hidden } = model.transformer.forward(ctx, {
      inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
      attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
    });
    return { logits: model.logits(ctx, hidden) };
  }, store);
  const gen = ref.generation;
  const v = config.vocabSize;
  assert.deepEqual(gen.scores.shape, [gen.max_new_tokens, v]);
  const ids = [...gen.input_ids[0]];
  const fresh: number[] = [];
  let worst = 0;
  for (let step = 0; step < gen.max_new_tokens; step++) {
    const out = await fwd.run({ input_ids: i64([ids]), attention_mask: i64([ids.map(() => 1)]) });
    const last = (out.logits.data as Float32Array).subarray((ids.length - 1) * v, ids.length * v);
    const want = gen.scores.data.slice(step * v, (step + 1) * v);
    for (let j = 0; j < v; j++) worst = Math.max(worst, Math.abs(last[j] - want[j]));
    let best = 0;
    for (let j = 1; j < v; j++) if (last[j] > last[best]) best = j;
    fresh.push(best);
    ids.push(best);
  }
  console.log(`gpt2: generation max |scores - ref| ${worst.toExponential(2)}`);
  assert.deepEqual(fresh, gen.new_tokens[0]);
  assert.ok(worst <= 1e-4, `scores differ by ${worst}`);
});

// T5's token-classification head (HF's T5ForTokenClassification: the encoder alone and a linear classifier): a
// tiny T5 with a Unigram tokenizer trained on Brown tags Brown parts of speech well above the majority tag and
// reloads through loadFinetuned; a T5ForConditionalGeneration checkpoint's `shared` and `encoder.*` start the
// tagger's `transformer.*` body (HF's base_model_prefix) and its decoder is left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import '../../src/models/index.js';
import { initParameters } from '../../src/nn/index.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { finetuneTagger, type TaggingData } from '../../src/train/finetune.js';
import { assertTagsBrown, tinyTaggerSetup } from '../helpers/tagging.js';

const setup = tinyTaggerSetup('ft-t5-tag', 'unigram', 't5');
const { dir, hf, common } = setup;

test('a tiny T5 tags Brown parts of speech with its encoder, well above the majority tag; the checkpoint reloads', async () => {
  const m = await assertTagsBrown(setup, 'T5ForTokenClassification', 't5');
  await assert.rejects(m.generate('x'), /not a text-to-text model/);
});

test('a T5ForConditionalGeneration checkpoint starts the tagger\'s transformer.* body; the decoder is left out', async () => {
  const pre = setup.entry.build(hf);
  const specs = pre.parameters();
  const store = new ParameterStore();
  for (const [n, v] of initParameters(specs, 9)) store.set(n, specs.find((p) => p.name === n)!.shape, v);
  const data: TaggingData = { labels: ['A', 'B'], train: [{ tokens: ['the', 'cat'], tags: ['A', 'B'] }], eval: [{ tokens: ['a', 'dog'], tags: ['A', 'B'] }] };
  const near = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < 1e-6);
  const run = async (scratch: boolean) => {
    const r = await finetuneTagger({ ...common, base: { ...common.base, store }, scratch, data, out: path.join(dir, scratch ? 'scratch' : 'pre'), maxLen: 8, epochs: 1, lr: 1e-9 });
    return (await loadCheckpoint(r.dir, { skipOptimizer: true })).weights;
  };
  const w = await run(false);
  for (const name of ['shared.weight', 'encoder.block.1.layer.0.SelfAttention.q.weight', 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'encoder.final_layer_norm.weight'])
    assert.ok(near(w.get(`transformer.${name}`)!.data, store.get(name)), `transformer.${name} from the pretrained ${name}`);
  assert.ok(w.has('classifier.weight') && w.has('classifier.bias'));
  assert.deepEqual([...w.keys()].filter((n) => !n.startsWith('transformer.encoder.') && !n.startsWith('classifier.')), ['transformer.shared.weight']);
  const fresh = await run(true);
  assert.ok(!near(fresh.get('transformer.encoder.block.1.layer.0.SelfAttention.q.weight')!.data, store.get('encoder.block.1.layer.0.SelfAttention.q.weight')), 'scratch does not copy');
});

// Encoder inference: the exported onnx/model.onnx (transformers.js names, weights baked in) against the HF fixtures,
// our fill-mask, and transformers.js's fill-mask and feature-extraction pipelines on a checkpoint folder we write
// (a new tiny BERT with a WordPiece tokenizer we train): same top-1 token, same scores, same hidden states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportEncoderOnnx, encoderInputNames, buildEncoderGraph } from '../../src/generate/encoder-graph.js';
import { FillMask, fillMask } from '../../src/generate/fill-mask.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { parseBertConfig, parseRobertaConfig } from '../../src/io/hf-config.js';
import { BertForPreTraining, bertConfigFromHf } from '../../src/models/bert.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { RobertaForMaskedLM, robertaConfigFromHf } from '../../src/models/roberta.js';
import { initParameters } from '../../src/nn/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { Forward } from '../../src/runtime/step.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { tokenizerFromJson } from '../../src/tokenizers/tokenizer.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { weightsOf } from '../../src/train/pretrain.js';
import { i64, loadWeights, maxAbs, readConfigJson, readReference } from '../helpers/fixtures.js';

test('the exported encoder graphs reproduce the HF fixtures (bert: 3 inputs, roberta: 2)', async () => {
  const bertRef = readReference('bert') as ReturnType<typeof readReference> & { inputs: { token_type_ids: number[][] } };
  const bert = new BertForPreTraining(bertConfigFromHf(parseBertConfig(readConfigJson('bert'), 'bert')));
  const bs = await nodeBackend.createSession(exportEncoderOnnx(bert, await loadWeights('bert', bert)));
  assert.deepEqual([...bs.inputNames], ['input_ids', 'attention_mask', 'token_type_ids']);
  assert.deepEqual([...bs.outputNames].sort(), ['last_hidden_state', 'logits']);
  const b = await bs.run({ input_ids: i64(bertRef.inputs.input_ids), attention_mask: i64(bertRef.inputs.attention_mask), token_type_ids: i64(bertRef.inputs.token_type_ids) });
  assert.ok(maxAbs(b.logits.data as Float32Array, bertRef.outputs.prediction_logits.data) <= 1e-4);
  assert.ok(maxAbs(b.last_hidden_state.data as Float32Array, bertRef.outputs.last_hidden_state.data) <= 1e-4);
  await bs.release();

  const rRef = readReference('roberta');
  const roberta = new RobertaForMaskedLM(robertaConfigFromHf(parseRobertaConfig(readConfigJson('roberta'), 'roberta')));
  assert.deepEqual(encoderInputNames(roberta), ['input_ids', 'attention_mask']);
  const rs = await nodeBackend.createSession(exportEncoderOnnx(roberta, await loadWeights('roberta', roberta)));
  assert.deepEqual([...rs.inputNames], ['input_ids', 'attention_mask']);
  const r = await rs.run({ input_ids: i64(rRef.inputs.input_ids), attention_mask: i64(rRef.inputs.attention_mask) });
  assert.ok(maxAbs(r.logits.data as Float32Array, rRef.outputs.logits.data) <= 1e-4);
  assert.ok(maxAbs(r.last_hidden_state.data as Float32Array, rRef.outputs.last_hidden_state.data) <= 1e-4);
  await rs.release();
});

const SENTENCES = [
  'The cat sat on the mat.', 'The dog sat on the log.', 'A cat and a dog played in the garden.',
  'The bird sang in the tree.', 'The children read a book in the garden.', 'A dog ran after the cat.',
  'The sun was warm and the sky was blue.', 'The cat slept on the warm mat.', 'She read the book to the children.',
];

/** A new tiny BERT (registry newConfig) for a WordPiece tokenizer trained on a few sentences. */
function tinyBert() {
  const trained = trainTokenizer('wordpiece', SENTENCES, { vocabSize: 120, minFrequency: 1 });
  const tok = tokenizerFromJson(trained.tokenizerJson, trained.tokenizerConfig);
  const entry = getModel('bert');
  // A wide init (as the fixtures use) spreads the logits, so the top-1 token has a clear margin.
  const hf = { ...entry.newConfig({ layers: 2, hidden: 32, heads: 4, positions: 64, dropout: 0 }, tok), initializer_range: 0.2 };
  const model = entry.build(hf, { heads: ['mlm'] }) as BertForPreTraining;
  const store = new ParameterStore();
  const init = initParameters(model.parameters(), 11);
  for (const p of model.parameters()) store.set(p.name, p.shape, init.get(p.name)!);
  return { trained, tok, hf, model, store, entry };
}

test('fill-mask: top-k candidates shaped as HF\'s pipeline, and a clear error without a mask token', async () => {
  const { tok, model, store } = tinyBert();
  assert.equal(model.config.vocabSize, tok.vocabSize);
  const fm = await FillMask.create(nodeBackend, model, store, tok);
  const [cands] = await fm.predict('the cat sat on the [MASK].', { topK: 4 });
  assert.equal(cands.length, 4);
  for (let i = 1; i < cands.length; i++) assert.ok(cands[i - 1].score >= cands[i].score);
  for (const c of cands) {
    assert.deepEqual(Object.keys(c).sort(), ['score', 'sequence', 'token', 'token_str']);
    assert.equal(c.token_str, await tok.decode([c.token], { skipSpecialTokens: false }));
    assert.ok(!c.sequence.includes('[CLS]') && !c.sequence.includes('[SEP]'), c.sequence);
  }
  // Scores are probabilities over the whole vocabulary.
  const all = (await fm.predict('the cat sat on the [MASK].', { topK: tok.vocabSize }))[0];
  assert.ok(Math.abs(all.reduce((a, c) => a + c.score, 0) - 1) < 1e-6);
  const two = await fm.predict('the [MASK] sat on the [MASK].', { topK: 2 });
  assert.equal(two.length, 2);
  await assert.rejects(fillMask(nodeBackend, model, store, tok, 'no mask here'), /the text has no \[MASK\] token \(this tokenizer's mask token\)/);
});

const hasTransformersJs = existsSync('node_modules/@huggingface/transformers');
test('transformers.js runs our exported checkpoint: fill-mask agrees with ours, feature-extraction gives our hidden states', { skip: !hasTransformersJs && '@huggingface/transformers is not installed' }, async () => {
  const { trained, tok, hf, model, store, entry } = tinyBert();
  const root = mkdtempSync(join(tmpdir(), 'pretrain-fillmask-'));
  try {
    await saveCheckpoint(join(root, 'bert-tiny'), {
      config: hf, architectures: [entry.architecture(['mlm'])], weights: weightsOf(store),
      tokenizer: { json: JSON.stringify(trained.tokenizerJson), config: JSON.stringify(trained.tokenizerConfig) },
      extraFiles: { 'onnx/model.onnx': exportEncoderOnnx(model, store) },
    });
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const texts = ['the cat sat on the [MASK].', 'a [MASK] played in the garden.'];

    const unmasker = await tjs.pipeline('fill-mask', 'bert-tiny', { dtype: 'fp32', local_files_only: true });
    for (const text of texts) {
      const ours = (await fillMask(nodeBackend, model, store, tok, text, { topK: 5 }))[0];
      const theirs = (await unmasker(text, { top_k: 5 })) as { score: number; token: number; token_str: string; sequence: string }[];
      assert.equal(theirs[0].token, ours[0].token, `${text}: top-1`);
      assert.ok(ours[0].score - ours[1].score > 1e-4, `${text}: top-1 margin ${ours[0].score - ours[1].score} too small to compare`);
      assert.deepEqual(theirs.map((c) => c.token), ours.map((c) => c.token));
      assert.ok(maxAbs(theirs.map((c) => c.score), ours.map((c) => c.score)) <= 1e-5);
      assert.equal(theirs[0].token_str, ours[0].token_str);
      assert.equal(theirs[0].sequence.replace(/\s+/g, ' '), ours[0].sequence.replace(/\s+/g, ' '));
    }
    await unmasker.dispose();

    const extractor = await tjs.pipeline('feature-extraction', 'bert-tiny', { dtype: 'fp32', local_files_only: true });
    const features = await extractor(texts[0]);
    const enc = await tok.encode(texts[0]);
    assert.deepEqual(features.dims, [1, enc.ids.length, hf.model_type === 'bert' ? hf.hidden_size : 0]);
    const fwd = await Forward.compile(nodeBackend, (g) => ({ hidden: buildEncoderGraph(g, model).last_hidden_state }), store);
    const row = (v: number[]) => i64([v]);
    const ours = await fwd.run({ input_ids: row(enc.ids), attention_mask: row(enc.ids.map(() => 1)), token_type_ids: row(enc.typeIds) });
    assert.ok(maxAbs(features.data as Float32Array, ours.hidden.data as Float32Array) <= 1e-4);
    await extractor.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// The transformers.js export of T5 (onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx): run by hand as
// transformers.js feeds it, it reproduces HF's greedy tokens on the fixture; and a checkpoint folder with a new tiny
// T5 and a Unigram tokenizer we train loads in transformers.js (AutoModelForSeq2SeqLM and the text2text-generation
// pipeline), which generates the same greedy tokens and text as our Seq2SeqGenerator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSeq2SeqOnnx, Seq2SeqGenerator, seq2seqPastName, seq2seqPresentName } from '../../src/generate/seq2seq.js';
import { parseT5Config } from '../../src/io/hf-config.js';
import { T5ForConditionalGeneration, t5ConfigFromHf } from '../../src/models/t5.js';
import type { HostTensor } from '../../src/runtime/backend.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { i64, loadWeights, readConfigJson, readReference } from '../helpers/fixtures.js';
import { writeTinyT5 } from '../helpers/t5.js';

test('t5 export: encoder_model + decoder_model_merged, fed as transformers.js feeds them, give HF\'s greedy tokens', async () => {
  const config = t5ConfigFromHf(parseT5Config(readConfigJson('t5'), 't5/config.json'));
  const model = new T5ForConditionalGeneration(config);
  const files = exportSeq2SeqOnnx(model, await loadWeights('t5', model));
  assert.deepEqual(Object.keys(files).sort(), ['onnx/decoder_model_merged.onnx', 'onnx/encoder_model.onnx']);
  const enc = await nodeBackend.createSession(files['onnx/encoder_model.onnx']);
  const dec = await nodeBackend.createSession(files['onnx/decoder_model_merged.onnx']);
  assert.deepEqual([...enc.inputNames], ['input_ids', 'attention_mask']);
  assert.deepEqual([...enc.outputNames], ['last_hidden_state']);
  const L = config.numDecoderLayers;
  const pastNames = Array.from({ length: L }, (_, i) =>
    (['decoder', 'encoder'] as const).flatMap((side) => (['key', 'value'] as const).map((k) => seq2seqPastName(i, side, k)))).flat();
  assert.deepEqual([...dec.inputNames].sort(), ['encoder_attention_mask', 'encoder_hidden_states', 'input_ids', 'use_cache_branch', ...pastNames].sort());
  assert.deepEqual([...dec.outputNames].sort(), ['logits', ...pastNames.map((n) => n.replace('past_key_values', 'present'))].sort());

  const gen = readReference('t5').generation as ReturnType<typeof readReference>['generation'] & { decoder_start_token_id: number };
  const prompt = gen.input_ids[0];
  const mask = i64([prompt.map(() => 1)]);
  const { last_hidden_state } = await enc.run({ input_ids: i64([prompt]), attention_mask: mask });
  // Step 1: use_cache_branch false, every past zero-size (transformers.js resolves their symbolic dims to 0).
  const empty: HostTensor = { dtype: 'float32', shape: [1, config.numHeads, 0, config.dKv], data: new Float32Array(0) };
  let past: Record<string, HostTensor> = Object.fromEntries(pastNames.map((n) => [n, empty]));
  let token = gen.decoder_start_token_id;
  const tokens: number[] = [];
  for (let step = 0; step < gen.max_new_tokens; step++) {
    const res = await dec.run({
      input_ids: i64([[token]]), encoder_attention_mask: mask, encoder_hidden_states: last_hidden_state,
      use_cache_branch: { dtype: 'bool', shape: [1], data: Uint8Array.from([step > 0 ? 1 : 0]) }, ...past,
    });
    const logits = res.logits.data as Float32Array;
    token = logits.indexOf(Math.max(...logits));
    tokens.push(token);
    // As getPastKeyValues: decoder presents become the pasts; the encoder ones are kept from the first step.
    const next: Record<string, HostTensor> = {};
    for (let i = 0; i < L; i++)
      for (const kind of ['key', 'value'] as const) {
        next[seq2seqPastName(i, 'decoder', kind)] = res[seq2seqPresentName(i, 'decoder', kind)];
        next[seq2seqPastName(i, 'encoder', kind)] = step === 0 ? res[seq2seqPresentName(i, 'encoder', kind)] : past[seq2seqPastName(i, 'encoder', kind)];
      }
    past = next;
  }
  assert.deepEqual(tokens, gen.new_tokens[0]);
  await enc.release();
  await dec.release();
});

const hasTransformersJs = existsSync('node_modules/@huggingface/transformers');
test('transformers.js loads a T5 checkpoint we write: AutoModelForSeq2SeqLM and text2text-generation give our greedy tokens', { skip: !hasTransformersJs && '@huggingface/transformers is not installed' }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'pretrain-t5export-'));
  try {
    const { tok, model, store } = await writeTinyT5(join(root, 't5-tiny'));
    assert.ok(tok.sentinelIds.length === 100, 'the tokenizer has its 100 sentinels');
    const tjs = await import('@huggingface/transformers');
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = root;
    const ours = await Seq2SeqGenerator.create(nodeBackend, model, store);
    const texts = ['The cat sat on the mat.', 'A dog played in the garden.', 'The children read a book.'];
    const distinct: number[] = [];
    const tjsModel = await tjs.AutoModelForSeq2SeqLM.from_pretrained('t5-tiny', { dtype: 'fp32', local_files_only: true });
    const tjsTok = await tjs.AutoTokenizer.from_pretrained('t5-tiny', { local_files_only: true });
    const pipe = await tjs.pipeline('text2text-generation', 't5-tiny', { dtype: 'fp32', local_files_only: true });
    for (const text of texts) {
      const ids = (await tok.encode(text)).ids; // with the EOS its post-processor appends, as HF's T5 tokenizer
      const enc = tjsTok(text);
      assert.deepEqual((enc.input_ids as { tolist(): bigint[][] }).tolist()[0].map(Number), ids, `${text}: same input ids`);
      const r = await ours.generate(ids, { maxNewTokens: 10, decoderStartTokenId: 0, eosTokenId: 1 });
      const out = (await tjsModel.generate({ ...enc, max_new_tokens: 10, do_sample: false })) as { tolist(): bigint[][] };
      distinct.push(new Set(r.tokens[0]).size);
      assert.deepEqual(out.tolist()[0].map(Number), [0, ...r.tokens[0]], `${text}: transformers.js tokens`);
      const piped = (await pipe(text, { max_new_tokens: 10 })) as { generated_text: string }[];
      assert.equal(piped[0].generated_text, await tok.decode(r.tokens[0], { skipSpecialTokens: true }), `${text}: pipeline text`);
    }
    assert.ok(Math.max(...distinct) >= 4, `the continuations are too uniform to compare (${distinct})`);
    await pipe.dispose();
    await tjsModel.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

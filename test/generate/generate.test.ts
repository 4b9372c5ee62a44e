// Generator behaviour on the GPT-2 fixture: seeds, stopping, several samples, and the sampling settings that must
// reduce to greedy decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Gpt2LMHeadModel, gpt2Config } from '../../src/models/gpt2.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { readSafetensorsF32 } from '../../src/io/files.js';
import { Generator, textStreamer, type TokenEvent } from '../../src/generate/generate.js';

const DIR = 'test/fixtures/hf/gpt2';
const PROMPT = [61, 33, 61, 17, 62, 57];
/** A stand-in tokenizer: token i is a letter and a space, so text positions map back to tokens. */
const decode = (ids: readonly number[]) => ids.map((i) => `${String.fromCharCode(97 + (i % 26))}${i % 3 ? '' : ' '}`).join('');

let cached: Promise<Generator> | undefined;
function generator(): Promise<Generator> {
  cached ??= (async () => {
    const hf = JSON.parse(readFileSync(`${DIR}/config.json`, 'utf8')) as Record<string, number>;
    const model = new Gpt2LMHeadModel(gpt2Config({
      vocabSize: hf.vocab_size, nEmbd: hf.n_embd, nLayer: hf.n_layer, nHead: hf.n_head, nPositions: hf.n_positions,
      layerNormEpsilon: hf.layer_norm_epsilon,
    }));
    const weights = await readSafetensorsF32(`${DIR}/model.safetensors`);
    const store = new ParameterStore();
    for (const p of model.parameters()) store.set(p.name, weights.get(p.name)!.shape, weights.get(p.name)!.data);
    return Generator.create(nodeBackend, model, store, { maxPositions: hf.n_positions });
  })();
  return cached;
}

const sample = { maxNewTokens: 16, doSample: true, temperature: 1.5 };
const tokensOf = (r: { sequences: { tokens: number[] }[] }) => r.sequences.map((s) => s.tokens);

test('a fixed seed reproduces the samples; different seeds give different ones', async () => {
  const g = await generator();
  const a = await g.generate(PROMPT, { ...sample, seed: 7, numSamples: 3 });
  const b = await g.generate(PROMPT, { ...sample, seed: 7, numSamples: 3 });
  const c = await g.generate(PROMPT, { ...sample, seed: 8, numSamples: 3 });
  assert.equal(a.seed, 7);
  assert.deepEqual(tokensOf(a), tokensOf(b));
  assert.notDeepEqual(tokensOf(a), tokensOf(c));
  // The rows of one call differ from each other, and row 0 does not depend on how many rows were asked for.
  assert.equal(new Set(tokensOf(a).map((t) => t.join())).size, 3);
  const one = await g.generate(PROMPT, { ...sample, seed: 7 });
  assert.deepEqual(one.sequences[0].tokens, a.sequences[0].tokens);
  // Without a seed one is drawn and returned, and it reproduces the run.
  const free = await g.generate(PROMPT, sample);
  assert.deepEqual(tokensOf(await g.generate(PROMPT, { ...sample, seed: free.seed })), tokensOf(free));
});

test('num-samples returns that many sequences per prompt, prompt-major', async () => {
  const g = await generator();
  const r = await g.generate([PROMPT, [1, 2, 3]], { ...sample, seed: 1, numSamples: 4 });
  assert.equal(r.sequences.length, 8);
  assert.deepEqual(r.sequences.map((s) => [s.prompt, s.sample]), [0, 1].flatMap((p) => [0, 1, 2, 3].map((s) => [p, s])));
  assert.deepEqual(r.promptIds, [PROMPT, [1, 2, 3]]);
  for (const s of r.sequences) assert.ok(s.tokens.length === 16 && s.finishReason === 'length');
});

test('top-k = 1 and a tiny top-p equal greedy decoding', async () => {
  const g = await generator();
  const greedy = await g.generate(PROMPT, { maxNewTokens: 12, doSample: false });
  assert.deepEqual(greedy.sequences[0].tokens, [60, 60, 50, 43, 11, 99, 48, 24, 31, 43, 60, 43]);
  const k1 = await g.generate(PROMPT, { maxNewTokens: 12, doSample: true, temperature: 2, topK: 1, seed: 3, numSamples: 2 });
  assert.deepEqual(tokensOf(k1), [greedy.sequences[0].tokens, greedy.sequences[0].tokens]);
  const p0 = await g.generate(PROMPT, { maxNewTokens: 12, doSample: true, topP: 1e-6, seed: 4 });
  assert.deepEqual(p0.sequences[0].tokens, greedy.sequences[0].tokens);
});

test('a repetition penalty changes greedy decoding away from repeats', async () => {
  const g = await generator();
  const r = await g.generate(PROMPT, { maxNewTokens: 12, doSample: false, repetitionPenalty: 100 });
  const t = r.sequences[0].tokens;
  assert.notEqual(t[1], t[0], 'the greedy run repeats token 60; the penalty must prevent it');
  // A penalty this strong rules out every token already seen, prompt included (HF counts the prompt).
  assert.equal(new Set([...PROMPT, ...t]).size, new Set(PROMPT).size + t.length);
});

test('EOS stops a row and is kept; other rows run on', async () => {
  const g = await generator();
  const r = await g.generate(PROMPT, { maxNewTokens: 12, doSample: false, eosTokenId: 50 });
  assert.deepEqual(r.sequences[0].tokens, [60, 60, 50]);
  assert.equal(r.sequences[0].finishReason, 'eos');
  assert.equal(r.runs, 3, 'no model run after the last row finished');
  // In a batch, only the row that produced EOS stops.
  const two = await g.generate([PROMPT, [5, 6, 7]], { maxNewTokens: 12, doSample: false, eosTokenId: [50] });
  assert.deepEqual(two.sequences[0].tokens, [60, 60, 50]);
  const alone = await g.generate([5, 6, 7], { maxNewTokens: 12, doSample: false, eosTokenId: [50] });
  assert.deepEqual(two.sequences[1].tokens, alone.sequences[0].tokens);
  assert.ok(two.sequences[1].tokens.length > 3);
});

test('a stop string stops the row once the decoded text contains it', async () => {
  const g = await generator();
  const full = await g.generate(PROMPT, { maxNewTokens: 12, doSample: false, decode });
  const text = full.sequences[0].text!;
  // A stop string that spans the 5th and 6th new tokens: generation must end right after the 6th.
  const upTo5 = decode(full.sequences[0].tokens.slice(0, 5));
  const upTo6 = decode(full.sequences[0].tokens.slice(0, 6));
  const stop = text.slice(upTo5.length - 1, upTo6.length);
  assert.ok(!upTo5.includes(stop));
  const r = await g.generate(PROMPT, { maxNewTokens: 12, doSample: false, decode, stopStrings: ['never here', stop] });
  assert.deepEqual(r.sequences[0].tokens, full.sequences[0].tokens.slice(0, 6));
  assert.equal(r.sequences[0].finishReason, 'stop_string');
  assert.equal(r.sequences[0].text, upTo6);
  await assert.rejects(g.generate(PROMPT, { maxNewTokens: 2, stopStrings: ['x'] }), /decode/);
  await assert.rejects(g.generate(PROMPT, { maxNewTokens: 59 }), /exceeds the model's 64 positions/);
});

test('onToken streams every token in order; textStreamer writes the text piece by piece', async () => {
  const g = await generator();
  const events: TokenEvent[] = [];
  let written = '';
  const stream = textStreamer(decode, (s) => (written += s));
  const r = await g.generate(PROMPT, {
    ...sample, seed: 5, numSamples: 2, decode,
    onToken: (ev) => {
      events.push({ ...ev, tokens: [...ev.tokens] });
      stream(ev);
    },
  });
  for (const row of [0, 1]) {
    const mine = events.filter((e) => e.row === row);
    assert.deepEqual(mine.map((e) => e.token), r.sequences[row].tokens);
    assert.deepEqual(mine.map((e) => e.step), r.sequences[row].tokens.map((_, i) => i));
  }
  assert.equal(written, r.sequences[0].text);
});

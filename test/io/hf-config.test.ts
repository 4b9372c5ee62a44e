import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  generationConfigFromModel,
  parseGenerationConfig,
  parseHfConfig,
  parseHfConfigText,
  serializeGenerationConfig,
  serializeHfConfig,
} from '../../src/io/hf-config.js';

const path = (m: string, f = 'config.json') => `test/fixtures/hf/${m}/${f}`;
const raw = (m: string, f = 'config.json') => JSON.parse(readFileSync(path(m, f), 'utf8')) as Record<string, unknown>;

test('parses every fixture config with HF field names and defaults', () => {
  const gpt2 = parseHfConfigText(readFileSync(path('gpt2'), 'utf8'), path('gpt2'));
  assert.equal(gpt2.model_type, 'gpt2');
  if (gpt2.model_type !== 'gpt2') return;
  assert.equal(gpt2.n_embd, 32);
  assert.equal(gpt2.n_inner, null);
  assert.equal(gpt2.activation_function, 'gelu_new');
  assert.equal(gpt2.layer_norm_epsilon, 1e-5);
  assert.equal(gpt2.eos_token_id, 127);
  assert.equal(gpt2.tie_word_embeddings, true);
  assert.ok(!('summary_type' in gpt2), 'unknown HF fields are dropped');

  const llama = parseHfConfig(raw('llama'), path('llama'));
  assert.ok(llama.model_type === 'llama');
  assert.equal(llama.num_key_value_heads, 2);
  assert.equal(llama.head_dim, 8);
  assert.equal(llama.rope_theta, 10000);
  assert.equal(llama.rms_norm_eps, 1e-6);
  assert.equal(llama.tie_word_embeddings, false);
  assert.equal(llama.pad_token_id, null);

  const bert = parseHfConfig(raw('bert'), path('bert'));
  assert.ok(bert.model_type === 'bert');
  assert.equal(bert.layer_norm_eps, 1e-12);
  assert.equal(bert.type_vocab_size, 2);
  assert.equal(bert.hidden_act, 'gelu');

  const roberta = parseHfConfig(raw('roberta'), path('roberta'));
  assert.ok(roberta.model_type === 'roberta');
  assert.equal(roberta.pad_token_id, 1);
  assert.equal(roberta.type_vocab_size, 1);
  assert.equal(roberta.max_position_embeddings, 66);
  const robertaDefaults = parseHfConfig({ model_type: 'roberta', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 }, 'c.json');
  assert.ok(robertaDefaults.model_type === 'roberta');
  assert.deepEqual([robertaDefaults.bos_token_id, robertaDefaults.pad_token_id, robertaDefaults.eos_token_id], [0, 1, 2]);

  const t5 = parseHfConfig(raw('t5'), path('t5'));
  assert.ok(t5.model_type === 't5');
  assert.equal(t5.num_decoder_layers, 2);
  assert.equal(t5.relative_attention_max_distance, 128);
  assert.equal(t5.dense_act_fn, 'relu');
  assert.equal(t5.is_gated_act, false);
  assert.equal(t5.decoder_start_token_id, 0);
});

test('optional fields take HF defaults; derived fields follow HF', () => {
  const llama = parseHfConfig({ model_type: 'llama', vocab_size: 10, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4 }, 'c.json');
  assert.ok(llama.model_type === 'llama');
  assert.equal(llama.num_key_value_heads, 4);
  assert.equal(llama.max_position_embeddings, 2048);
  assert.equal(llama.bos_token_id, 1);
  const t5 = parseHfConfig({ ...raw('t5'), feed_forward_proj: 'gated-gelu', num_decoder_layers: null }, 'c.json');
  assert.ok(t5.model_type === 't5');
  assert.equal(t5.dense_act_fn, 'gelu_new');
  assert.equal(t5.is_gated_act, true);
  assert.equal(t5.num_decoder_layers, 2);
  assert.throws(() => parseHfConfig({ ...raw('t5'), feed_forward_proj: 'gelu-new-x' }, 'c.json'), /field "feed_forward_proj"/);
  const eosList = parseHfConfig({ ...raw('llama'), eos_token_id: [2, 5] }, 'c.json');
  assert.deepEqual(eosList.eos_token_id, [2, 5]);
});

test('a wrong type names the file, the field, the expected type and the value', () => {
  assert.throws(
    () => parseHfConfig({ ...raw('gpt2'), n_embd: '32' }, 'my/config.json'),
    (e: Error) => e.message === 'my/config.json: field "n_embd": expected a number, got string "32"',
  );
  assert.throws(() => parseHfConfig({ ...raw('gpt2'), n_layer: 2.5 }, 'c.json'), /c\.json: field "n_layer": expected an integer, got number 2\.5/);
  assert.throws(() => parseHfConfig({ ...raw('llama'), tie_word_embeddings: 'no' }, 'c.json'), /field "tie_word_embeddings": expected a boolean/);
  assert.throws(() => parseHfConfig({ ...raw('llama'), eos_token_id: 'x' }, 'c.json'), /field "eos_token_id": expected a token id or a list of token ids/);
  assert.throws(() => parseHfConfig({ ...raw('bert'), hidden_dropout_prob: 2 }, 'c.json'), /field "hidden_dropout_prob": .*<=1, got number 2/);
});

test('missing required fields, bad model_type and inconsistent sizes are reported', () => {
  const { n_head: _drop, ...noHead } = raw('gpt2');
  assert.throws(() => parseHfConfig(noHead, 'c.json'), /c\.json: field "n_head": expected a number, got nothing \(missing\)/);
  const { vocab_size: _v, d_model: _d, ...t5 } = raw('t5');
  assert.throws(() => parseHfConfig(t5, 'c.json'), (e: Error) => /"vocab_size"/.test(e.message) && /"d_model"/.test(e.message));
  assert.throws(() => parseHfConfig({ model_type: 'mistral' }, 'c.json'), /c\.json: field "model_type": expected one of "gpt2", "llama", "bert", "roberta", "t5", got "mistral"/);
  assert.throws(() => parseHfConfig({}, 'c.json'), /field "model_type".*got nothing \(missing\)/);
  assert.throws(() => parseHfConfig([], 'c.json'), /c\.json: config must be a JSON object/);
  assert.throws(() => parseHfConfigText('{"model_type": ', 'c.json'), /c\.json: not valid JSON/);
  assert.throws(() => parseHfConfig({ ...raw('llama'), num_key_value_heads: 3 }, 'c.json'), /field "num_key_value_heads": num_key_value_heads \(3\) must divide num_attention_heads \(4\)/);
  assert.throws(() => parseHfConfig({ ...raw('gpt2'), n_head: 5 }, 'c.json'), /field "n_head"/);
});

test('writing a config gives HF-compatible JSON that parses back to the same config', () => {
  for (const m of ['gpt2', 'llama', 'bert', 't5']) {
    const cfg = parseHfConfig(raw(m), path(m));
    const text = serializeHfConfig(cfg);
    const json = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(json.architectures, raw(m).architectures, m);
    assert.equal(json.torch_dtype, 'float32');
    assert.equal(typeof json.transformers_version, 'string');
    assert.deepEqual(Object.keys(json), Object.keys(json).sort(), 'keys sorted');
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(parseHfConfig(json, 'again'), cfg, m);
    // Every field HF wrote for the fixture that we model is written back with the same value.
    for (const [k, v] of Object.entries(raw(m))) {
      if (k in json && k !== 'transformers_version') assert.deepEqual(json[k], v, `${m}.${k}`);
    }
  }
  const llama = parseHfConfig(raw('llama'), 'c');
  assert.ok(!('head_dim' in JSON.parse(serializeHfConfig(llama))), 'implied head_dim is not written');
  assert.deepEqual(JSON.parse(serializeHfConfig(llama, { architectures: ['LlamaForSequenceClassification'] })).architectures, ['LlamaForSequenceClassification']);
});

test('generation_config.json: derived from the model config as HF does, parsed back', () => {
  for (const m of ['gpt2', 'llama', 't5']) {
    const gen = generationConfigFromModel(parseHfConfig(raw(m), m));
    const text = serializeGenerationConfig(gen, { fromModelConfig: true });
    const json = JSON.parse(text) as Record<string, unknown>;
    const expected = raw(m, 'generation_config.json');
    delete expected.transformers_version;
    delete json.transformers_version;
    assert.deepEqual(json, expected, m);
    assert.deepEqual(parseGenerationConfig(json, 'g.json'), gen);
  }
  assert.deepEqual(parseGenerationConfig({ pad_token_id: null, top_k: 5, unknown: 1 }, 'g.json'), { top_k: 5 });
  assert.throws(() => parseGenerationConfig({ top_p: 1.5 }, 'g.json'), /g\.json: field "top_p"/);
});

// The package entry point (package.json "main") loads and exposes the library's layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as pretrain from '../src/index.js';

test('the entry point exposes the engine, models, trainer and generator', () => {
  for (const name of ['TrainStep', 'Forward', 'ParameterStore', 'Gpt2LMHeadModel', 'LlamaForCausalLM', 'Trainer', 'Generator', 'pretrain', 'finetuneClassifier', 'nodeBackend'] as const)
    assert.ok(pretrain[name], name);
  assert.equal(typeof pretrain.graph.matmul, 'function');
  assert.equal(typeof pretrain.tokenizers.loadTokenizer, 'function');
});

// A new tiny T5 checkpoint for the tests: registry newConfig, a Unigram tokenizer (with its 100 sentinels) trained
// on a few sentences, random weights, written as a final checkpoint is (configs, tokenizer, ONNX exports).
import { onnxExports } from '../../src/generate/export.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import type { T5ForConditionalGeneration } from '../../src/models/t5.js';
import { initParameters } from '../../src/nn/index.js';
import { ParameterStore } from '../../src/runtime/store.js';
import { tokenizerFromJson } from '../../src/tokenizers/tokenizer.js';
import { trainTokenizer } from '../../src/tokenizers/train.js';
import { weightsOf } from '../../src/train/pretrain.js';

const SENTENCES = [
  'The cat sat on the mat.', 'The dog sat on the log.', 'A cat and a dog played in the garden.',
  'The bird sang in the tree.', 'The children read a book in the garden.', 'A dog ran after the cat.',
  'The sun was warm and the sky was blue.', 'The cat slept on the warm mat.', 'She read the book to the children.',
];

/** A new tiny T5 (registry newConfig) for a Unigram tokenizer (with its 100 sentinels) trained on a few sentences. */
export function tinyT5() {
  const trained = trainTokenizer('unigram', SENTENCES, { vocabSize: 180 });
  const tok = tokenizerFromJson(trained.tokenizerJson, trained.tokenizerConfig);
  const entry = getModel('t5');
  // A wider init than T5's default (as the fixtures widen theirs): with it the greedy continuations vary instead of
  // repeating one token, so the comparison below means something.
  const hf = { ...entry.newConfig({ layers: 2, hidden: 32, heads: 4, positions: 64, dropout: 0 }, tok), initializer_factor: 5 };
  const model = entry.build(hf) as T5ForConditionalGeneration;
  const store = new ParameterStore();
  const init = initParameters(model.parameters(), 2);
  for (const p of model.parameters()) store.set(p.name, p.shape, init.get(p.name)!);
  return { trained, tok, hf, model, store, entry };
}

/** Writes the tiny T5 as a final checkpoint would be written: weights, tokenizer, configs, the ONNX exports. */
export async function writeTinyT5(dir: string) {
  const t = tinyT5();
  await saveCheckpoint(dir, {
    config: t.hf, architectures: [t.entry.architecture(['seq2seq'])], weights: weightsOf(t.store), generationConfig: true,
    tokenizer: { json: JSON.stringify(t.trained.tokenizerJson), config: JSON.stringify(t.trained.tokenizerConfig) },
    extraFiles: onnxExports(t.entry.family, t.model, t.store),
  });
  return t;
}


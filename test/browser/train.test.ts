// Training on in-memory text without a browser: onnxruntime-web's WASM build (in Node) gives onnxruntime-node's
// losses for the same run, and the run's checkpoint files (as the page zips them) load with the CLI's loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brownDocuments } from '../../src/data/brown.js';
import { runCheckpointFiles, trainText } from '../../src/browser/train.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { webBackend } from '../../src/runtime/web.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { zipFiles } from '../../src/io/zip.js';
import { tempDir } from '../tokenizers/helpers.js';

const text = `${brownDocuments('train').slice(0, 12).map((d) => d.sentences.join('\n')).join('\n\n')}\n`;

test('trainText: the WASM backend gives onnxruntime-node\'s losses; the checkpoint files load', async () => {
  const o = { arch: 'roberta', layers: 1, hidden: 32, heads: 2, seqLen: 32, batchSize: 4, vocabSize: 400, maxSteps: 4, seed: 5, lr: 2e-3, text };
  const node = await trainText(o, { backend: nodeBackend });
  const web = await trainText(o, { backend: webBackend() });
  assert.equal(node.losses.length, 4);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(node.losses[i]! - web.losses[i]!) < 1e-4, `step ${i + 1}: ${node.losses[i]} vs ${web.losses[i]}`);
  assert.equal(web.run.config.beta2, 0.98, 'the roberta recipe applies');

  const files = runCheckpointFiles(web.run);
  const dir = tempDir('pretrain-web-ck-');
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  const ck = await loadCheckpoint(dir, { requireTokenizer: true });
  assert.equal(ck.config.model_type, 'roberta');
  const wte = ck.weights.get('roberta.embeddings.word_embeddings.weight')!;
  assert.deepEqual(wte.data, web.run.store.get('roberta.embeddings.word_embeddings.weight'));
  assert.ok('onnx/model.onnx' in files, 'the transformers.js graph');

  // The zip holds every file, stored, under one folder.
  const zip = zipFiles(files, 'ck');
  const names: string[] = [];
  const view = Buffer.from(zip);
  for (let p = 0; view.readUInt32LE(p) === 0x04034b50; ) {
    const size = view.readUInt32LE(p + 18);
    const n = view.readUInt16LE(p + 26);
    names.push(view.toString('utf8', p + 30, p + 30 + n));
    p += 30 + n + size;
  }
  assert.deepEqual(names.sort(), Object.keys(files).map((n) => `ck/${n}`).sort());
});

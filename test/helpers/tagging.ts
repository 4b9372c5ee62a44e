// The Brown part-of-speech check the tagging-head tests share: a tokenizer of the given kind trained on 30 Brown
// documents, a tiny model of the given type for it, 480 training / 120 held-out tagged sentences, and what every
// tagging head must do with them: beat the majority tag (NOUN) by 25 points, write an HF task checkpoint with
// id2label, and reload through loadFinetuned to tag a sentence.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brownPosData, UNIVERSAL_TAGS } from '../../src/data/brown-pos.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import type { TokenizerKind } from '../../src/tokenizers/json.js';
import { finetuneTagger, limitExamples, loadFinetuned, type Finetuned, type TaggingData } from '../../src/train/finetune.js';
import { brownSlice, tempDir } from '../tokenizers/helpers.js';

export function tinyTaggerSetup(name: string, kind: TokenizerKind, modelType: string) {
  const dir = tempDir(`pretrain-${name}-`);
  const tokDir = path.join(dir, 'tok');
  const tokenizer = saveTokenizer(tokDir, trainTokenizer(kind, brownSlice(30), { vocabSize: 1500 }));
  const entry = getModel(modelType);
  const hf = entry.newConfig({ layers: 2, hidden: 32, heads: 2, positions: 64, dropout: 0 }, tokenizer);
  const common = {
    backend: nodeBackend, base: { hf, tokenizer, tokenizerDir: tokDir }, scratch: true, batchSize: 16, warmupRatio: 0.1,
    weightDecay: 0, gradClip: 1, dropout: 0, seed: 1, progress: false,
  };
  return { dir, entry, hf, common };
}

/** Fine-tunes the setup's model on Brown tags and checks the result, the checkpoint and its reloaded tagger. */
export async function assertTagsBrown(s: ReturnType<typeof tinyTaggerSetup>, architecture: string, modelType: string): Promise<Finetuned> {
  const data: TaggingData = {
    labels: [...UNIVERSAL_TAGS].sort(),
    train: limitExamples(brownPosData('train'), 480, 3),
    eval: limitExamples(brownPosData('validation'), 120, 4),
  };
  const words = data.eval.flatMap((x) => x.tags);
  const majority = words.filter((t) => t === 'NOUN').length / words.length;
  const r = await finetuneTagger({ ...s.common, data, out: path.join(s.dir, 'tag'), maxLen: 64, epochs: 2, lr: 5e-3 });
  assert.equal(r.steps, 60);
  assert.equal(r.architecture, architecture);
  assert.ok(r.evalWords! > 0.85 * words.length, `${r.evalWords} of ${words.length} words scored`);
  console.log(`# ${architecture}: accuracy ${r.accuracy.toFixed(3)}, macro-F1 ${r.macroF1.toFixed(3)}, NOUN share ${majority.toFixed(3)}`);
  assert.ok(r.accuracy > majority + 0.25, `token accuracy ${r.accuracy} vs NOUN share ${majority}`);
  assert.ok(r.macroF1 > 0.2, `macro-F1 ${r.macroF1}`);
  const cfg = JSON.parse(readFileSync(path.join(r.dir, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string>; label2id: Record<string, number>; model_type: string };
  assert.deepEqual(cfg.architectures, [architecture]);
  assert.equal(cfg.model_type, modelType);
  assert.equal(Object.keys(cfg.id2label).length, 12);
  assert.equal(cfg.label2id[cfg.id2label['3']!], 3);
  const m = await loadFinetuned(nodeBackend, r.dir);
  assert.equal(m.task, 'tag');
  const tags = await m.tag(['The', 'jury', 'said', 'it', 'was', 'unbelievably', 'good', '.']);
  assert.equal(tags.length, 8);
  assert.equal(tags[0], 'DET');
  assert.equal(tags[7], '.');
  return m;
}

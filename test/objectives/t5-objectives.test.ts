// The T5 objectives with the T5 model (registered by src/models/t5.ts): span-corruption and prefix-lm through
// pretrain() train a tiny T5 and resume bit for bit, and `pretrain preview --arch t5` shows sentinels and targets.
// Skipped while no t5 model is registered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/cli/config.js';
import { previewCommand } from '../../src/cli/preview.js';
import '../../src/models/index.js';
import { modelTypes } from '../../src/models/registry.js';
import { nodeBackend } from '../../src/runtime/node.js';
import type { FlatTrainConfig } from '../../src/train/config.js';
import { pretrain } from '../../src/train/pretrain.js';

const skip = modelTypes().includes('t5') ? false : 'no t5 model registered';

function corpus(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 't5-objectives-'));
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  let s = 5;
  const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
  const text = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => `${words[rand(8)]} ${words[rand(8)]} and ${words[rand(8)]}.`).join(' '));
  const file = path.join(dir, 'c.txt');
  writeFileSync(file, `${text.join('\n\n')}\n`);
  return file;
}

for (const objective of ['span-corruption', 'prefix-lm']) {
  test(`t5 --objective ${objective} through pretrain(): trains, and an interrupted run resumes bit for bit`, { skip }, async () => {
    const file = corpus();
    const dir = path.dirname(file);
    const config = (out: string, extra: Partial<FlatTrainConfig> = {}) => resolveConfig(undefined, {
      arch: 't5', objective, corpus: file, out, vocabSize: 400, layers: 1, hidden: 32, heads: 2, seqLen: 24,
      batchSize: 4, maxSteps: 6, warmup: 2, lr: 3e-3, evalEvery: 3, evalBatches: 1, saveEvery: 100, seed: 3, dropout: 0.1, ...extra,
    });
    const quiet = { backend: nodeBackend, progress: false, log: () => {} };
    const full = await pretrain(config(path.join(dir, 'a')), quiet);
    assert.ok(full.losses.every(Number.isFinite));
    assert.ok(full.lastEval && Number.isFinite(full.lastEval.loss));
    const first = await pretrain(config(path.join(dir, 'b')), { ...quiet, stopAfter: 4 });
    const rest = await pretrain(config(path.join(dir, 'b'), { resume: true }), quiet);
    assert.deepEqual([...first.losses, ...rest.losses], full.losses);
    assert.deepEqual(rest.lastEval, full.lastEval);
  });
}

test('pretrain preview --arch t5: span-corruption shows sentinels and targets; prefix-lm the split', { skip }, async () => {
  const file = corpus();
  let out = '';
  await previewCommand({ arch: 't5', objective: 'span-corruption', corpus: file, n: 2, seqLen: 32, seed: 1, json: false, color: false, write: (s) => (out += s) });
  assert.match(out, /--- example 1: 32 input tokens \(\d+ sentinels\), \d+ target tokens/);
  assert.match(out, /^inputs: .*<extra_id_0>.*<\/s>$/m);
  assert.match(out, /^targets: <extra_id_0> .*<\/s>$/m);
  out = '';
  await previewCommand({ arch: 't5', objective: 'prefix-lm', corpus: file, n: 1, seqLen: 16, seed: 1, json: false, color: false, write: (s) => (out += s) });
  assert.match(out, /input tokens, \d+ target tokens, split at \d+/);
});

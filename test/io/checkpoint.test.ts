import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointDirName, expectShapes, keepLast, latestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { readSafetensorsF32 } from '../../src/io/files.js';
import { parseHfConfig } from '../../src/io/hf-config.js';
import type { F32Tensor } from '../../src/io/safetensors.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pretrain-ckpt-'));
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sameWeights(a: ReadonlyMap<string, F32Tensor>, b: ReadonlyMap<string, F32Tensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    assert.deepEqual(b.get(k)!.shape, t.shape, k);
    assert.equal(Buffer.compare(bits(b.get(k)!.data), bits(t.data)), 0, k);
  }
}

test('save then load a full checkpoint is bit-identical', async () => {
  const root = tmp();
  try {
    const config = parseHfConfig(JSON.parse(readFileSync('test/fixtures/hf/gpt2/config.json', 'utf8')), 'gpt2');
    const weights = await readSafetensorsF32('test/fixtures/hf/gpt2/model.safetensors');
    const optimizer = new Map<string, F32Tensor>([
      ['exp_avg.transformer.wte.weight', { shape: [2, 2], data: new Float32Array([1e-30, -0, NaN, 3]) }],
      ['exp_avg_sq.transformer.wte.weight', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
    ]);
    const trainerState = { step: 120, epoch: 1.5, rng: { data: [1, 2, 3, 4] }, dataPosition: { shard: 3, offset: 1024 }, bestEval: null };
    const dir = join(root, 'run', checkpointDirName(120));
    await saveCheckpoint(dir, {
      config,
      weights,
      tokenizer: { json: '{"version":"1.0"}', config: '{"model_max_length":64}' },
      generationConfig: true,
      trainerState,
      optimizer,
      extraFiles: { 'onnx/model.onnx': new Uint8Array([1, 2, 3]) },
    });
    assert.deepEqual(readdirSync(join(root, 'run')), ['checkpoint-120'], 'no temp folders left');
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'onnx', 'optimizer.safetensors', 'tokenizer.json', 'tokenizer.sha256', 'tokenizer_config.json', 'trainer_state.json']);
    // HF-identical weights file.
    assert.equal(Buffer.compare(readFileSync(join(dir, 'model.safetensors')), readFileSync('test/fixtures/hf/gpt2/model.safetensors')), 0);

    const loaded = await loadCheckpoint(dir, { requireTokenizer: true, requireTrainerState: true });
    assert.deepEqual(loaded.config, config);
    sameWeights(weights, loaded.weights);
    sameWeights(optimizer, loaded.optimizer!);
    assert.deepEqual(loaded.trainerState, trainerState);
    assert.equal(loaded.tokenizerJson, '{"version":"1.0"}');
    assert.equal(loaded.tokenizerConfig, '{"model_max_length":64}');
    assert.deepEqual(loaded.generationConfig, { bos_token_id: 127, eos_token_id: 127 });

    // A tokenizer folder is copied; saving again replaces the folder as a whole.
    const tokDir = join(root, 'tok');
    mkdirSync(tokDir);
    writeFileSync(join(tokDir, 'tokenizer.json'), '{"t":1}');
    await saveCheckpoint(dir, { config, weights, tokenizer: { dir: tokDir } });
    const again = await loadCheckpoint(dir);
    assert.equal(again.tokenizerJson, '{"t":1}');
    assert.equal(again.tokenizerConfig, undefined);
    assert.equal(again.trainerState, undefined);
    assert.equal(existsSync(join(dir, 'optimizer.safetensors')), false, 'old files do not survive a replacement');
    assert.deepEqual(readdirSync(join(root, 'run')), ['checkpoint-120']);
    await assert.rejects(saveCheckpoint(join(root, 'x'), { config, weights, tokenizer: { dir: join(root, 'nope') } }), /tokenizer folder .*nope: missing tokenizer\.json/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('loads the HF fixtures as checkpoints', async () => {
  for (const m of ['gpt2', 'llama', 'bert', 't5']) {
    const c = await loadCheckpoint(`test/fixtures/hf/${m}`);
    assert.equal(c.config.model_type, m);
    assert.ok(c.weights.size > 20);
    assert.equal(c.optimizer, undefined);
  }
});

test('missing and corrupt files fail naming the folder and the file', async () => {
  const root = tmp();
  try {
    const dir = join(root, 'ck');
    const config = parseHfConfig(JSON.parse(readFileSync('test/fixtures/hf/llama/config.json', 'utf8')), 'llama');
    const weights = await readSafetensorsF32('test/fixtures/hf/llama/model.safetensors');
    await saveCheckpoint(dir, { config, weights });
    await assert.rejects(loadCheckpoint(dir, { requireTokenizer: true }), (e: Error) => e.message === `checkpoint folder ${dir}: missing tokenizer.json (the tokenizer; required here)`);
    await assert.rejects(loadCheckpoint(dir, { requireTrainerState: true }), /missing trainer_state\.json \(needed to resume training\)/);
    await assert.rejects(loadCheckpoint(join(root, 'nope')), /checkpoint folder .*nope does not exist/);

    const model = join(dir, 'model.safetensors');
    const size = readFileSync(model).length;
    truncateSync(model, size - 10);
    await assert.rejects(loadCheckpoint(dir), (e: Error) => e.message.startsWith(`${model}: tensor "`) && /past the end/.test(e.message));
    const corrupt = readFileSync('test/fixtures/hf/llama/model.safetensors');
    corrupt[9] = 0x7b; // '{' inside the JSON header
    writeFileSync(model, corrupt);
    await assert.rejects(loadCheckpoint(dir), /model\.safetensors: safetensors header is not valid JSON/);
    rmSync(model);
    await assert.rejects(loadCheckpoint(dir), /ck: missing model\.safetensors \(the model weights\)/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama", "vocab_size": "x"}');
    await assert.rejects(loadCheckpoint(dir), /config\.json: field "vocab_size": expected a number, got string "x"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('expectShapes reports every missing, unexpected and mis-shaped tensor', () => {
  const w = new Map<string, { shape: number[] }>([
    ['a', { shape: [2, 3] }],
    ['b', { shape: [4] }],
    ['extra', { shape: [1] }],
  ]);
  assert.doesNotThrow(() => expectShapes(new Map([['a', { shape: [2, 3] }]]), { a: [2, 3] }, 'f'));
  assert.throws(
    () => expectShapes(w, { a: [2, 3], b: [5], c: [1], d: [2] }, 'ck/model.safetensors'),
    (e: Error) =>
      e.message ===
      'ck/model.safetensors: weights do not match the model:\n' +
        'missing tensors (2):\n  c\n  d\n' +
        'unexpected tensors (1):\n  extra\n' +
        'tensors with the wrong shape (1):\n  b: expected [5], found [4]',
  );
});

test('listCheckpoints, latestCheckpoint and keepLast', async () => {
  const root = tmp();
  try {
    for (const s of [5, 100, 20, 3]) mkdirSync(join(root, checkpointDirName(s)));
    mkdirSync(join(root, 'checkpoint-best'));
    writeFileSync(join(root, 'checkpoint-7'), 'a file, not a folder');
    assert.deepEqual((await listCheckpoints(root)).map((c) => c.step), [3, 5, 20, 100]);
    assert.equal(await latestCheckpoint(root), join(root, 'checkpoint-100'));
    assert.deepEqual(await keepLast(root, 2), [join(root, 'checkpoint-3'), join(root, 'checkpoint-5')]);
    assert.deepEqual(readdirSync(root).sort(), ['checkpoint-100', 'checkpoint-20', 'checkpoint-7', 'checkpoint-best']);
    assert.deepEqual(await keepLast(root, 5), []);
    await assert.rejects(keepLast(root, 0), /k must be an integer >= 1/);
    assert.deepEqual(await listCheckpoints(join(root, 'none')), []);
    assert.equal(await latestCheckpoint(join(root, 'none')), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

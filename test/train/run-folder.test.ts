// Run folders are safe for a careless user: a new run refuses a folder holding a run (unless overwrite), two
// processes never train into one folder, a step that cannot fit in memory is refused before any work, evaluation
// happens at the end with evalEvery 0, a tiny corpus says it evaluates on its training documents, and
// trainer_state.json keeps the best eval loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeBackend } from '../../src/runtime/node.js';
import { pretrain } from '../../src/train/pretrain.js';
import { resolveConfig } from '../../src/cli/config.js';
import { claimForNewRun, LOCK_FILE, lockRunFolder, runContents } from '../../src/train/run-folder.js';
import { checkTrainingMemory, estimateTrainingMemory } from '../../src/train/memory.js';
import type { FlatTrainConfig, TrainConfig } from '../../src/train/config.js';

function corpus(dir: string, docs = 30): string {
  const file = path.join(dir, `corpus-${docs}.txt`);
  writeFileSync(file, Array.from({ length: docs }, (_, i) => `Story ${i}: the cat sat on the mat and the dog ran home to the red house.`).join('\n\n') + '\n');
  return file;
}

function config(dir: string, out: string, extra: Partial<FlatTrainConfig> = {}): TrainConfig {
  return resolveConfig(undefined, {
    corpus: corpus(dir), out, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 16, batchSize: 2,
    maxSteps: 4, warmup: 1, lr: 3e-3, evalEvery: 2, evalBatches: 1, saveEvery: 2, keepLast: 5, seed: 1, dropout: 0,
    ...extra,
  });
}

const quiet = { backend: nodeBackend, progress: false, log: () => {} };

/** The id of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a new run refuses a folder that holds a run; overwrite deletes the old run first', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-runfolder-'));
  const out = path.join(dir, 'run');
  await pretrain(config(dir, out), quiet);
  assert.deepEqual(runContents(out), ['checkpoint-2', 'checkpoint-4', 'log.jsonl', 'train_config.json']);
  writeFileSync(path.join(out, 'notes.txt'), 'mine');
  const before = readFileSync(path.join(out, 'log.jsonl'), 'utf8');
  await assert.rejects(pretrain(config(dir, out, { maxSteps: 2 }), quiet), /--out .*run already holds a run \(checkpoint-2, checkpoint-4, log\.jsonl, train_config\.json\): continue it with --resume, or start over with --overwrite/);
  assert.equal(readFileSync(path.join(out, 'log.jsonl'), 'utf8'), before, 'the refused run left log.jsonl alone');
  const lines: string[] = [];
  await pretrain(config(dir, out, { maxSteps: 2, overwrite: true }), { ...quiet, log: (s: string) => lines.push(s) });
  assert.ok(lines.some((l) => /--overwrite: deleted the old run/.test(l)));
  assert.deepEqual(runContents(out), ['checkpoint-2', 'log.jsonl', 'train_config.json'], 'the old checkpoint-4 is gone');
  assert.equal(readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine', 'files the run did not write are kept');
  assert.ok(!existsSync(path.join(out, LOCK_FILE)), 'the lock is released');
  await assert.rejects(pretrain(config(dir, out, { resume: true, overwrite: true }), quiet), /^Error: --resume continues the run in --out and --overwrite deletes it: give one of them$/);
  const saved = JSON.parse(readFileSync(path.join(out, 'train_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.overwrite, undefined, 'overwrite is not a setting a resume inherits');
});

test('claimForNewRun keeps a --tokenizer folder inside the old run', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-claim-'));
  mkdirSync(path.join(dir, 'tokenizer'));
  mkdirSync(path.join(dir, 'checkpoint-3'));
  writeFileSync(path.join(dir, 'log.jsonl'), '');
  assert.deepEqual(claimForNewRun(dir, true, [path.resolve(dir, 'tokenizer')]), ['checkpoint-3', 'log.jsonl']);
  assert.ok(existsSync(path.join(dir, 'tokenizer')));
  assert.deepEqual(claimForNewRun(dir, false), [], 'an emptied folder is free');
});

test('one training process per run folder: a live lock is an error, a stale one is taken over', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-lock-'));
  const out = path.join(dir, 'run');
  mkdirSync(out);
  // A lock held by a live process (this test's parent, which runs as long as we do).
  writeFileSync(path.join(out, LOCK_FILE), `${process.ppid}\n`);
  await assert.rejects(pretrain(config(dir, out), quiet), new RegExp(`another training process \\(pid ${process.ppid}\\) is using this run folder`));
  assert.deepEqual(runContents(out), [], 'nothing was written');
  // A stale lock (its process exited): the run takes it over, and releases it at the end.
  const pid = deadPid();
  writeFileSync(path.join(out, LOCK_FILE), `${pid}\n`);
  const r = await pretrain(config(dir, out, { maxSteps: 2 }), quiet);
  assert.equal(r.stoppedBy, 'done');
  assert.ok(!existsSync(path.join(out, LOCK_FILE)));
  // Within one process, a second lock on the same folder is refused too.
  const held = lockRunFolder(out);
  assert.throws(() => lockRunFolder(out), /another training process \(pid \d+, this one\)/);
  held.release();
  lockRunFolder(out).release();
});

test('a step too large for memory is refused before any work, with the largest seq-len and batch size that fit', async () => {
  const shape = { batchSize: 16, seqLen: 100_000, layers: 4, hidden: 256, heads: 4, vocab: 8192 };
  const e = estimateTrainingMemory(shape);
  assert.equal(e.attention, 4 * 4 * 2 * 16 * 4 * 100_000 * 100_000);
  assert.throws(() => checkTrainingMemory(shape, 128e9), (err: Error) => {
    assert.match(err.message, /^--seq-len 100000 --batch-size 16: a training step needs about 20\.8 TB of memory \(attention scores 20\.5 TB, .*more than the 96\.0 GB it may use \(75% of this machine's 128 GB\); the largest --seq-len that fits at --batch-size 16 is (\d+); no --batch-size fits at --seq-len 100000$/);
    const t = Number(/is (\d+);/.exec(err.message)![1]);
    assert.ok(estimateTrainingMemory({ ...shape, seqLen: t }).total <= 96e9 && estimateTrainingMemory({ ...shape, seqLen: t + 1 }).total > 96e9);
    return true;
  });
  assert.throws(() => checkTrainingMemory({ ...shape, seqLen: 8192 }, 128e9), /the largest --batch-size that fits at --seq-len 8192 is \d+ \(with --grad-accum/);
  checkTrainingMemory({ ...shape, seqLen: 128 }, 8e9);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-mem-'));
  const out = path.join(dir, 'run');
  const lines: string[] = [];
  await assert.rejects(pretrain(config(dir, out, { seqLen: 100_000, batchSize: 16 }), { ...quiet, log: (s: string) => lines.push(s) }), /--seq-len 100000 --batch-size 16: a training step needs about .* of memory/);
  assert.ok(!existsSync(out), 'no run folder');
  assert.deepEqual(lines, [], 'no tokenizer was trained');
});

test('evalEvery 0 evaluates at the end; trainer_state.json keeps the best eval loss', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-evalend-'));
  const out = path.join(dir, 'run');
  const r = await pretrain(config(dir, out, { evalEvery: 0, saveEvery: 0 }), quiet);
  assert.ok(r.lastEval && Number.isFinite(r.lastEval.loss));
  const log = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number; loss: number });
  assert.deepEqual(log.filter((x) => x.kind === 'eval').map((x) => x.step), [4]);

  const out2 = path.join(dir, 'run2');
  const r2 = await pretrain(config(dir, out2, { evalEvery: 1, maxSteps: 4, lr: 1e-2 }), quiet);
  const evals = readFileSync(path.join(out2, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number; loss: number }).filter((x) => x.kind === 'eval');
  const best = evals.reduce((a, b) => (b.loss < a.loss ? b : a));
  const state = JSON.parse(readFileSync(path.join(out2, 'checkpoint-4', 'trainer_state.json'), 'utf8')) as { best_eval_loss: number; best_eval_step: number };
  assert.deepEqual([state.best_eval_loss, state.best_eval_step], [best.loss, best.step]);
  assert.deepEqual(r2.bestEval, { loss: best.loss, step: best.step });
  // A resumed run starts from the recorded best.
  const r3 = await pretrain(config(dir, out2, { evalEvery: 100, maxSteps: 5, resume: path.join(out2, 'checkpoint-2') }), quiet);
  const st2 = JSON.parse(readFileSync(path.join(out2, 'checkpoint-2', 'trainer_state.json'), 'utf8')) as { best_eval_loss: number; best_eval_step: number };
  assert.ok(r3.bestEval && r3.bestEval.loss <= st2.best_eval_loss);
});

test('a corpus too small to hold documents out says that it evaluates on its training documents', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-tiny-'));
  const lines: string[] = [];
  const r = await pretrain(config(dir, path.join(dir, 'run'), { corpus: corpus(dir, 6), maxSteps: 2 }), { ...quiet, log: (s: string) => lines.push(s) });
  assert.equal(r.evalOnTrain, true);
  assert.ok(lines.some((l) => /warning: .*corpus-6\.txt has 6 documents, too few to hold out every 10th; evaluation uses the training documents/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /6 training documents, \d+ tokens; none held out/.test(l)));
  const r2 = await pretrain(config(dir, path.join(dir, 'run2'), { maxSteps: 1, warmup: 0 }), quiet);
  assert.equal(r2.evalOnTrain, false);
});

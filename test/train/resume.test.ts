// Exact resume in the cases a careless user hits: gradient accumulation, an interruption next to an epoch boundary,
// Ctrl-C (SIGINT) through the CLI, and a named checkpoint folder. Each resumed run must give the uninterrupted run's
// losses bit for bit, the same final weights, and a log.jsonl that describes one run (steps 1..N once each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/cli/config.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { pretrain, type PretrainResult } from '../../src/train/pretrain.js';
import { readLog } from '../../src/train/log.js';
import type { FlatTrainConfig, TrainConfig } from '../../src/train/config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, '..', '..', 'src', 'cli', 'main.js');

/** `docs` documents of 4 sentences of 8 words: 30 documents pass one epoch in about 15 steps of 4x16 tokens. */
function corpus(dir: string, docs = 30): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'house', 'red', 'big', 'small'];
  let s = 1;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const text = Array.from({ length: docs }, () =>
    Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => words[Math.floor(rand() * words.length)]).join(' ') + '.').join(' '),
  );
  const file = path.join(dir, 'corpus.txt');
  writeFileSync(file, text.join('\n\n') + '\n');
  return file;
}

function config(file: string, out: string, extra: Partial<FlatTrainConfig> = {}): TrainConfig {
  return resolveConfig(undefined, {
    corpus: file, out, vocabSize: 300, layers: 1, hidden: 32, heads: 2, seqLen: 16, batchSize: 4,
    maxSteps: 8, warmup: 2, lr: 3e-3, evalEvery: 4, evalBatches: 1, saveEvery: 100, keepLast: 2, seed: 5, dropout: 0.1,
    ...extra,
  });
}

const quiet = { backend: nodeBackend, progress: false, log: () => {} };

/** Every parameter of two finished runs is equal, bit for bit. */
function assertSameWeights(a: PretrainResult, b: PretrainResult): void {
  assert.deepEqual(b.store.names(), a.store.names());
  for (const name of a.store.names()) {
    const x = a.store.get(name);
    const y = b.store.get(name);
    assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `weights of ${name} differ`);
  }
}

/** The train records of a run folder's log: steps 1..N, once each, and their losses. */
async function loggedLosses(run: string): Promise<{ steps: number[]; losses: number[]; evals: number[] }> {
  const { records, tornTail } = await readLog(path.join(run, 'log.jsonl'));
  assert.equal(tornTail, false);
  const train = records.filter((r) => r.kind === 'train');
  return { steps: train.map((r) => r.step), losses: train.map((r) => r.loss as number), evals: records.filter((r) => r.kind === 'eval').map((r) => r.loss as number) };
}

function sameFile(a: string, b: string): boolean {
  return readFileSync(a).equals(readFileSync(b));
}

function stateOf(checkpoint: string): { step: number; microStep: number; data: { shuffler: { epoch: number } } } {
  return JSON.parse(readFileSync(path.join(checkpoint, 'trainer_state.json'), 'utf8'));
}

test('gradient accumulation (--grad-accum 2) resumes exactly: losses, evals and final weights', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-resume-accum-'));
  const file = corpus(dir);
  const extra = { gradAccum: 2 };
  const full = await pretrain(config(file, path.join(dir, 'a'), extra), quiet);
  const first = await pretrain(config(file, path.join(dir, 'b'), extra), { ...quiet, stopAfter: 3 });
  assert.equal(first.stoppedBy, 'stopAfter');
  const s = stateOf(path.join(dir, 'b', 'checkpoint-3'));
  assert.deepEqual([s.step, s.microStep], [3, 6], 'the checkpoint counts 2 micro-batches per step');
  const rest = await pretrain(config(file, path.join(dir, 'b'), { ...extra, resume: true }), quiet);
  assert.deepEqual([...first.losses, ...rest.losses], full.losses, 'losses bit for bit');
  assert.equal(rest.lastEval?.loss, full.lastEval?.loss);
  assertSameWeights(full, rest);
  const logged = await loggedLosses(path.join(dir, 'b'));
  assert.deepEqual(logged, await loggedLosses(path.join(dir, 'a')), 'log.jsonl of the resumed run equals the uninterrupted one');
  for (const f of ['model.safetensors', 'checkpoint-8/model.safetensors', 'checkpoint-8/optimizer.safetensors', 'checkpoint-8/trainer_state.json'])
    assert.ok(sameFile(path.join(dir, 'a', f), path.join(dir, 'b', f)), `${f} equal byte for byte`);
});

test('an interruption on either side of an epoch boundary resumes exactly (the run passes 2+ epochs)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-resume-epoch-'));
  const file = corpus(dir);
  const maxSteps = 36;
  const extra = { maxSteps, saveEvery: 1, keepLast: 100, evalEvery: 12 };
  const full = await pretrain(config(file, path.join(dir, 'a'), extra), quiet);
  // The first step whose checkpoint is in a later epoch than the step before it.
  const epochs = Array.from({ length: maxSteps }, (_, i) => stateOf(path.join(dir, 'a', `checkpoint-${i + 1}`)).data.shuffler.epoch);
  assert.ok(epochs[maxSteps - 1] >= 2, `the run passes more than one epoch (epochs by step: ${epochs.join(',')})`);
  const boundary = epochs.findIndex((e, i) => i > 0 && e > epochs[i - 1]) + 1;
  assert.ok(boundary > 1, 'an epoch boundary inside the run');
  for (const stop of [boundary - 1, boundary]) {
    const out = path.join(dir, `stop-${stop}`);
    const first = await pretrain(config(file, out, extra), { ...quiet, stopAfter: stop });
    assert.equal(stateOf(path.join(out, `checkpoint-${stop}`)).data.shuffler.epoch, epochs[stop - 1]);
    const rest = await pretrain(config(file, out, { ...extra, resume: true }), quiet);
    assert.deepEqual([...first.losses, ...rest.losses], full.losses, `stopped at step ${stop} (boundary ${boundary}): losses bit for bit`);
    assertSameWeights(full, rest);
    assert.deepEqual(await loggedLosses(out), await loggedLosses(path.join(dir, 'a')));
  }
});

test('resume from a named checkpoint folder (not the newest) rewinds the run and the log to it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-resume-named-'));
  const file = corpus(dir);
  const extra = { saveEvery: 2, keepLast: 5 };
  const full = await pretrain(config(file, path.join(dir, 'a'), extra), quiet);
  const out = path.join(dir, 'b');
  const first = await pretrain(config(file, out, extra), { ...quiet, stopAfter: 6 });
  assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('checkpoint-')).sort(), ['checkpoint-2', 'checkpoint-4', 'checkpoint-6']);
  const rest = await pretrain(config(file, out, { ...extra, resume: path.join(out, 'checkpoint-4') }), quiet);
  assert.equal(rest.losses.length, 4, 'steps 5..8 are run again');
  assert.deepEqual([...first.losses.slice(0, 4), ...rest.losses], full.losses, 'losses bit for bit');
  assertSameWeights(full, rest);
  const logged = await loggedLosses(out);
  assert.deepEqual(logged.steps, [1, 2, 3, 4, 5, 6, 7, 8], 'records after checkpoint-4 were dropped before the run went on');
  assert.deepEqual(logged, await loggedLosses(path.join(dir, 'a')));
  for (const f of ['model.safetensors', 'checkpoint-6/model.safetensors', 'checkpoint-8/optimizer.safetensors'])
    assert.ok(sameFile(path.join(dir, 'a', f), path.join(out, f)), `${f} equal byte for byte`);
  // A named folder must be a checkpoint.
  await assert.rejects(pretrain(config(file, out, { ...extra, resume: path.join(out, 'tokenizer') }), quiet), /not a checkpoint folder|neither a checkpoint folder/);
});

/** Runs the built CLI; `interruptAfter`: send SIGINT once log.jsonl holds that many train records. */
function cli(args: string[], interruptAfter?: { log: string; records: number }): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (interruptAfter) {
      timer = setInterval(() => {
        if (!existsSync(interruptAfter.log)) return;
        const n = readFileSync(interruptAfter.log, 'utf8').split('\n').filter((l) => l.includes('"kind":"train"')).length;
        if (n >= interruptAfter.records) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 5);
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, signal, out, err });
    });
  });
}

test('Ctrl-C (SIGINT) through the CLI saves a checkpoint, and --resume finishes exactly like an uninterrupted run', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-resume-sigint-'));
  const file = corpus(dir);
  const flags = (out: string) => ['train', '--corpus', file, '--out', out, '--vocab-size', '300', '--layers', '1', '--hidden', '32', '--heads', '2',
    '--seq-len', '16', '--batch-size', '4', '--max-steps', '80', '--warmup', '2', '--lr', '3e-3', '--eval-every', '20', '--eval-batches', '1',
    '--save-every', '1000', '--keep-last', '2', '--seed', '5', '--dropout', '0.1'];
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const full = await cli(flags(a));
  assert.equal(full.code, 0, full.err);

  const first = await cli(flags(b), { log: path.join(b, 'log.jsonl'), records: 3 });
  assert.equal(first.code, 130, `exit code 130 after Ctrl-C\n${first.err}`);
  const m = /interrupted at step (\d+); continue with the same command and --resume/.exec(first.out);
  assert.ok(m, first.out);
  const stopped = Number(m[1]);
  assert.ok(stopped >= 3 && stopped < 80, `stopped at step ${stopped}`);
  assert.match(first.err, /interrupt: finishing this step, saving a checkpoint, then stopping/);
  for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'tokenizer.json'])
    assert.ok(existsSync(path.join(b, `checkpoint-${stopped}`, f)), `checkpoint-${stopped}/${f}`);
  assert.deepEqual((await loggedLosses(b)).steps, Array.from({ length: stopped }, (_, i) => i + 1), 'the log ends at the saved step');

  // Only --out and --resume: the settings come from the run folder's train_config.json.
  const rest = await cli(['train', '--out', b, '--resume']);
  assert.equal(rest.code, 0, rest.err);
  assert.match(rest.err, new RegExp(`resuming from .*checkpoint-${stopped}`));
  assert.deepEqual(await loggedLosses(b), await loggedLosses(a), 'losses and evals bit for bit, steps 1..80 once each');
  for (const f of ['model.safetensors', 'checkpoint-80/model.safetensors', 'checkpoint-80/optimizer.safetensors', 'checkpoint-80/trainer_state.json'])
    assert.ok(sameFile(path.join(a, f), path.join(b, f)), `${f} equal byte for byte`);
});

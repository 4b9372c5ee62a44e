// Run folders through the CLI: --resume [checkpoint], settings that cannot change on resume (and a failed resume
// leaves train_config.json as it was), nothing to resume is an error before any work, a corrupt
// train_config.json, --overwrite, seq-len beyond the model's positions, and a swapped tokenizer.json refused when
// fine-tuning or resuming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, '..', '..', 'src', 'cli', 'main.js');

function cli(cwd: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 180_000, cwd });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function setup(): { dir: string; args: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-runs-'));
  writeFileSync(path.join(dir, 'c.txt'), Array.from({ length: 40 }, (_, i) => `Story ${i}: the cat sat on the mat and the dog ran home.`).join('\n\n') + '\n');
  const args = ['--corpus', 'c.txt', '--vocab-size', '300', '--layers', '1', '--hidden', '32', '--heads', '2', '--seq-len', '16',
    '--batch-size', '4', '--max-steps', '4', '--save-every', '2', '--keep-last', '5', '--eval-every', '0', '--eval-batches', '1', '--seed', '4'];
  return { dir, args };
}

const steps = (dir: string, run: string) =>
  readFileSync(path.join(dir, run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number; loss: number }).filter((r) => r.kind === 'train');

test('--resume <checkpoint> resumes from that folder; fixed settings are refused and leave train_config.json alone', () => {
  const { dir, args } = setup();
  assert.equal(cli(dir, 'train', '--out', 'run', ...args).code, 0);
  const saved = readFileSync(path.join(dir, 'run', 'train_config.json'), 'utf8');

  const bad = cli(dir, 'train', '--out', 'run', '--resume', '--seq-len', '1024', '--tokenizer', 'elsewhere', '--lr', '1e-3');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^pretrain: --resume: --tokenizer elsewhere \(the run has none\), --seq-len 1024 \(the run has 16\): these settings cannot change when resuming the run of run\/train_config\.json; drop them, or start a new run in another --out\n$/);
  assert.equal(readFileSync(path.join(dir, 'run', 'train_config.json'), 'utf8'), saved, 'a refused resume does not touch train_config.json');

  // From the older checkpoint, for longer: the log is cut back to step 2 and continues.
  const r = cli(dir, 'train', '--resume', path.join('run', 'checkpoint-2'), '--max-steps', '6');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /resuming from run\/checkpoint-2 at step 2/);
  assert.deepEqual(steps(dir, 'run').map((x) => x.step), [1, 2, 3, 4, 5, 6]);
  assert.equal((JSON.parse(readFileSync(path.join(dir, 'run', 'train_config.json'), 'utf8')) as { maxSteps: number }).maxSteps, 6, 'the new max-steps is kept');
  // A plain --resume still works after the refused one, and --resume also takes a run folder.
  const again = cli(dir, 'train', '--resume', 'run', '--max-steps', '7');
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /resuming from run\/checkpoint-6 at step 6/);
  assert.equal(cli(dir, 'train', '--out', 'run', '--resume', '--max-steps', '8').code, 0);
  assert.deepEqual(steps(dir, 'run').map((x) => x.step), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('--resume with nothing to resume fails before any work; a corrupt train_config.json is named', () => {
  const { dir, args } = setup();
  const none = cli(dir, 'train', '--out', 'fresh', '--resume', ...args);
  assert.equal(none.code, 1);
  assert.match(none.err, /^pretrain: --resume: nothing to resume: fresh does not exist/);
  assert.doesNotMatch(none.err, /tokenizer/);
  const missing = cli(dir, 'train', '--resume', 'nowhere/checkpoint-5', ...args);
  assert.match(missing.err, /^pretrain: --resume nowhere\/checkpoint-5: no such folder/);
  assert.deepEqual(readdirSync(dir).sort(), ['c.txt'], 'no folder, no shards cache, no tokenizer');

  assert.equal(cli(dir, 'train', '--out', 'run', ...args).code, 0);
  writeFileSync(path.join(dir, 'run', 'train_config.json'), '{"arch": "gpt2",');
  const corrupt = cli(dir, 'train', '--out', 'run', '--resume');
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.err, /^pretrain: run\/train_config\.json: not valid JSON \(.*\); fix or delete it to resume with flags only\n$/);
});

test('a new run in a used folder needs --overwrite; --seq-len beyond the model\'s positions is refused', () => {
  const { dir, args } = setup();
  assert.equal(cli(dir, 'train', '--out', 'run', ...args).code, 0);
  const again = cli(dir, 'train', '--out', 'run', ...args);
  assert.equal(again.code, 1);
  assert.match(again.err, /^pretrain: --out run already holds a run \(checkpoint-2, checkpoint-4, log\.jsonl, train_config\.json\): continue it with --resume, or start over with --overwrite \(deletes the old run\), or choose another --out\n$/);
  const over = cli(dir, 'train', '--out', 'run', ...args, '--max-steps', '2', '--overwrite');
  assert.equal(over.code, 0, over.err);
  assert.ok(!existsSync(path.join(dir, 'run', 'checkpoint-4')));
  assert.deepEqual(steps(dir, 'run').map((x) => x.step), [1, 2]);

  // A checkpoint of another run folder whose settings are gone: the model has 512 positions.
  rmSync(path.join(dir, 'run', 'train_config.json'));
  const long = cli(dir, 'train', ...args, '--out', 'other', '--resume', path.join('run', 'checkpoint-2'), '--seq-len', '600');
  assert.equal(long.code, 1);
  assert.match(long.err, /^pretrain: --seq-len 600: the model of run\/checkpoint-2 has 512 positions; use --seq-len 512 or less\n$/);
  const huge = cli(dir, 'train', ...args, '--out', 'big', '--seq-len', '100000', '--batch-size', '64');
  assert.equal(huge.code, 1);
  assert.match(huge.err, /^pretrain: --seq-len 100000 --batch-size 64: a training step needs about .* of memory .*; the largest --seq-len that fits at --batch-size 64 is \d+/);
  assert.ok(!existsSync(path.join(dir, 'big')));
});

test('a tokenizer.json swapped for another of the same size is refused when fine-tuning (unless --force) and resuming', () => {
  const { dir, args } = setup();
  assert.equal(cli(dir, 'train', '--out', 'run', ...args).code, 0);
  assert.match(readFileSync(path.join(dir, 'run', 'checkpoint-4', 'tokenizer.sha256'), 'utf8'), /^[0-9a-f]{64}\n$/);
  // Same vocabulary size, two tokens' ids swapped.
  const swap = (file: string) => {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { model: { vocab: Record<string, number> } };
    const [a, b] = Object.keys(j.model.vocab).slice(-2);
    [j.model.vocab[a!], j.model.vocab[b!]] = [j.model.vocab[b!]!, j.model.vocab[a!]!];
    writeFileSync(file, JSON.stringify(j));
  };
  cpSync(path.join(dir, 'run'), path.join(dir, 'copy'), { recursive: true });
  swap(path.join(dir, 'copy', 'checkpoint-4', 'tokenizer.json'));
  writeFileSync(path.join(dir, 'labels.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `the ${i % 2 ? 'cat' : 'dog'} ran ${i}`, label: i % 2 ? 'cat' : 'dog' })).join('\n') + '\n');
  const ft = ['finetune', '--from', path.join('copy', 'checkpoint-4'), '--data', 'labels.jsonl', '--out', 'clf', '--max-len', '16', '--batch-size', '8', '--epochs', '1'];
  const refused = cli(dir, ...ft);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^pretrain: --from copy\/checkpoint-4: its tokenizer\.json \(sha256 [0-9a-f]{12}\) is not the tokenizer copy\/checkpoint-4 was trained with \(tokenizer\.sha256: [0-9a-f]{12}\); put back the tokenizer\.json the model was trained with, or pass --force to fine-tune with this one\n$/);
  const forced = cli(dir, ...ft, '--force');
  assert.equal(forced.code, 0, forced.err);

  swap(path.join(dir, 'run', 'tokenizer', 'tokenizer.json'));
  const resumed = cli(dir, 'train', '--out', 'run', '--resume', '--max-steps', '6');
  assert.equal(resumed.code, 1);
  assert.match(resumed.err, /pretrain: --resume: the run's tokenizer \(run\/tokenizer\) \(sha256 [0-9a-f]{12}\) is not the tokenizer run\/checkpoint-4 was trained with/);
});

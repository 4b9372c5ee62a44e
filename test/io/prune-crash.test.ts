// keepLast killed while it deletes an old checkpoint: the folder must never stay behind, half deleted, under its
// checkpoint-<step> name (where --resume <folder>, `pretrain eval --model` or a later listing would take it for a
// checkpoint). It is renamed to a temporary name first, which the next recovery deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keepLast, latestCheckpoint } from '../../src/io/checkpoint.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const checkpointModule = pathToFileURL(path.join(here, '..', '..', 'src', 'io', 'checkpoint.js')).href;
const FILES = 3000;

function fakeCheckpoint(dir: string, files: number): void {
  mkdirSync(path.join(dir, 'many'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']) writeFileSync(path.join(dir, f), '{}');
  for (let i = 0; i < files; i++) writeFileSync(path.join(dir, 'many', `f${i}`), 'x');
}

/** Runs keepLast(run, 1) in a child process and SIGKILLs it once checkpoint-1 (under any name) has lost some files. */
function prunedAndKilled(run: string): Promise<void> {
  const code = `const { keepLast } = await import(${JSON.stringify(checkpointModule)}); process.stdout.write('go\\n'); await keepLast(${JSON.stringify(run)}, 1); setTimeout(() => {}, 20000);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once('data', () => {
      timer = setInterval(() => {
        const dirs = readdirSync(run).filter((n) => n.startsWith('checkpoint-1'));
        const counts = dirs.map((d) => (existsSync(path.join(run, d, 'many')) ? readdirSync(path.join(run, d, 'many')).length : 0));
        if (!dirs.length || counts.some((n) => n < FILES)) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 1);
    });
    const stop = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', () => {
      clearInterval(timer);
      clearTimeout(stop);
      resolve();
    });
  });
}

test('a kill while keepLast deletes an old checkpoint never leaves a half-deleted checkpoint-<step> folder', async () => {
  const run = mkdtempSync(path.join(os.tmpdir(), 'pretrain-prune-'));
  fakeCheckpoint(path.join(run, 'checkpoint-1'), FILES);
  fakeCheckpoint(path.join(run, 'checkpoint-2'), 1);
  await prunedAndKilled(run);
  if (existsSync(path.join(run, 'checkpoint-1'))) {
    const left = readdirSync(path.join(run, 'checkpoint-1', 'many')).length;
    assert.equal(left, FILES, `checkpoint-1 is half deleted (${left} of ${FILES} files left)`);
  }
  const leftover = readdirSync(run).filter((n) => n.startsWith('checkpoint-1.tmp-'));
  assert.equal(leftover.length, 1, `the kill landed while checkpoint-1 was being deleted, under a temporary name (${readdirSync(run).join(', ')})`);
  assert.ok(readdirSync(path.join(run, leftover[0], 'many')).length < FILES, 'the kill interrupted the deletion');
  // The next resume (or keepLast) removes what the killed process left, and keeps the newest checkpoint.
  assert.equal(await latestCheckpoint(run), path.join(run, 'checkpoint-2'));
  assert.deepEqual(readdirSync(run), ['checkpoint-2']);
  await keepLast(run, 1);
  assert.deepEqual(readdirSync(run), ['checkpoint-2']);
});

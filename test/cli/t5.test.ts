// T5 through the CLI: a tiny model pretrained with span corruption and with prefix LM on a repetitive corpus; the
// held-out loss falls between the first and the last evaluation, and `pretrain eval` reports the target-token
// accuracy of the seq2seq head on a fixed seeded corruption (two evaluations agree).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, '..', '..', 'src', 'cli', 'main.js');

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function corpus(dir: string): string {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  const foods = ['apples', 'bread', 'cheese', 'dates', 'eggs', 'figs'];
  let s = 11;
  const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
  const docs = Array.from({ length: 60 }, () => Array.from({ length: 8 }, () => {
    const i = rand(6);
    return `${names[i]} eats ${foods[i]} every day.`;
  }).join(' '));
  const file = path.join(dir, 'c.txt');
  writeFileSync(file, docs.join('\n\n') + '\n');
  return file;
}

for (const objective of ['span-corruption', 'prefix-lm']) {
  test(`t5 --objective ${objective} through the CLI: the held-out loss falls; eval reports target-token accuracy`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `pretrain-t5-${objective}-`));
    const file = corpus(dir);
    const out = path.join(dir, 'run');
    const t = cli('train', '--arch', 't5', '--objective', objective, '--corpus', file, '--out', out, '--vocab-size', '300',
      '--layers', '2', '--hidden', '64', '--heads', '2', '--seq-len', '32', '--batch-size', '8', '--max-steps', '80',
      '--eval-every', '10', '--eval-batches', '4', '--lr', '3e-3', '--dropout', '0');
    assert.equal(t.code, 0, t.err);
    for (const f of ['config.json', 'model.safetensors', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'])
      assert.ok(existsSync(path.join(out, f)), f);
    const evals = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; loss: number })
      .filter((r) => r.kind === 'eval');
    assert.ok(evals.length >= 2);
    assert.ok(evals.at(-1)!.loss < 0.8 * evals[0].loss, `held-out loss ${evals[0].loss} -> ${evals.at(-1)!.loss}`);
    const args = ['eval', '--model', out, '--corpus', file, '--seq-len', '32', '--batch-size', '8', '--json'];
    const e = cli(...args);
    assert.equal(e.code, 0, e.err);
    const r = JSON.parse(e.out) as Record<string, number | string>;
    assert.equal(r.objective, objective);
    assert.ok((r.seq2seq_count as number) > 0);
    assert.ok((r.seq2seq_accuracy as number) > 0.3, `target-token accuracy ${r.seq2seq_accuracy}`);
    assert.ok(Math.abs(Math.log(r.perplexity as number) - (r.seq2seq_loss as number)) < 1e-9);
    assert.deepEqual(JSON.parse(cli(...args).out), r, 'two evaluations agree');
  });
}

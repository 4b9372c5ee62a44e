import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerDataCommands, registerTokenizerCommands } from '../../src/data/cli.js';
import { brownSlice, tempDir } from '../tokenizers/helpers.js';

function program(print?: (s: string) => void): Command {
  const p = new Command('pretrain').exitOverride().configureOutput({ writeErr: () => {} });
  registerTokenizerCommands(p, print);
  registerDataCommands(p, print);
  return p;
}

async function run(args: string[]): Promise<string> {
  let out = '';
  await program((s) => (out += s)).parseAsync(['node', 'pretrain', ...args]);
  return out;
}

test('tokenizer train --help lists every option with its default', () => {
  const train = program().commands.find((c) => c.name() === 'tokenizer')!.commands.find((c) => c.name() === 'train')!;
  const help = train.helpInformation();
  for (const s of ['--kind', '"wordpiece"', '"bpe"', '"unigram"', '--vocab-size', '"8000"', '--corpus', '"brown:train"', '--out', '--min-frequency', '--extra-ids', '"100"']) {
    assert.ok(help.includes(s), s);
  }
});

test('tokenizer train then encode, and data shards, from the command line', async () => {
  const dir = tempDir('pretrain-cli-');
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, brownSlice(15).join('\n') + '\n');
  const out = join(dir, 'tok');
  const log = await run(['tokenizer', 'train', '--kind', 'bpe', '--vocab-size', '700', '--corpus', corpus, '--sentence-per-line', '--out', out]);
  assert.match(log, /bpe tokenizer: 700 tokens/);
  assert.ok(existsSync(join(out, 'tokenizer.json')));
  const enc = JSON.parse(await run(['tokenizer', 'encode', '--tokenizer', out, '--json', 'The jury said, "Hi!"']));
  assert.equal(enc.decoded, 'The jury said, "Hi!"');
  assert.equal(enc.ids.length, enc.tokens.length);
  const table = await run(['tokenizer', 'encode', '--tokenizer', out, 'The jury']);
  assert.match(table, /"The"/);
  const shards = await run(['data', 'shards', '--corpus', corpus, '--sentence-per-line', '--tokenizer', out, '--cache-dir', join(dir, 'cache')]);
  assert.match(shards, /1 documents?, \d+ sentences, \d+ tokens in 1 shard\(s\), uint16/);
  await assert.rejects(run(['tokenizer', 'train', '--kind', 'nope', '--out', out]), /Allowed choices are wordpiece, bpe, unigram/);
});

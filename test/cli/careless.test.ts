// "Safe for a careless user": the command behaves after a rebuild, prints no npm noise, has --version, refuses
// unwritable output folders up front, and answers every everyday mistake with one line naming the flag, never a
// stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProgressBar } from '../../src/train/progress.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');
const root = path.join(here, ...(isTs ? ['..', '..'] : ['..', '..', '..']));
const main = path.join(here, '..', '..', 'src', 'cli', isTs ? 'main.ts' : 'main.js');
const nodeArgs = isTs ? ['--import', 'tsx'] : [];
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string>; allowScripts?: Record<string, boolean> };

function cli(args: string[], env: Record<string, string> = {}, timeout = 60_000): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, main, ...args], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A user error: exit 1, one line on stderr that starts with `pretrain: <flag>` and matches `what`; no stack trace. */
function userError(args: string[], flag: string, what: RegExp, timeout = 60_000): void {
  const r = cli(args, {}, timeout);
  const label = args.join(' ');
  assert.equal(r.code, 1, `${label}: exit ${r.code}\n${r.err}`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `${label}: one line expected, got\n${r.err}`);
  assert.ok(lines[0]!.startsWith(`pretrain: ${flag}`), `${label}: ${lines[0]}`);
  assert.match(lines[0]!, what, label);
  assert.doesNotMatch(r.err, /^\s+at /m, label);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pretrain-careless-'));
const corpus = path.join(tmp, 'c.txt');
writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `Document ${i} says the cat sat on the mat. The dog ran to the red house.`).join('\n\n') + '\n');
const aFile = path.join(tmp, 'my-run.yaml');
writeFileSync(aFile, 'arch: gpt2\n');
const tiny = ['--corpus', corpus, '--vocab-size', '300', '--layers', '1', '--hidden', '32', '--heads', '2', '--seq-len', '16', '--batch-size', '4'];

test('npm run build leaves the CLI executable (npx pretrain keeps working after a rebuild)', () => {
  // The build script as package.json has it, with a stand-in tsc that writes main.js as tsc does (mode 0644).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pretrain-build-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'build-check', version: '0.0.0', scripts: { build: pkg.scripts.build } }));
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  const tsc = path.join(dir, 'node_modules', '.bin', 'tsc');
  writeFileSync(tsc, `#!/bin/sh\nmkdir -p dist/src/cli && printf '#!/usr/bin/env node\\n' > dist/src/cli/main.js\n`);
  chmodSync(tsc, 0o755);
  // The browser bundle step (esbuild) is not what this test checks: a stand-in that writes nothing.
  mkdirSync(path.join(dir, 'build'));
  writeFileSync(path.join(dir, 'build', 'web.mjs'), '');
  // As after `npx pretrain`, which linked the bin and made it executable.
  mkdirSync(path.join(dir, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(path.join(dir, 'dist', 'src', 'cli', 'main.js'), '');
  chmodSync(path.join(dir, 'dist', 'src', 'cli', 'main.js'), 0o755);
  const r = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok((statSync(path.join(dir, 'dist', 'src', 'cli', 'main.js')).mode & 0o111) === 0o111, 'dist/src/cli/main.js must be executable');
});

test('npm commands in the project print no config warning, and the CPU-only install stays', () => {
  const r = spawnSync('npm', ['exec', '--no', '--', 'node', '-e', 'process.exit(0)'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /npm warn/i);
  // onnxruntime-node's install script only downloads CUDA binaries (the CPU ones ship in the package).
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});

test('--version prints the package version', () => {
  for (const flag of ['--version', '-V']) {
    const r = cli([flag]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), pkg.version);
  }
});

test('an output folder that cannot be written is refused up front, naming the flag', { skip: !existsSync('/proc/self') && 'no procfs' }, () => {
  // A recursive mkdir on procfs used to spin forever: a short timeout catches that.
  for (const cmd of [['train', ...tiny], ['tokenizer', 'train', '--corpus', corpus], ['finetune', '--from', tmp], ['demo']])
    userError([...cmd, '--out', '/proc/x'], '--out /proc/x', /cannot create the folder/, 20_000);
  for (const cmd of [['train', ...tiny], ['tokenizer', 'train', '--corpus', corpus], ['finetune', '--from', tmp], ['demo']])
    userError([...cmd, '--out', aFile], `--out ${aFile}`, /is a file, not a folder/);
  userError(['train', ...tiny, '--out', path.join(aFile, 'run')], `--out ${aFile}/run`, /my-run\.yaml is a file, not a folder/);
  userError(['data', 'shards', '--tokenizer', tmp, '--cache-dir', aFile], `--cache-dir ${aFile}`, /is a file, not a folder/);
  if (existsSync('/sys/kernel') && spawnSync('sh', ['-c', 'mkdir /sys/pretrain-x 2>/dev/null']).status !== 0)
    userError(['train', ...tiny, '--out', '/sys/pretrain-x'], '--out /sys/pretrain-x', /cannot create the folder \(.+\)/);
});

test('tokenizer and data mistakes: one line naming the flag; PRETRAIN_DEBUG=1 shows the stack', () => {
  const out = path.join(tmp, 'tok');
  userError(['tokenizer', 'train', '--vocab-size', '0', '--corpus', corpus, '--out', out], '--vocab-size', /integer >= 1/);
  userError(['tokenizer', 'train', '--kind', 'bpe', '--vocab-size', '10', '--corpus', corpus, '--out', out], '--vocab-size 10', /too small/);
  userError(['tokenizer', 'train', '--kind', 'wordpiece', '--vocab-size', '10', '--corpus', corpus, '--out', out], '--vocab-size 10', /too small/);
  userError(['tokenizer', 'train', '--corpus', path.join(tmp, 'missing.txt'), '--out', out], `--corpus ${tmp}/missing.txt`, /no such file/);
  userError(['tokenizer', 'encode', '--tokenizer', path.join(tmp, 'nope'), 'hello'], `--tokenizer ${tmp}/nope`, /does not exist/);
  userError(['tokenizer', 'encode', '--tokenizer', tmp, 'hello'], `--tokenizer ${tmp}`, /no tokenizer\.json/);
  userError(['data', 'shards', '--tokenizer', path.join(tmp, 'nope')], `--tokenizer ${tmp}/nope`, /does not exist/);
  userError(['data', 'show', '--corpus', path.join(tmp, 'missing.txt')], `--corpus ${tmp}/missing.txt`, /no such file/);
  const debug = cli(['tokenizer', 'encode', '--tokenizer', path.join(tmp, 'nope'), 'hello'], { PRETRAIN_DEBUG: '1' });
  assert.equal(debug.code, 1);
  assert.match(debug.err, /^\s+at /m);
});

test('a terminal that reports 0 columns still gets a bar', () => {
  const out: string[] = [];
  const bar = new ProgressBar({ total: 10, tty: true, stream: { isTTY: true, columns: 0, write: (s: string) => out.push(s) } });
  bar.update({ step: 5, loss: 1 });
  assert.match(out.join(''), /50%\|█+/);
});

// A pseudo-terminal (util-linux `script`); it reports 0 columns when nothing sized it, as here.
const hasScript = spawnSync('script', ['--version']).status === 0;

test('on a terminal, the result line starts on a line of its own after the progress bar', { skip: !hasScript && 'no script(1)' }, () => {
  const out = path.join(tmp, 'tty-run');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, ...nodeArgs, main, 'train', ...tiny, '--max-steps', '4', '--eval-every', '0', '--out', out].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout);
  const lines = r.stdout.split(/\r?\n/);
  const result = lines.find((l) => l.includes('run folder'));
  assert.ok(result, r.stdout);
  assert.ok(result.startsWith('run folder'), JSON.stringify(result));
  // The bar itself was drawn (not an empty line for 0 columns).
  assert.match(r.stdout, /100%\|█+\|/);
});

test('predict, generate and finetune: refused inputs name the flag and print nothing first; Ctrl-C reports the steps run', async () => {
  const run = path.join(tmp, 'run');
  const t = cli(['train', ...tiny, '--max-steps', '2', '--eval-every', '0', '--out', run], {}, 120_000);
  assert.equal(t.code, 0, t.err);

  // generate: the length check comes before the prompt is streamed; sampling flags are named as flags.
  const long = cli(['generate', '--model', run, '--prompt', 'The cat', '--max-new-tokens', '600']);
  assert.equal(long.code, 1, long.err);
  assert.equal(long.out, '');
  assert.match(long.err, /^pretrain: --max-new-tokens 600: .*positions/);
  const temp = cli(['generate', '--model', run, '--prompt', 'The cat', '--temperature', '0']);
  assert.equal(temp.code, 1);
  assert.match(temp.err, /^pretrain: --temperature must be > 0.*--greedy/);
  assert.doesNotMatch(temp.err, /doSample/);
  const topP = cli(['generate', '--model', run, '--prompt', 'The cat', '--top-p', '2']);
  assert.equal(topP.code, 1);
  assert.match(topP.err, /^pretrain: --top-p must be in \(0, 1\]/);
  assert.doesNotMatch(topP.err, /topP/);

  // finetune, stopped by Ctrl-C: the steps it ran, not the steps it planned.
  const data = path.join(tmp, 'labels.jsonl');
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify(i % 2 ? { text: `the cat sat on the mat ${i}`, label: 'cat' } : { text: `the dog ran to the house ${i}`, label: 'dog' })).join('\n') + '\n');
  const clf = path.join(tmp, 'clf');
  const child = spawn(process.execPath, [...nodeArgs, main, 'finetune', '--from', run, '--data', data, '--out', clf, '--max-len', '16', '--batch-size', '4', '--epochs', '200', '--json']);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (/step \d+\/\d+/.test(err) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, err);
  const planned = Math.ceil((200 * 36) / 4);
  const m = /interrupted at step (\d+) of (\d+)/.exec(err);
  assert.ok(m, err);
  assert.equal(Number(m[2]), planned);
  const r = JSON.parse(out) as { steps: number; plannedSteps: number; stoppedBy: string };
  assert.equal(r.steps, Number(m[1]));
  assert.ok(r.steps >= 1 && r.steps < planned, `${r.steps} steps`);
  assert.equal(r.plannedSteps, planned);
  assert.equal(r.stoppedBy, 'interrupt');

  // predict refuses empty text (the interrupted run saved a classifier checkpoint).
  for (const text of ['', '   ']) {
    const p = cli(['predict', '--model', clf, text]);
    assert.equal(p.code, 1, p.out);
    assert.equal(p.out, '');
    assert.match(p.err, /^pretrain: <text> is empty/);
  }
});

test('the README quotes the generation speeds of docs/generation.md', () => {
  const docs = readFileSync(path.join(root, 'docs', 'generation.md'), 'utf8');
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const rows = [...docs.matchAll(/^\| (KV cache, live weights|KV cache, baked weights|no cache) \| ([\d.]+ – [\d.]+) \|/gm)];
  assert.equal(rows.length, 3, 'the speed table of docs/generation.md');
  const para = readme.slice(readme.indexOf('Generation from the same model'));
  const sentence = para.slice(0, para.indexOf('\n\n') >= 0 ? para.indexOf('\n\n') : undefined).replace(/\s+/g, ' ');
  for (const [, row, range] of rows) assert.ok(sentence.includes(range!), `README lacks ${row}: ${range}\n${sentence}`);
  assert.match(sentence, /docs\/generation\.md/);
});

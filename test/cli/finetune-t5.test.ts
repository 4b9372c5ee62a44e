// `pretrain finetune --task text2text` from a tiny T5 checkpoint through the built CLI: JSONL input/target pairs,
// then `predict` generates the output text (plain and --json); `--data brown-genre` as text2text reports accuracy
// and macro-F1 over the genre words; `--task classify` on a T5 runs text2text with a note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { initParameters } from '../../src/nn/index.js';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import { brownSlice, tempDir } from '../tokenizers/helpers.js';
import { cli } from '../helpers/cli.js';


const dir = tempDir('pretrain-cli-t5-');
const SOURCE = ['red', 'blue', 'green', 'black', 'white', 'pink'];
const TARGET = ['apple', 'berry', 'lime', 'coal', 'snow', 'rose'];
const FILLER = ['the', 'a', 'cat', 'dog', 'sat', 'ran'];
const pairs = Array.from({ length: 216 }, (_, i) => {
  const c = i % 6;
  return { input: `map: ${FILLER[Math.floor(i / 6) % 6]} ${SOURCE[c]} ${FILLER[Math.floor(i / 36)]}`, target: `${TARGET[c]} ${SOURCE[c]}` };
});
const data = path.join(dir, 'map.jsonl');
writeFileSync(data, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
const tokDir = path.join(dir, 'tok');
const texts = [...brownSlice(20), ...pairs.map((p) => `${p.input} ${p.target}`), 'genre: press reviews learned fiction lore humor'];
const tokenizer = saveTokenizer(tokDir, trainTokenizer('unigram', texts, { vocabSize: 600 }));

async function t5Checkpoint(): Promise<string> {
  const t5 = getModel('t5');
  const hf = t5.newConfig({ layers: 1, hidden: 64, heads: 2, positions: 64, dropout: 0 }, tokenizer);
  const specs = t5.build(hf).parameters();
  const init = initParameters(specs, 1);
  const pre = path.join(dir, 't5');
  await saveCheckpoint(pre, { config: hf, architectures: [t5.architecture(['seq2seq'])], weights: new Map(specs.map((s) => [s.name, { shape: s.shape, data: init.get(s.name)! }])), tokenizer: { dir: tokDir } });
  return pre;
}

test('finetune --task text2text on JSONL pairs, then predict generates the target (plain and --json)', async () => {
  const pre = await t5Checkpoint();
  const out = path.join(dir, 'map');
  const ft = cli('finetune', '--from', pre, '--task', 'text2text', '--data', data, '--out', out, '--max-len', '16', '--batch-size', '16',
    '--epochs', '12', '--lr', '3e-3', '--dropout', '0', '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; exactMatch: number; macroF1: number | null; evalExamples: number; architecture: string };
  assert.equal(r.task, 'text2text');
  assert.equal(r.architecture, 'T5ForConditionalGeneration');
  assert.equal(r.evalExamples, 21);
  assert.equal(r.macroF1, null);
  assert.ok(r.exactMatch >= 0.8, `exact match ${r.exactMatch}`);
  const p = cli('predict', '--model', out, 'map: dog green cat');
  assert.equal(p.code, 0, p.err);
  assert.equal(p.out.trim(), 'lime green');
  const j = cli('predict', '--model', out, '--json', 'map: sat pink a');
  assert.equal(j.code, 0, j.err);
  const pj = JSON.parse(j.out) as { input: string; output: string };
  assert.deepEqual([pj.input, pj.output], ['map: sat pink a', 'rose pink']);
  // A whole file: {"input"} lines, scored by exact match where they carry a "target".
  const input = path.join(dir, 'in.jsonl');
  writeFileSync(input, `${JSON.stringify({ input: 'map: dog green cat', target: 'lime green' })}\n${JSON.stringify({ input: 'map: sat pink a', target: 'wrong' })}\n`);
  const pf = cli('predict', '--model', out, '--input', input);
  assert.equal(pf.code, 0, pf.err);
  assert.deepEqual(pf.out.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ input: 'map: dog green cat', output: 'lime green' }, { input: 'map: sat pink a', output: 'rose pink' }]);
  assert.match(pf.err, /2 lines predicted; exact match 50\.0% over 2 gold answers/);
});

test('finetune --task classify --data brown-genre on a T5 runs text2text over genre words: accuracy and macro-F1', async () => {
  const pre = await t5Checkpoint();
  const out = path.join(dir, 'genre');
  const ft = cli('finetune', '--from', pre, '--task', 'classify', '--data', 'brown-genre', '--per-label', '4', '--out', out, '--max-len', '32',
    '--max-target-len', '6', '--batch-size', '16', '--epochs', '2', '--lr', '3e-3', '--json');
  assert.equal(ft.code, 0, ft.err);
  assert.match(ft.err, /classifies as text-to-text .*running --task text2text/);
  const r = JSON.parse(ft.out) as { task: string; accuracy: number; macroF1: number; validLabels: number; labels: string[]; trainExamples: number; evalExamples: number; samples: { input: string; target: string }[] };
  assert.equal(r.task, 'text2text');
  assert.equal(r.labels.length, 15);
  assert.equal(r.trainExamples, 60);
  assert.ok(r.evalExamples > 100);
  assert.match(r.samples[0]!.input, /^genre: /);
  assert.ok(r.labels.includes(r.samples[0]!.target));
  for (const k of ['accuracy', 'macroF1', 'validLabels'] as const) assert.ok(r[k] >= 0 && r[k] <= 1, `${k} ${r[k]}`);
});

test('finetune --task tag on a T5 trains its encoder as a T5ForTokenClassification; predict tags a file', async () => {
  const pre = await t5Checkpoint();
  const out = path.join(dir, 'pos');
  const ft = cli('finetune', '--from', pre, '--task', 'tag', '--data', 'brown-pos', '--limit', '40', '--max-steps', '4', '--max-len', '32', '--out', out, '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; architecture: string; accuracy: number };
  assert.deepEqual([r.task, r.architecture], ['tag', 'T5ForTokenClassification']);
  assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
  const input = path.join(dir, 'pos.jsonl');
  writeFileSync(input, `${JSON.stringify({ tokens: ['The', 'jury', 'said', 'it', '.'] })}\n`);
  const p = cli('predict', '--model', out, '--input', input);
  assert.equal(p.code, 0, p.err);
  const line = JSON.parse(p.out.trim()) as { tokens: string[]; tags: string[] };
  assert.equal(line.tags.length, 5);
});

test('finetune --task qa on a T5 trains a T5ForQuestionAnswering (span head on the decoder); predict answers with a span of the context', async () => {
  const pre = await t5Checkpoint();
  const out = path.join(dir, 'qa');
  const ft = cli('finetune', '--from', pre, '--task', 'qa', '--data', 'brown-qa', '--limit', '40', '--max-steps', '4', '--max-len', '128', '--doc-stride', '16', '--out', out, '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; architecture: string; f1: number; exactMatch: number };
  assert.deepEqual([r.task, r.architecture], ['qa', 'T5ForQuestionAnswering']);
  assert.ok(r.f1 >= r.exactMatch && r.f1 <= 1);
  const context = 'The jury praised the city. The mayor said the election was fair.';
  const p = cli('predict', '--model', out, '--question', 'Who said the election was fair?', '--context', context, '--json');
  assert.equal(p.code, 0, p.err);
  const a = JSON.parse(p.out) as { answer: string; start: number; end: number };
  assert.equal(context.slice(a.start, a.end), a.answer);
});

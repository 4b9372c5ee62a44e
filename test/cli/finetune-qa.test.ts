// `pretrain finetune --task qa` from a BERT checkpoint on SQuAD files written by `pretrain data squad` (brown-qa),
// then `pretrain predict --question --context` on the result, through the built CLI; errors name the flags.
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

const dir = tempDir('pretrain-cli-qa-');

test('finetune --task qa on brown-qa SQuAD files, then predict answers with a span of the context', async () => {
  const train = path.join(dir, 'train.json');
  const dev = path.join(dir, 'dev.json');
  assert.equal(cli('data', 'squad', train, '--split', 'train', '--n', '40').code, 0);
  assert.equal(cli('data', 'squad', dev, '--split', 'validation', '--n', '10').code, 0);
  const tokDir = path.join(dir, 'tok');
  const tokenizer = saveTokenizer(tokDir, trainTokenizer('wordpiece', brownSlice(30), { vocabSize: 1000 }));
  const bert = getModel('bert');
  const hf = bert.newConfig({ layers: 1, hidden: 32, heads: 2, positions: 96, dropout: 0 }, tokenizer);
  const specs = bert.build(hf).parameters();
  const init = initParameters(specs, 1);
  const pre = path.join(dir, 'bert');
  await saveCheckpoint(pre, { config: hf, architectures: ['BertForMaskedLM'], weights: new Map(specs.map((s) => [s.name, { shape: s.shape, data: init.get(s.name)! }])), tokenizer: { dir: tokDir } });

  const out = path.join(dir, 'qa');
  const ft = cli('finetune', '--from', pre, '--task', 'qa', '--data', train, '--eval', dev, '--out', out, '--max-len', '94', '--doc-stride', '16',
    '--max-answer-length', '8', '--n-best-size', '5', '--batch-size', '16', '--epochs', '1', '--lr', '1e-3', '--dropout', '0', '--json');
  assert.equal(ft.code, 0, ft.err);
  const r = JSON.parse(ft.out) as { task: string; architecture: string; exactMatch: number; f1: number; accuracy: number; macroF1: null; trainExamples: number; evalExamples: number; trainFeatures: number; steps: number };
  assert.equal(r.task, 'qa');
  assert.equal(r.architecture, 'BertForQuestionAnswering');
  assert.equal(r.trainExamples, 40);
  assert.equal(r.evalExamples, 10);
  // Brown contexts of three sentences are longer than 94 tokens: split into windows, every window a training row.
  assert.ok(r.trainFeatures > 40, `${r.trainFeatures} windows`);
  assert.equal(r.steps, Math.ceil(r.trainFeatures / 16));
  assert.ok(r.f1 >= r.exactMatch && r.f1 <= 1 && r.accuracy === r.exactMatch && r.macroF1 === null);

  const context = 'The jury praised the city. The mayor said the election was fair.';
  const p = cli('predict', '--model', out, '--question', 'Who said the election was fair?', '--context', context, '--json');
  assert.equal(p.code, 0, p.err);
  const a = JSON.parse(p.out) as { answer: string; score: number; probability: number; start: number; end: number; nBest: { text: string }[] };
  assert.equal(context.slice(a.start, a.end), a.answer);
  assert.ok(a.answer.length > 0 && Number.isFinite(a.score) && a.probability > 0 && a.probability <= 1);
  assert.ok(a.nBest.length > 1 && a.nBest.length <= 20);
  const file = path.join(dir, 'context.txt');
  writeFileSync(file, context);
  const plain = cli('predict', '--model', out, '--question', 'Who said the election was fair?', '--context-file', file);
  assert.equal(plain.code, 0, plain.err);
  assert.equal(plain.out.split('\n')[0], a.answer);
  assert.match(plain.out, /score -?\d+\.\d{3} \(start \+ end logit\), probability \d+\.\d% among the \d+ best spans/);

  // predict --input: one JSON line per question, scored by SQuAD F1 where "answers" are given.
  const lines = path.join(dir, 'questions.jsonl');
  writeFileSync(lines, [
    JSON.stringify({ question: 'Who said the election was fair?', context, answers: ['The mayor'] }),
    JSON.stringify({ question: 'What did the jury praise?', context, answers: [{ text: 'the city' }] }),
  ].join('\n'));
  const batch = cli('predict', '--model', out, '--input', lines);
  assert.equal(batch.code, 0, batch.err);
  const rows = batch.out.trim().split('\n').map((l) => JSON.parse(l) as { question: string; answer: string; start: number; end: number });
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.answer, a.answer);
  for (const row of rows) assert.equal(context.slice(row.start, row.end), row.answer);
  assert.match(batch.err, /2 lines predicted; f1 \d+\.\d% over 2 gold answers/);

  // Errors name what is missing or wrong.
  assert.match(cli('predict', '--model', out, '--context', context).err, /give --question/);
  assert.match(cli('predict', '--model', out, '--question', 'Who?').err, /give the text holding the answer with --context/);
  assert.match(cli('predict', '--model', out, 'some', 'text').err, /takes --question and --context/);
  assert.match(cli('finetune', '--from', pre, '--task', 'qa', '--data', train, '--per-label', '2', '--out', path.join(dir, 'x')).err, /--per-label applies to --task classify; use --limit for --task qa/);
  assert.match(cli('finetune', '--from', pre, '--task', 'classify', '--data', 'brown-qa', '--out', path.join(dir, 'x')).err, /--data brown-qa is for --task qa/);
  assert.match(cli('finetune', '--from', pre, '--task', 'qa', '--data', train, '--eval', dev, '--max-len', '94', '--doc-stride', '93', '--out', path.join(dir, 'x')).err, /--doc-stride 93 must be smaller than the \d+ context tokens a window holds/);
  const badSquad = path.join(dir, 'bad.json');
  writeFileSync(badSquad, JSON.stringify({ data: [{ paragraphs: [{ context: 'abc', qas: [{ id: 'x', question: 'q?', answers: [{ text: 'b', answer_start: 0 }] }] }] }] }));
  assert.match(cli('finetune', '--from', pre, '--task', 'qa', '--data', badSquad, '--out', path.join(dir, 'x')).err, /bad\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]\.answer_start: the context at 0 reads "a", not the answer "b"/);
  // A classifier does not take QA flags.
  const tagged = path.join(dir, 'tagged.jsonl');
  writeFileSync(tagged, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `the cat ${i} ${i % 2 ? 'sat' : 'ran'}`, label: i % 2 ? 'a' : 'b' })).join('\n'));
  const clf = path.join(dir, 'clf');
  assert.equal(cli('finetune', '--from', pre, '--task', 'classify', '--data', tagged, '--out', clf, '--max-len', '16', '--epochs', '1').code, 0);
  assert.match(cli('predict', '--model', clf, '--question', 'Who?', 'the cat').err, /--question applies to a question-answering model/);
});

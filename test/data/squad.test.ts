// SQuAD v1.1 JSON as run_qa.py / datasets' squad loader read it, its errors (file and JSON path), and the bundled
// brown-qa cloze questions: deterministic, answers where answer_start says, training and held-out documents apart,
// written by `pretrain data squad` as a file the reader reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brownQa, parseSquad, readSquad, squadJson } from '../../src/data/squad.js';
import { brownDocuments } from '../../src/data/brown.js';
import { tempDir } from '../tokenizers/helpers.js';
import { cli } from '../helpers/cli.js';

const dir = tempDir('pretrain-squad-');
const context = 'Architecturally, the school has a Catholic character. Atop the Main Building is a golden statue of the Virgin Mary.';
const sample = {
  version: '1.1',
  data: [
    {
      title: 'University_of_Notre_Dame',
      paragraphs: [
        {
          context,
          qas: [
            { id: 'q1', question: '  What sits on top of the Main Building?', answers: [{ text: 'a golden statue of the Virgin Mary', answer_start: 80 }, { text: 'golden statue', answer_start: 82 }] },
            { id: 'q2', question: 'What character does the school have?', answers: [{ text: 'Catholic', answer_start: 34 }] },
          ],
        },
      ],
    },
    { paragraphs: [{ context: 'Zürich 😀 is in Switzerland.', qas: [{ id: 3, question: 'Where is Zürich?', answers: [{ text: 'Switzerland', answer_start: 16 }] }] }] },
  ],
};

test('reads SQuAD v1.1 as the datasets loader does: one example per question, every gold answer', async () => {
  const file = path.join(dir, 'sample.json');
  writeFileSync(file, JSON.stringify(sample));
  const xs = await readSquad(file);
  assert.equal(xs.length, 3);
  assert.deepEqual(xs[0], {
    id: 'q1', title: 'University_of_Notre_Dame', context, question: '  What sits on top of the Main Building?',
    answers: [{ text: 'a golden statue of the Virgin Mary', answerStart: 80 }, { text: 'golden statue', answerStart: 82 }],
  });
  // A missing title is "", a numeric id a string; answer_start counts UTF-16 units (the emoji is two).
  assert.equal(xs[2]!.title, '');
  assert.equal(xs[2]!.id, '3');
  assert.equal(xs[2]!.context.slice(16, 27), 'Switzerland');
  // squadJson writes what parseSquad reads back.
  assert.deepEqual(parseSquad(JSON.parse(JSON.stringify(squadJson(xs))), 'round trip'), xs);
});

test('errors name the file and the JSON path of the bad field', async () => {
  const bad = (mutate: (j: typeof sample) => void): string => {
    const j = structuredClone(sample);
    mutate(j);
    try {
      parseSquad(j, 'dev.json');
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  type Qa = (typeof sample.data)[0]['paragraphs'][0]['qas'][0];
  const qa = (j: typeof sample, k: number): Qa => j.data[0]!.paragraphs[0]!.qas[k]!;
  assert.match(bad((j) => (qa(j, 1).answers[0]!.answer_start = 35)), /^dev\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]\.answers\[0\]\.answer_start: the context at 35 reads "atholic ", not the answer "Catholic"/);
  assert.match(bad((j) => ((qa(j, 0).answers[1] as Record<string, unknown>)['answer_start'] = '82')), /^dev\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[1\]\.answer_start: expected a non-negative integer, got "82"/);
  assert.match(bad((j) => delete (qa(j, 1) as Partial<Qa>).question), /^dev\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]\.question: missing/);
  assert.match(bad((j) => (qa(j, 1).answers = [])), /qas\[1\]\.answers: no answer/);
  assert.match(bad((j) => (qa(j, 1).id = 'q1')), /qas\[1\]\.id: "q1" is also the id of data\[0\]\.paragraphs\[0\]\.qas\[0\]/);
  assert.match(bad((j) => ((j.data[1] as Record<string, unknown>)['paragraphs'] = {})), /^dev\.json: data\[1\]\.paragraphs: expected an array/);
  assert.match(bad((j) => ((qa(j, 0) as Record<string, unknown>)['is_impossible'] = true)), /is_impossible: unanswerable questions are SQuAD v2\.0/);
  assert.match(bad((j) => (j.data = [])), /^dev\.json: no questions/);
  const notJson = path.join(dir, 'broken.json');
  writeFileSync(notJson, '{"data": [');
  await assert.rejects(readSquad(notJson), new RegExp(`^DataError: ${notJson.replace(/[.]/g, '\\.')}: not JSON`));
  await assert.rejects(readSquad(path.join(dir, 'absent.json')), /absent\.json: cannot read/);
});

test('brown-qa: seeded cloze questions whose answer is at answer_start, from the split\'s documents only', () => {
  const a = brownQa('validation', { n: 200, seed: 3 });
  assert.deepEqual(brownQa('validation', { n: 200, seed: 3 }), a);
  assert.notDeepEqual(brownQa('validation', { n: 200, seed: 4 }).map((x) => x.id), a.map((x) => x.id));
  assert.equal(a.length, 200);
  const validation = new Set(brownDocuments('validation').map((d) => d.id));
  const train = new Set(brownDocuments('train').map((d) => d.id));
  for (const x of a) {
    assert.ok(validation.has(x.title), x.id);
    const [ans] = x.answers;
    assert.equal(x.context.slice(ans!.answerStart, ans!.answerStart + ans!.text.length), ans!.text);
    assert.ok(/^(What|How many)\b|\b(what|how many)\b/.test(x.question) && x.question.endsWith('?'), x.question);
    // The question is its sentence without the answer: the words around the blank are in the context.
    const [before] = x.question.split(/\b(?:what|how many)\b|^(?:What|How many)\b/);
    assert.ok(x.context.includes(before!.trim()), `${x.question} | ${x.context}`);
  }
  assert.ok(brownQa('train', { n: 50 }).every((x) => train.has(x.title)));
});

test('pretrain data squad writes brown-qa as SQuAD v1.1 JSON that the reader takes', async () => {
  const out = path.join(dir, 'brown-qa.json');
  const r = cli('data', 'squad', out, '--split', 'validation', '--n', '30', '--seed', '2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /30 questions on \d+ contexts from Brown's validation documents/);
  const xs = await readSquad(out);
  assert.deepEqual(xs, brownQa('validation', { n: 30, seed: 2 }));
  assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { version: string }).version, '1.1');
  const bad = cli('data', 'squad', out, '--split', 'dev');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--split dev: expected train, validation or test/);
});

// Text-to-text fine-tuning of a tiny T5 (a Unigram tokenizer with T5's 100 sentinels, trained here) through the
// shared Trainer: a synthetic word-mapping task reaches a high exact match of greedy generations; classification
// framed as text (the label word as target) yields generations that are labels and reports accuracy and macro-F1;
// word targets (tags) are scored by word accuracy; written answers (T5's SQuAD) by SQuAD F1 and exact match;
// the checkpoint reloads through loadFinetuned and generates the same text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { taskHead } from '../../src/models/tasks.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { saveTokenizer, trainTokenizer, type Tokenizer } from '../../src/tokenizers/index.js';
import {
  classificationAsText2Text, finetuneText2Text, loadFinetuned, type FinetuneCommonOptions, type Text2TextExample,
} from '../../src/train/finetune.js';
import { squadScores } from '../../src/train/metrics.js';
import { tempDir } from '../tokenizers/helpers.js';

const SOURCE = ['red', 'blue', 'green', 'black', 'white', 'pink'];
const TARGET = ['apple', 'berry', 'lime', 'coal', 'snow', 'rose'];
const FILLER = ['the', 'a', 'cat', 'dog', 'sat', 'ran'];

/**
 * A copy/map task: "map: cat red sat" -> "apple red" (the colour's fruit, then the colour copied), the colour
 * anywhere among filler words; 288 inputs in a fixed shuffled order, so held-out inputs are unseen contexts.
 */
export function mappingExamples(): Text2TextExample[] {
  const out: Text2TextExample[] = [];
  for (let i = 0; i < 288; i++) {
    const c = i % 6;
    const f = [FILLER[Math.floor(i / 6) % 6]!, FILLER[Math.floor(i / 36) % 6]!];
    const words = Math.floor(i / 216) === 0 ? [f[0], SOURCE[c], f[1]] : [SOURCE[c], f[0], f[1]];
    out.push({ input: `map: ${words.join(' ')}`, target: `${TARGET[c]} ${SOURCE[c]}` });
  }
  let s = 7;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 16807) % 2147483647;
    const k = s % (i + 1);
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
}

/** A few hundred sentences over the task's words, for the tokenizer. */
export function tokenizerSentences(): string[] {
  const words = [...SOURCE, ...TARGET, 'map', 'genre', 'the', 'a', 'cat', 'dog', 'sat', 'ran', 'news', 'story', 'science'];
  let s = 3;
  const rand = (n: number) => (s = (s * 16807) % 2147483647) % n;
  return Array.from({ length: 400 }, () => Array.from({ length: 6 }, () => words[rand(words.length)]).join(' ') + '.');
}

export function tinyT5(dir: string): { tokenizer: Tokenizer; hf: ReturnType<ReturnType<typeof getModel>['newConfig']> } {
  const tokenizer = saveTokenizer(path.join(dir, 'tok'), trainTokenizer('unigram', tokenizerSentences(), { vocabSize: 200 }));
  const hf = getModel('t5').newConfig({ layers: 2, hidden: 64, heads: 2, positions: 64, dropout: 0 }, tokenizer);
  return { tokenizer, hf };
}

function common(dir: string, t: ReturnType<typeof tinyT5>, out: string): FinetuneCommonOptions {
  return {
    backend: nodeBackend, base: { hf: t.hf, tokenizer: t.tokenizer, tokenizerDir: path.join(dir, 'tok') }, scratch: true, out: path.join(dir, out),
    maxLen: 16, batchSize: 16, epochs: 10, lr: 3e-3, warmupRatio: 0.05, weightDecay: 0, gradClip: 1, dropout: 0, seed: 1, progress: false,
  };
}

test('t5 registers a text2text head, a tag head (its encoder) and a qa head, no classify head; the tokenizer has 100 sentinels', () => {
  const dir = tempDir('t5-t2t-');
  const t = tinyT5(dir);
  assert.equal(t.tokenizer.sentinelIds.length, 100);
  assert.equal(taskHead('t5', 'text2text').framing, 'seq2seq');
  assert.equal(taskHead('t5', 'tag').architecture, 'T5ForTokenClassification');
  assert.equal(taskHead('t5', 'qa').architecture, 'T5ForQuestionAnswering');
  assert.throws(() => taskHead('t5', 'classify'), /supports only --task text2text, tag, qa/);
});

test('text2text fine-tuning of a tiny T5 learns a word mapping (exact match of greedy generations); predict reloads it', async () => {
  const dir = tempDir('t5-t2t-');
  const t = tinyT5(dir);
  const all = mappingExamples();
  const r = await finetuneText2Text({ ...common(dir, t, 'map'), data: { train: all.slice(0, 240), eval: all.slice(240) }, maxTargetLen: 16 });
  console.log(`mapping: exact match ${r.exactMatch} over ${r.evalExamples} held-out pairs after ${r.steps} steps; loss ${r.losses[0]?.toFixed(3)} -> ${r.losses.at(-1)?.toFixed(3)}`, r.samples);
  assert.equal(r.architecture, 'T5ForConditionalGeneration');
  assert.ok(r.exactMatch! >= 0.8, `exact match ${r.exactMatch}`);
  assert.ok(Number.isNaN(r.macroF1), 'no labels: no macro-F1');
  assert.equal(r.primaryMetric, 'exact_match');
  assert.deepEqual(Object.keys(r.curve.at(-1)!.metrics).sort(), ['exact_match', 'loss']);
  const m = await loadFinetuned(nodeBackend, r.dir);
  assert.equal(m.task, 'text2text');
  assert.equal(await m.generate(all[240]!.input), r.samples![0]!.output);
  await assert.rejects(m.classify('x'), /generates text/);
});

test('word targets (a tagger writing its tags) are scored by word accuracy, the primary metric', async () => {
  const dir = tempDir('t5-t2t-');
  const t = tinyT5(dir);
  const all = mappingExamples();
  const r = await finetuneText2Text({ ...common(dir, t, 'words'), epochs: 2, data: { train: all.slice(0, 240), eval: all.slice(240), wordTargets: true }, maxTargetLen: 16 });
  assert.equal(r.primaryMetric, 'word_accuracy');
  assert.deepEqual(Object.keys(r.curve.at(-1)!.metrics).sort(), ['exact_match', 'loss', 'word_accuracy']);
  assert.equal(r.accuracy, r.curve.at(-1)!.metrics.word_accuracy);
  // Every exactly matched pair has all its words right, so word accuracy is at least the exact match.
  assert.ok(r.accuracy >= r.exactMatch! && r.accuracy <= 1, `word accuracy ${r.accuracy}, exact match ${r.exactMatch}`);
});

test('classification as text2text: generations are label words; accuracy and macro-F1 are reported', async () => {
  const dir = tempDir('t5-t2t-');
  const t = tinyT5(dir);
  // Separable: the label is the animal the text mentions.
  const labels = ['cat', 'dog'];
  // 36 distinct texts (held-out inputs must not occur in training).
  const texts = Array.from({ length: 36 }, (_, i) => ({ text: `the ${labels[i % 2]} ${SOURCE[i % 6]} ${SOURCE[Math.floor(i / 6) % 6]} sat`, label: labels[i % 2]! }));
  const d = classificationAsText2Text({ labels, train: texts.slice(0, 28), eval: texts.slice(28) }, 'genre');
  assert.equal(d.train[0]!.input, 'genre: the cat red red sat');
  assert.equal(d.train[0]!.target, 'cat');
  const r = await finetuneText2Text({ ...common(dir, t, 'cls'), epochs: 10, evalEvery: 5, data: d, maxTargetLen: 8 });
  // Evaluation on a schedule generates too: every 5 steps and at the end, the last one the reported scores.
  assert.deepEqual(r.curve.map((c) => c.step), [5, 10, 15, 18]);
  for (const c of r.curve) for (const k of ['exact_match', 'accuracy', 'macro_f1', 'valid_labels', 'loss']) assert.equal(typeof c.metrics[k], 'number', `${k} at ${c.step}`);
  assert.equal(r.primaryMetric, 'accuracy');
  assert.equal(r.curve.at(-1)!.metrics.accuracy, r.accuracy);
  assert.equal(r.curve.at(-1)!.metrics.exact_match, r.exactMatch);
  console.log(`classification: accuracy ${r.accuracy}, macro-F1 ${r.macroF1}, valid labels ${r.validLabels}`, r.samples);
  assert.equal(r.validLabels, 1, 'every generation is a label');
  assert.ok(r.accuracy > 0.5 && r.macroF1 > 0.5, `accuracy ${r.accuracy}, macro-F1 ${r.macroF1}`);
});

test('answers written as text (T5 SQuAD) are scored as SQuAD scores them: F1 the primary metric, best over the golds', async () => {
  const dir = tempDir('t5-t2t-');
  const t = tinyT5(dir);
  const all = mappingExamples();
  // Five held-out examples, so the samples hold every generation; each has a second gold answer, "the <first word>".
  const ev = all.slice(240, 245);
  const answers = ev.map((x) => [x.target, `the ${x.target.split(' ')[0]}`]);
  const r = await finetuneText2Text({ ...common(dir, t, 'qa'), epochs: 2, data: { train: all.slice(0, 240), eval: ev, answers }, maxTargetLen: 16 });
  assert.equal(r.primaryMetric, 'f1');
  assert.deepEqual(Object.keys(r.curve.at(-1)!.metrics).sort(), ['exact_match', 'f1', 'loss']);
  const expected = squadScores(r.samples!.map((x) => x.output), answers);
  assert.equal(r.samples!.length, 5);
  assert.equal(r.f1, expected.f1);
  assert.equal(r.exactMatch, expected.exactMatch);
  assert.equal(r.curve.at(-1)!.metrics.f1, r.f1);
  // Gold answers that do not line up with the held-out examples fail before any training.
  await assert.rejects(finetuneText2Text({ ...common(dir, t, 'qa-bad'), data: { train: all.slice(0, 240), eval: ev, answers: answers.slice(1) }, maxTargetLen: 16 }),
    /text2text answers: expected at least one gold answer for each of the 5 held-out examples, got 4 lists/);
});

// Extractive QA fine-tuning through the library: a tiny BERT learns a few crafted questions (the loss falls, exact
// match on them rises well above the untrained model's), saves a BertForQuestionAnswering checkpoint that loadFinetuned answers
// with, a tiny RoBERTa trains through its own registry head, and a tiny T5 through its span head on the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import '../../src/models/index.js';
import { getModel } from '../../src/models/registry.js';
import { taskHead } from '../../src/models/tasks.js';
import { initParameters } from '../../src/nn/index.js';
import { nodeBackend } from '../../src/runtime/node.js';
import { storeFromWeights } from '../../src/runtime/store.js';
import { saveTokenizer, trainTokenizer } from '../../src/tokenizers/index.js';
import { loadFinetuned } from '../../src/train/finetune.js';
import { finetuneQa, type QaData, type QaFinetuneResult } from '../../src/train/qa.js';
import type { SquadExample } from '../../src/data/squad.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { colourQuestions } from '../helpers/qa.js';
import { squadScores } from '../../src/train/metrics.js';
import { tempDir } from '../tokenizers/helpers.js';

const dir = tempDir('pretrain-ft-qa-');
const corpus = colourQuestions(200, 5, 'c').flatMap((x) => [x.context, x.question]);
const common = {
  backend: nodeBackend, scratch: true, batchSize: 16, warmupRatio: 0.1, weightDecay: 0, gradClip: 1, dropout: 0, seed: 1, progress: false,
};

/** A tiny 2-layer model with its own tokenizer trained on crafted questions; 24 questions to learn, 8 held out. */
function crafted(name: string, kind: 'wordpiece' | 'bpe' | 'unigram', modelType: string, vocabSize: number, positions: number) {
  const tokDir = path.join(dir, name);
  const tokenizer = saveTokenizer(tokDir, trainTokenizer(kind, corpus, { vocabSize }));
  const hf = getModel(modelType).newConfig({ layers: 2, hidden: 32, heads: 2, positions, dropout: 0 }, tokenizer);
  const train = colourQuestions(24, 7, 't');
  const data: QaData = { train, eval: colourQuestions(8, 11, 'e') };
  return { hf, train, data, base: { hf, tokenizer, tokenizerDir: tokDir } };
}

/** A run on `train` halved its loss, and its saved checkpoint answers those questions with spans of their contexts, most exactly. */
async function assertLearnt(r: QaFinetuneResult, train: SquadExample[], name: string): Promise<void> {
  const first = r.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = r.losses.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  const m = await loadFinetuned(nodeBackend, r.dir);
  const answers = await Promise.all(train.map(async (x) => (await m.answer(x.question, x.context))[0]!));
  train.forEach((x, i) => assert.equal(x.context.slice(answers[i]!.start, answers[i]!.end), answers[i]!.text));
  const em = squadScores(answers.map((a) => a.text), train.map((x) => x.answers.map((a) => a.text))).exactMatch;
  console.log(`# ${name} qa: training-question EM ${em.toFixed(3)}, held-out F1 ${r.f1.toFixed(3)}, loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(em > 0.5, `EM on the training questions ${em}`);
}

test('a tiny BERT learns crafted questions: the loss falls, exact match on them rises, f1 is evaluated on the schedule', async () => {
  // A few crafted questions to learn, and held-out ones of the same kind for the scheduled evaluation.
  const { train, data, base } = crafted('tok', 'wordpiece', 'bert', 120, 34);
  const untrained = await finetuneQa({ ...common, base, data, out: path.join(dir, 'qa0'), maxLen: 32, maxSteps: 1, lr: 1e-9 });
  const r = await finetuneQa({ ...common, base, data, out: path.join(dir, 'qa'), maxLen: 32, batchSize: 8, epochs: 40, lr: 5e-3, evalEvery: 40 });
  assert.equal(r.architecture, 'BertForQuestionAnswering');
  assert.equal(r.trainFeatures, 24);
  assert.equal(r.primaryMetric, 'f1');
  // Evaluations on the schedule (steps 40, 80, 120) carry the task's metrics and the held-out loss.
  assert.deepEqual(r.curve.map((c) => c.step), [40, 80, 120]);
  for (const c of r.curve) assert.ok(['exact_match', 'f1', 'loss'].every((k) => Number.isFinite(c.metrics[k])), JSON.stringify(c));
  assert.equal(r.curve.at(-1)!.metrics['f1'], r.f1);
  assert.ok(r.f1 >= r.exactMatch && r.accuracy === r.exactMatch && Number.isNaN(r.macroF1));
  const first = r.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = r.losses.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  const cfg = JSON.parse(readFileSync(path.join(r.dir, 'config.json'), 'utf8')) as { architectures: string[]; id2label?: unknown };
  assert.deepEqual(cfg.architectures, ['BertForQuestionAnswering']);
  assert.equal(cfg.id2label, undefined);

  // Exact match on the training questions, answered by the saved checkpoints: it rises from the untrained model's.
  const em = async (d: string) => {
    const m = await loadFinetuned(nodeBackend, d);
    const answers = await Promise.all(train.map(async (x) => (await m.answer(x.question, x.context))[0]!.text));
    return squadScores(answers, train.map((x) => x.answers.map((a) => a.text))).exactMatch;
  };
  const before = await em(untrained.dir);
  const after = await em(r.dir);
  console.log(`# qa: training-question EM ${before.toFixed(3)} -> ${after.toFixed(3)}; held-out EM ${r.exactMatch.toFixed(3)} F1 ${r.f1.toFixed(3)}; loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${r.steps} steps`);
  assert.ok(after > 0.8 && after > before + 0.4, `EM on the training questions ${before} -> ${after}`);

  const m = await loadFinetuned(nodeBackend, r.dir);
  assert.equal(m.task, 'qa');
  // The saved checkpoint answers as the evaluation did, with a span of the context.
  for (const [i, x] of r.samples!.entries()) {
    const [best] = await m.answer(x.input, data.eval[i]!.context);
    assert.equal(best!.text, x.output);
    assert.equal(data.eval[i]!.context.slice(best!.start, best!.end), best!.text);
  }
  await assert.rejects(m.classify('x'), /it answers questions about a context, it does not classify/);
});

test('the QA heads of each family: BERT with token types, RoBERTa without, decoders with the EOS framing, T5 with its pair template', () => {
  assert.equal(taskHead('roberta', 'qa').architecture, 'RobertaForQuestionAnswering');
  assert.equal(taskHead('roberta', 'qa').tokenTypes, false);
  assert.equal(taskHead('bert', 'qa').tokenTypes, true);
  assert.equal(taskHead('gpt2', 'qa').architecture, 'GPT2ForQuestionAnswering');
  assert.equal(taskHead('llama', 'qa').architecture, 'LlamaForQuestionAnswering');
  assert.equal(taskHead('llama', 'qa').framing, 'eos');
  assert.equal(taskHead('t5', 'qa').architecture, 'T5ForQuestionAnswering');
  assert.equal(taskHead('t5', 'qa').framing, 'template');
});

test('a tiny GPT-2 learns crafted questions framed as question EOS context, with HF\'s parameter names', async () => {
  const { train, data, base } = crafted('gpt2-tok', 'bpe', 'gpt2', 300, 48);
  const r = await finetuneQa({ ...common, base, data, out: path.join(dir, 'gpt2'), maxLen: 48, docStride: 8, batchSize: 8, epochs: 40, lr: 5e-3 });
  assert.equal(r.architecture, 'GPT2ForQuestionAnswering');
  const names = [...(await loadCheckpoint(r.dir, { skipOptimizer: true })).weights.keys()];
  assert.ok(names.includes('qa_outputs.weight') && names.includes('qa_outputs.bias') && names.includes('transformer.h.0.attn.c_attn.weight'), names.join(' '));
  await assertLearnt(r, train, 'gpt2');
});

test('a tiny T5 learns crafted questions with its span head on the decoder (q </s> c </s>); a T5ForConditionalGeneration checkpoint starts it by name', async () => {
  const t5 = crafted('t5-tok', 'unigram', 't5', 150, 40);
  const { train, data } = t5;
  // A pretrained T5ForConditionalGeneration's weights: every one but the LM head's has the QA model's name.
  const specs = getModel('t5').build(t5.hf).parameters();
  const store = storeFromWeights(specs, new Map(), 'init', initParameters(specs, 5));
  const base = { ...t5.base, store };
  const r = await finetuneQa({ ...common, base, scratch: false, data, out: path.join(dir, 't5'), maxLen: 40, docStride: 8, batchSize: 8, epochs: 40, lr: 5e-3 });
  assert.equal(r.architecture, 'T5ForQuestionAnswering');
  await assertLearnt(r, train, 't5');
  const names = [...(await loadCheckpoint(r.dir, { skipOptimizer: true })).weights.keys()];
  assert.deepEqual(names.filter((n) => !specs.some((p) => p.name === n)).sort(), ['qa_outputs.bias', 'qa_outputs.weight']);
  const untouched = await finetuneQa({ ...common, base, scratch: false, data, out: path.join(dir, 't5-0'), maxLen: 40, docStride: 8, maxSteps: 1, lr: 1e-12 });
  const w = (await loadCheckpoint(untouched.dir, { skipOptimizer: true })).weights;
  const q = 'decoder.block.1.layer.1.EncDecAttention.q.weight';
  assert.ok(w.get(q)!.data.every((x, i) => Math.abs(x - store.get(q)[i]!) < 1e-6), `${q} starts from the pretrained weights`);
});

test('a tiny RoBERTa (byte-level BPE, <s> q </s></s> c </s>) trains and answers through its registry head', async () => {
  const bpeDir = path.join(dir, 'bpe');
  const tokenizer = saveTokenizer(bpeDir, trainTokenizer('bpe', corpus, { vocabSize: 300, style: 'roberta' }));
  const hf = getModel('roberta').newConfig({ layers: 1, hidden: 32, heads: 2, positions: 40, dropout: 0 }, tokenizer);
  const data: QaData = { train: colourQuestions(32, 3, 't'), eval: colourQuestions(8, 4, 'e').filter((x) => !colourQuestions(32, 3, 't').some((t) => t.context === x.context && t.question === x.question)) };
  const r = await finetuneQa({ ...common, base: { hf, tokenizer, tokenizerDir: bpeDir }, data, out: path.join(dir, 'rob'), maxLen: 40, docStride: 8, epochs: 1, lr: 1e-3 });
  assert.ok(r.trainFeatures > 32, `${r.trainFeatures} windows: long contexts are split`);
  assert.equal(r.architecture, 'RobertaForQuestionAnswering');
  assert.ok(Number.isFinite(r.losses.at(-1)!) && r.f1 >= 0 && r.f1 <= 1);
  const m = await loadFinetuned(nodeBackend, r.dir);
  const [best] = await m.answer('What colour is the cat?', 'The cat is red.');
  assert.equal('The cat is red.'.slice(best!.start, best!.end), best!.text);
});

test('a QA run stopped and resumed ends as the uninterrupted run does', async () => {
  const tokDir = path.join(dir, 'tok-resume');
  const tokenizer = saveTokenizer(tokDir, trainTokenizer('wordpiece', corpus, { vocabSize: 120 }));
  const hf = getModel('bert').newConfig({ layers: 1, hidden: 32, heads: 2, positions: 34, dropout: 0 }, tokenizer);
  const data: QaData = { train: colourQuestions(24, 7, 't'), eval: colourQuestions(8, 11, 'e') };
  const o = { ...common, base: { hf, tokenizer, tokenizerDir: tokDir }, data, maxLen: 32, batchSize: 8, maxSteps: 12, lr: 5e-3, evalEvery: 6 };
  const whole = await finetuneQa({ ...o, out: path.join(dir, 'whole') });
  const cut = await finetuneQa({ ...o, out: path.join(dir, 'cut'), stopAfter: 6 });
  assert.equal(cut.steps, 6);
  const resumed = await finetuneQa({ ...o, out: path.join(dir, 'cut'), resume: true });
  assert.equal(resumed.steps, 12);
  assert.deepEqual(resumed.losses.slice(-6), whole.losses.slice(-6));
  assert.equal(resumed.f1, whole.f1);
  assert.deepEqual(resumed.curve, whole.curve);
});

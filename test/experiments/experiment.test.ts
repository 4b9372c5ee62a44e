// `pretrain experiment` end to end at toy size: pretraining, the cell grid, results.json, report.md and a
// self-contained report.html; an interrupted experiment (in a pretraining, then between cells) continues without
// redoing finished cells and ends with the results of an uninterrupted run, also with two jobs at a time in child
// processes; a folder holding other settings is refused; a cell fine-tuned with an older head runs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PRESETS, finetuneLr, taskSupport, type ExperimentSettings, type TaskName } from '../../src/experiments/design.js';
import { finishedCells, runExperiment } from '../../src/experiments/experiment.js';
import type { Results } from '../../src/experiments/analysis.js';
import { nodeBackend } from '../../src/runtime/node.js';

const settings: ExperimentSettings = { ...structuredClone(PRESETS.toy), fractions: [0.01, 0.02] };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pretrain-experiment-'));
const quiet = () => {};

test('the experiment runs end to end, and an interrupted one continues to the same results', async () => {
  const whole = path.join(tmp, 'whole');
  const r = await runExperiment({ settings, out: whole, backend: nodeBackend, log: quiet });
  assert.ok(r.complete);
  // 2 families x 2 fractions x 2 seeds x (pretrained, scratch).
  assert.equal(r.ran, 16);
  const results = JSON.parse(readFileSync(path.join(whole, 'results.json'), 'utf8')) as Results;
  assert.equal(results.cells.length, 16);
  assert.equal(results.comparisons.length, 4);
  for (const c of results.comparisons) {
    assert.equal(c.pretrained.n, 2);
    // The paired difference is the mean of per-seed differences: the difference of the means.
    assert.ok(Math.abs(c.difference.mean - (c.pretrained.mean - c.scratch.mean)) < 1e-12);
    assert.ok(c.difference.low <= c.difference.mean && c.difference.mean <= c.difference.high);
  }
  for (const c of results.claims) if (c.verdict === 'holds') assert.ok(c.interval.low > 0, `${c.claim} holds with an interval including zero`);
  assert.ok(results.claims.some((c) => c.claim === 'largest gain with scarce labels'));
  assert.equal(results.domain.length, 2);
  for (const d of results.domain) assert.ok(d.pretrainPerplexity > 1 && d.taskPiecesPerWord > 0.5, JSON.stringify(d));
  const md = readFileSync(path.join(whole, 'report.md'), 'utf8');
  assert.match(md, /better generalisation/);
  assert.match(md, /\(figures\/fractions-brown-category\.svg\)/);
  const html = readFileSync(path.join(whole, 'report.html'), 'utf8');
  assert.match(html, /<svg[^>]*>/);
  assert.doesNotMatch(html, /src=|href=/, 'report.html loads nothing from outside');

  // Interrupted in the first pretraining (after its first step, which is saved), then after the third new cell.
  const part = path.join(tmp, 'part');
  const early = new AbortController();
  const zeroth = await runExperiment({ settings, out: part, backend: nodeBackend, signal: early.signal, log: (s) => { if (s.startsWith('pretraining bert-mlm')) early.abort(); } });
  assert.deepEqual([zeroth.complete, zeroth.ran], [false, 0]);
  assert.ok(existsSync(path.join(part, 'pretrain', 'bert-mlm', 'checkpoint-1')), 'the interrupted pretraining saved a checkpoint');
  const stop = new AbortController();
  let cells = 0;
  const first = await runExperiment({ settings, out: part, backend: nodeBackend, signal: stop.signal, log: (s) => { if (s.includes('__seed') && ++cells === 3) stop.abort(); } });
  assert.equal(first.complete, false);
  const kept = await finishedCells(part);
  assert.equal(kept.length, 3);
  const mtimes = kept.map((id) => statSync(path.join(part, 'cells', `${id}.json`)).mtimeMs);
  const second = await runExperiment({ settings, out: part, backend: nodeBackend, log: quiet });
  assert.ok(second.complete);
  assert.equal(second.ran, 13, 'finished cells are not fine-tuned again');
  assert.deepEqual(kept.map((id) => statSync(path.join(part, 'cells', `${id}.json`)).mtimeMs), mtimes);
  const resumed = JSON.parse(readFileSync(path.join(part, 'results.json'), 'utf8')) as Results;
  assert.deepEqual(resumed.cells, results.cells);
  assert.deepEqual(resumed.comparisons, results.comparisons);
  assert.deepEqual(resumed.claims, results.claims);

  // Two jobs at a time (child processes, one thread each), stopped after the first cell and run again: the same
  // results as one job at a time.
  const side = path.join(tmp, 'jobs');
  const halt = new AbortController();
  const stopped = await runExperiment({ settings, out: side, backend: nodeBackend, jobs: 2, signal: halt.signal, log: (s) => { if (s.includes('__seed')) halt.abort(); } });
  assert.equal(stopped.complete, false);
  const between = (await finishedCells(side)).length;
  assert.ok(between >= 1 && between < 16, `${between} cells finished before the stop`);
  const again = await runExperiment({ settings, out: side, backend: nodeBackend, jobs: 2, log: quiet });
  assert.ok(again.complete);
  assert.equal(again.ran, 16 - between);
  const parallel = JSON.parse(readFileSync(path.join(side, 'results.json'), 'utf8')) as Results;
  assert.deepEqual(parallel.cells, results.cells);
  assert.deepEqual(parallel.domain, results.domain);
  assert.deepEqual(parallel.claims, results.claims);

  // Jobs that cannot run: not a whole number, or side by side on a backend a child process cannot rebuild.
  await assert.rejects(runExperiment({ settings, out: side, backend: nodeBackend, jobs: 0, log: quiet }), /jobs must be an integer >= 1, got 0/);
  await assert.rejects(runExperiment({ settings, out: side, backend: { ...nodeBackend, name: 'another' }, jobs: 2, log: quiet }), /with another backend \(another\) use jobs 1/);

  // The same folder with other settings: refused, naming --out and --overwrite.
  await assert.rejects(runExperiment({ settings: { ...settings, seeds: [0] }, out: part, backend: nodeBackend, log: quiet }), /--out .*other settings.*--overwrite/);
});

test('brown-qa cells: every family fine-tunes a span head, scored by SQuAD F1, and tags with a head; a cell fine-tuned with an older head runs again', async () => {
  const qa: ExperimentSettings = { ...structuredClone(PRESETS.toy), families: ['bert', 'gpt2', 't5'], tasks: ['brown-qa', 'brown-pos'], fractions: [0.001], seeds: [0] };
  const out = path.join(tmp, 'qa');
  const r = await runExperiment({ settings: qa, out, backend: nodeBackend, log: quiet });
  assert.ok(r.complete);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  assert.equal(results.cells.length, 12);
  const names = new Map(results.comparisons.map((c) => [`${c.family} ${c.task}`, c.scoreName]));
  assert.deepEqual(['bert', 'gpt2', 't5'].map((f) => names.get(`${f} brown-qa`)), ['F1', 'F1', 'F1']);
  assert.deepEqual(['bert', 'gpt2', 't5'].map((f) => names.get(`${f} brown-pos`)), ['word accuracy', 'word accuracy', 'word accuracy']);
  for (const c of results.cells) {
    assert.ok(c.score >= 0 && c.score <= 1 && c.evalExamples > 0, JSON.stringify(c));
    if (c.task === 'brown-qa') {
      assert.equal(c.score, c.metrics['f1'], `${c.variant}: the score is the SQuAD F1`);
      assert.ok(c.metrics['f1']! >= c.metrics['exact_match']!, JSON.stringify(c.metrics));
    } else {
      // A tagging head's word accuracy and macro-F1 (T5's too: its encoder's T5ForTokenClassification, no generation).
      assert.equal(c.score, c.metrics['accuracy'], JSON.stringify(c));
      assert.equal(typeof c.metrics['macro_f1'], 'number', JSON.stringify(c.metrics));
      assert.equal(c.metrics['exact_match'], undefined, JSON.stringify(c.metrics));
    }
  }
  const heads = Object.fromEntries(results.cells.filter((c) => c.init === 'pretrained').map((c) => [`${c.family} ${c.task}`, c.architecture]));
  assert.deepEqual(heads, {
    'bert brown-qa': 'BertForQuestionAnswering', 'gpt2 brown-qa': 'GPT2ForQuestionAnswering', 't5 brown-qa': 'T5ForQuestionAnswering',
    'bert brown-pos': 'BertForTokenClassification', 'gpt2 brown-pos': 'GPT2ForTokenClassification', 't5 brown-pos': 'T5ForTokenClassification',
  });

  // Records written before cells named their head: only T5's QA cells (then text-to-text) are fine-tuned again.
  for (const id of await finishedCells(out)) {
    const file = path.join(out, 'cells', `${id}.json`);
    const { architecture: _a, ...old } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(old));
  }
  const lines: string[] = [];
  const again = await runExperiment({ settings: qa, out, backend: nodeBackend, log: (l) => lines.push(l) });
  assert.ok(again.complete);
  assert.equal(again.ran, 2, 'the two T5 brown-qa cells');
  assert.ok(lines.some((l) => /2 finished cells were fine-tuned with another head than this version's \(T5ForConditionalGeneration\): running them again/.test(l)), lines.join('\n'));
  const rerun = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  for (const c of rerun.cells.filter((x) => x.family === 't5' && x.task === 'brown-qa')) assert.equal(c.architecture, 'T5ForQuestionAnswering');
});

test('T5 classifies as text at its own learning rate; it tags and answers with heads, at the shared rate', () => {
  const s = PRESETS.full;
  assert.deepEqual(['brown-category', 'brown-qa', 'brown-pos'].map((t) => taskSupport('t5', t as TaskName)), ['text2text', 'qa', 'tag']);
  assert.deepEqual(['brown-category', 'brown-qa', 'brown-pos'].map((t) => taskSupport('bert', t as TaskName)), ['classify', 'qa', 'tag']);
  assert.equal(finetuneLr(s, 'text2text'), s.finetune.text2textLr);
  assert.notEqual(s.finetune.text2textLr, s.finetune.lr);
  for (const how of ['classify', 'tag', 'qa'] as const) assert.equal(finetuneLr(s, how), s.finetune.lr);
});

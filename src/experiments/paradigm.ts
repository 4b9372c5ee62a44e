// The main job (`npm start`, `pretrain demo`): the pretrain-then-fine-tune paradigm on the bundled Brown corpus.
// 1. train a byte-level BPE tokenizer and pretrain a small GPT-2 with causal LM;
// 2. print samples from it;
// 3. fine-tune Brown genre classification with few labels, once from the pretrained checkpoint and once from
//    scratch (same architecture, same data, same settings), at each label budget;
// 4. print the accuracies side by side and write report.md, report.json and finetune-*.svg to the run folder.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Backend } from '../runtime/backend.js';
import { Generator } from '../generate/generate.js';
import { syncDecoder } from '../tokenizers/index.js';
import { resolveConfig } from '../cli/config.js';
import { pretrain } from '../train/pretrain.js';
import { causalLMFromHf } from '../models/index.js';
import { brownGenreData, finetuneClassifier, limitPerLabel, type FinetuneResult } from '../train/finetune.js';
import { lossCurvesSvg } from '../train/plot.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { ParameterStore } from '../runtime/store.js';

export interface ParadigmOptions {
  out: string;
  pretrainSteps: number;
  layers: number;
  hidden: number;
  heads: number;
  seqLen: number;
  batchSize: number;
  vocabSize: number;
  lr: number;
  /** Training examples per label for each fine-tuning run: 15 genres, and Brown's 4 broad categories. */
  perLabel: number[];
  perLabelCategory: number[];
  finetuneEpochs: number;
  finetuneLr: number;
  seed: number;
  resume: boolean;
  /** Start the pretraining over when --out already holds one (otherwise that is an error unless resuming). */
  overwrite?: boolean;
  /** Progress bars (off in tests). */
  progress?: boolean;
}

export const paradigmDefaults: ParadigmOptions = {
  out: 'runs/main', pretrainSteps: 2400, layers: 4, hidden: 128, heads: 4, seqLen: 128, batchSize: 16, vocabSize: 4096,
  lr: 2e-3, perLabel: [8, 64], perLabelCategory: [16, 64], finetuneEpochs: 6, finetuneLr: 5e-4, seed: 0, resume: false,
};

export interface ParadigmReport {
  pretrain: { steps: number; evalLoss?: number; perplexity?: number; seconds: number; checkpoint: string };
  samples: { prompt: string; text: string }[];
  finetune: { task: 'genre' | 'category'; classes: number; majority: number; perLabel: number; trainExamples: number; evalExamples: number; pretrained: Omit<FinetuneResult, 'losses'>; scratch: Omit<FinetuneResult, 'losses'> }[];
  seconds: number;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function runParadigm(o: ParadigmOptions, backend: Backend, log: (s: string) => void = (s) => console.log(s)): Promise<ParadigmReport> {
  const t0 = performance.now();
  log(`== 1. pretraining a ${o.layers}-layer, ${o.hidden}-wide GPT-2 on the Brown corpus (causal LM, ${o.pretrainSteps} steps of ${o.batchSize}x${o.seqLen} tokens)`);
  const cfg = resolveConfig(undefined, {
    arch: 'gpt2', corpus: 'brown', out: path.join(o.out, 'pretrain'), vocabSize: o.vocabSize, layers: o.layers, hidden: o.hidden,
    heads: o.heads, seqLen: o.seqLen, batchSize: o.batchSize, maxSteps: o.pretrainSteps, lr: o.lr, warmup: Math.round(0.05 * o.pretrainSteps),
    evalEvery: Math.max(1, Math.round(o.pretrainSteps / 6)), evalBatches: 8, saveEvery: Math.max(1, Math.round(o.pretrainSteps / 3)), keepLast: 2,
    seed: o.seed, dropout: 0, resume: o.resume && existsSync(path.join(o.out, 'pretrain')), overwrite: o.overwrite === true,
  });
  const pre = await pretrain(cfg, { backend, log, progress: o.progress });
  const info = causalLMFromHf(pre.hf);
  if (pre.stoppedBy !== 'done' || !pre.finalDir) throw new Error(`pretraining stopped (${pre.stoppedBy}); rerun with --resume to continue`);
  const pretrainSeconds = (performance.now() - t0) / 1000;

  log(`\n== 2. samples from the pretrained model (top-k 40, temperature 0.8)`);
  const ck = await loadCheckpoint(pre.finalDir, { skipOptimizer: true });
  const store = new ParameterStore();
  for (const [n, w] of ck.weights) store.set(n, w.shape, w.data);
  const decode = syncDecoder(pre.tokenizer);
  const gen = await Generator.create(backend, info.model, store, { weights: 'baked', maxPositions: info.maxPositions });
  const samples: ParadigmReport['samples'] = [];
  for (const prompt of ['The jury said', 'It was a dark night and', 'The committee reported that']) {
    const ids = (await pre.tokenizer.encodeIdsBatch([prompt]))[0];
    const r = await gen.generate(ids, { maxNewTokens: 40, doSample: true, topK: 40, temperature: 0.8, seed: o.seed, eosTokenId: info.eosTokenId });
    const text = decode(r.sequences[0].tokens);
    samples.push({ prompt, text });
    log(`  ${prompt}${text.replace(/\s+/g, ' ')}`);
  }

  log(`\n== 3. fine-tuning Brown genre classification from the pretrained model and from scratch (same architecture, data and settings)`);
  const finetune: ParadigmReport['finetune'] = [];
  const curves: { file: string; label: string; points: { step: number; value: number }[] }[] = [];
  const strip = ({ losses, ...rest }: FinetuneResult) => (void losses, rest);
  for (const [task, budgets] of [['genre', o.perLabel], ['category', o.perLabelCategory]] as const) {
    const all = brownGenreData({ seed: o.seed, labels: task });
    for (const perLabel of budgets) {
      const data = { ...all, train: limitPerLabel(all.train, perLabel, o.seed) };
      const runs = {} as Record<'pretrained' | 'scratch', FinetuneResult>;
      for (const scratch of [false, true]) {
        const name = scratch ? 'scratch' : 'pretrained';
        const r = await finetuneClassifier({
          backend, base: { hf: info.hf, store, tokenizer: pre.tokenizer, tokenizerDir: pre.finalDir }, scratch, data,
          out: path.join(o.out, `finetune-${task}-${perLabel}-${name}`), maxLen: 64, batchSize: 16, epochs: o.finetuneEpochs,
          lr: o.finetuneLr, warmupRatio: 0.1, weightDecay: 0.01, gradClip: 1, auxLm: 0, dropout: 0.1, seed: o.seed,
          progress: o.progress, label: `${task} ${perLabel}/label ${name}`,
          // A rerun (--resume finishes the pretraining) fine-tunes each cell again, replacing its old run.
          overwrite: true,
        });
        runs[name] = r;
        curves.push({ file: `finetune-${task}-${perLabel}.svg`, label: name, points: r.losses.map((v, i) => ({ step: i + 1, value: v })) });
        log(`  ${task.padEnd(8)} (${data.labels.length} classes), ${String(perLabel).padStart(3)} per label, ${name.padEnd(10)}: accuracy ${pct(r.accuracy)}, macro-F1 ${pct(r.macroF1)} (${r.trainExamples} examples, ${r.steps} steps)`);
      }
      const counts = data.labels.map((l) => data.eval.filter((x) => x.label === l).length);
      const majority = Math.max(...counts) / data.eval.length;
      finetune.push({ task, classes: data.labels.length, majority, perLabel, trainExamples: runs.pretrained.trainExamples, evalExamples: runs.pretrained.evalExamples, pretrained: strip(runs.pretrained), scratch: strip(runs.scratch) });
    }
  }

  const report: ParadigmReport = {
    pretrain: { steps: pre.step, evalLoss: pre.lastEval?.loss, perplexity: pre.lastEval?.perplexity, seconds: pretrainSeconds, checkpoint: pre.finalDir },
    samples,
    finetune,
    seconds: (performance.now() - t0) / 1000,
  };
  const table = [
    '| labels | examples per label | training examples | pretrained: accuracy | scratch: accuracy | majority class | pretrained: macro-F1 | scratch: macro-F1 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...finetune.map((f) => `| ${f.classes} ${f.task === 'genre' ? 'genres' : 'categories'} | ${f.perLabel} | ${f.trainExamples} | ${pct(f.pretrained.accuracy)} | ${pct(f.scratch.accuracy)} | ${pct(f.majority)} | ${pct(f.pretrained.macroF1)} | ${pct(f.scratch.macroF1)} |`),
  ].join('\n');
  log(`\n== 4. pretrained vs from scratch (${finetune[0]?.evalExamples ?? 0} held-out chunks of Brown validation documents)\n${table}`);
  await writeFile(path.join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  // One plot per task and label budget: the pretrained and the scratch run's training loss.
  const plots = [...new Set(curves.map((c) => c.file))];
  for (const file of plots) {
    const runs = curves.filter((c) => c.file === file).map((c) => ({ name: c.label, train: c.points.map((p) => ({ step: p.step, loss: p.value })) }));
    await writeFile(path.join(o.out, file), lossCurvesSvg(runs, { title: `fine-tuning loss, ${file.slice(9, -4).replace('-', ', ')} per label` }));
  }
  await writeFile(path.join(o.out, 'report.md'), [
    '# Pretrain, then fine-tune: the Brown corpus', '',
    `Pretraining: ${report.pretrain.steps} steps, eval loss ${report.pretrain.evalLoss?.toFixed(3)} (perplexity ${report.pretrain.perplexity?.toFixed(1)}), ${pretrainSeconds.toFixed(0)} s.`, '',
    '## Samples', '', ...samples.map((s) => `- **${s.prompt}**${s.text.replace(/\s+/g, ' ')}`), '',
    '## Genre classification with few labels', '',
    'Each example is 3 consecutive sentences of a Brown document (up to 64 tokens); evaluation uses chunks of the validation documents (at most 40 per genre). Both runs of a row share the architecture, data, seed and settings; only the initial weights differ.', '',
    table, '',
    `Total time ${report.seconds.toFixed(0)} s. Fine-tuning curves: ${plots.join(', ')}; pretraining: pretrain/loss.svg.`, '',
  ].join('\n'));
  log(`\nreport: ${path.join(o.out, 'report.md')} (plots: ${path.join(o.out, 'pretrain', 'loss.svg')}, ${path.join(o.out, 'finetune-*.svg')}); ${report.seconds.toFixed(0)} s in all`);
  return report;
}

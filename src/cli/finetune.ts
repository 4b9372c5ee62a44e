// `pretrain finetune --task classify` and `pretrain predict`.
import path from 'node:path';
import type { Command } from 'commander';
import { Ctx } from '../nn/index.js';
import { nodeBackend } from '../runtime/node.js';
import { Forward } from '../runtime/step.js';
import { ParameterStore } from '../runtime/store.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { causalLMFromHf } from '../models/index.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { brownGenreData, classifierFor, finetuneClassifier, jsonlData, limitPerLabel } from '../train/finetune.js';
import { intArg, numberArg } from './args.js';
import { loadDecoder, resolveModelDir } from './load.js';

interface FinetuneFlags {
  from: string;
  task: string;
  data: string;
  eval?: string;
  out: string;
  scratch: boolean;
  perLabel: string;
  maxLen: string;
  batchSize: string;
  epochs: string;
  lr: string;
  warmup: string;
  weightDecay: string;
  gradClip: string;
  auxLm: string;
  dropout: string;
  seed: string;
  json: boolean;
}

export function registerFinetuneCommands(program: Command, fail: (e: unknown) => never): void {
  program
    .command('finetune')
    .description('fine-tune a pretrained decoder as a classifier on the last token (GPT-1 style), gradients through the whole model')
    .requiredOption('--from <dir>', 'pretrained checkpoint folder, or a run folder (its newest checkpoint)')
    .option('--task <task>', 'classify (sequence classification from the last token)', 'classify')
    .option('--data <spec>', 'brown-genre (Brown genres, bundled) or a JSONL file with "text" and "label"', 'brown-genre')
    .option('--eval <spec>', 'JSONL evaluation data (default: every 10th example of --data is held out)')
    .option('--out <dir>', 'run folder for the fine-tuned checkpoint', 'runs/finetune')
    .option('--scratch', 'same architecture, random initialisation (the baseline)', false)
    .option('--per-label <n>', 'use at most n training examples per label (few labels); 0 = all', '0')
    .option('--max-len <n>', 'tokens per example, EOS included', '64')
    .option('--batch-size <n>', 'examples per batch', '16')
    .option('--epochs <n>', 'passes over the training examples (GPT-1: 3)', '3')
    .option('--lr <x>', 'peak learning rate (GPT-1: 6.25e-5)', '6.25e-5')
    .option('--warmup <fraction>', 'linear warmup over this fraction of the steps (GPT-1: 0.002)', '0.002')
    .option('--weight-decay <x>', 'AdamW weight decay', '0.01')
    .option('--grad-clip <x>', 'global gradient-norm clip', '1')
    .option('--aux-lm <x>', 'weight of the auxiliary language-modelling loss (GPT-1: 0.5)', '0')
    .option('--dropout <x>', 'dropout during fine-tuning', '0.1')
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', '0')
    .option('--json', 'print one JSON object instead of prose', false)
    .action(async (f: FinetuneFlags) => {
      try {
        if (f.task !== 'classify') throw new Error(`--task ${f.task}: only "classify" is available for decoders`);
        const base = await loadDecoder(f.from);
        const seed = intArg('--seed', f.seed, 0);
        const data = f.data === 'brown-genre' ? brownGenreData({ seed }) : await jsonlData(f.data, f.eval);
        data.train = limitPerLabel(data.train, intArg('--per-label', f.perLabel, 0), seed);
        const r = await finetuneClassifier({
          backend: nodeBackend, base: { hf: base.hf, store: base.store, tokenizer: base.tokenizer, tokenizerDir: base.dir },
          scratch: f.scratch, data, out: f.out, maxLen: intArg('--max-len', f.maxLen, 2), batchSize: intArg('--batch-size', f.batchSize, 1),
          epochs: numberArg('--epochs', f.epochs), lr: numberArg('--lr', f.lr), warmupFraction: numberArg('--warmup', f.warmup),
          weightDecay: numberArg('--weight-decay', f.weightDecay), gradClip: numberArg('--grad-clip', f.gradClip), auxLm: numberArg('--aux-lm', f.auxLm),
          dropout: numberArg('--dropout', f.dropout), seed,
        });
        const { losses, ...summary } = r;
        void losses;
        if (f.json) console.log(JSON.stringify({ ...summary, labels: data.labels, scratch: f.scratch }));
        else
          console.log(`accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}% on ${r.evalExamples} held-out examples ` +
            `(${r.trainExamples} training examples, ${r.steps} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
      } catch (e) {
        fail(e);
      }
    });

  program
    .command('predict')
    .description('label a text with a fine-tuned classifier and print the class probabilities')
    .requiredOption('--model <dir>', 'fine-tuned checkpoint folder, or its run folder')
    .option('--json', 'print one JSON object instead of prose', false)
    .argument('<text...>', 'the text to classify')
    .action(async (words: string[], f: { model: string; json: boolean }) => {
      try {
        const text = words.join(' ');
        const dir = await resolveModelDir(f.model);
        const ck = await loadCheckpoint(dir, { requireTokenizer: true, skipOptimizer: true });
        const id2label = ck.config.id2label;
        if (!id2label) throw new Error(`${dir}/config.json has no id2label: not a fine-tuned classifier (use \`pretrain generate\` for a language model)`);
        const labels = Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]);
        const info = causalLMFromHf(ck.config);
        const clf = classifierFor(info, labels.length);
        const store = new ParameterStore();
        for (const p of clf.parameters()) {
          const w = ck.weights.get(p.name);
          if (!w || w.shape.join() !== p.shape.join()) throw new Error(`${dir}/model.safetensors: missing or mis-shaped "${p.name}" (expected [${p.shape}])`);
          store.set(p.name, w.shape, w.data);
        }
        const tok = loadTokenizer(dir);
        const ids = [...(await tok.encodeIdsBatch([text]))[0].slice(0, info.maxPositions - 1), info.eosTokenId];
        const t = ids.length;
        const fwd = await Forward.compile(nodeBackend, (g) => ({
          logits: clf.forward(new Ctx(g), g.input('input_ids', 'int64', [1, 'seq']), g.input('attention_mask', 'int64', [1, 'seq'])).logits,
        }), store);
        const out = await fwd.run({
          input_ids: { dtype: 'int64', shape: [1, t], data: BigInt64Array.from(ids, BigInt) },
          attention_mask: { dtype: 'int64', shape: [1, t], data: new BigInt64Array(t).fill(1n) },
        });
        const logits = Array.from(out.logits.data as Float32Array);
        const m = Math.max(...logits);
        const e = logits.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b);
        const probs = Object.fromEntries(labels.map((l, i) => [l, e[i] / z]));
        const best = labels[logits.indexOf(m)];
        if (f.json) console.log(JSON.stringify({ text, label: best, probabilities: probs, model: path.resolve(dir) }));
        else {
          console.log(`${best}`);
          for (const [l, p] of Object.entries(probs).sort((a, b) => b[1] - a[1])) console.log(`  ${l.padEnd(18)} ${(100 * p).toFixed(1)}%`);
        }
      } catch (e) {
        fail(e);
      }
    });
}

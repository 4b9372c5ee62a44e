// `pretrain finetune --task classify|tag|text2text` and `pretrain predict`. The model comes from the checkpoint's model_type
// through the registry (src/models/tasks.ts): this file knows no model by name.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { nodeBackend } from '../runtime/node.js';
import { taskHead, taskHeads } from '../models/tasks.js';
import {
  brownGenreData, brownPosTagData, classificationAsText2Text, finetuneClassifier, finetuneTagger, finetuneText2Text, jsonlData,
  limitExamples, loadFinetuned, requirePerLabel, taggedJsonlData, text2textJsonlData, type FinetuneCommonOptions, type FinetuneResult,
} from '../train/finetune.js';
import { intArg, numberArg } from './args.js';
import { loadBase, resolveModelDir } from './load.js';
import { checkOutputDir } from '../io/outdir.js';
import { withInterrupt } from './interrupt.js';

interface FinetuneFlags {
  from: string;
  task: string;
  data?: string;
  eval?: string;
  out: string;
  scratch: boolean;
  perLabel: string;
  limit: string;
  maxLen?: string;
  maxTargetLen: string;
  prefix?: string;
  batchSize: string;
  epochs: string;
  maxSteps: string;
  lr?: string;
  warmup?: string;
  warmupRatio?: string;
  warmupSteps?: string;
  evalEvery: string;
  saveBest?: boolean | string;
  patience: string;
  resume?: boolean | string;
  overwrite: boolean;
  weightDecay: string;
  gradClip: string;
  auxLm: string;
  dropout: string;
  seed: string;
  force: boolean;
  json: boolean;
}

const TASK_DATA: Record<string, { builtin: string; format: string }> = {
  classify: { builtin: 'brown-genre', format: '"text" and "label"' },
  tag: { builtin: 'brown-pos', format: '"tokens" and "tags"' },
  text2text: { builtin: 'brown-genre', format: '"input" and "target" (or "text" and "label": classification as text)' },
};

export function registerFinetuneCommands(program: Command, fail: (e: unknown) => never): void {
  program
    .command('finetune')
    .description('fine-tune a pretrained model for a task: classify (a decoder\'s last token, GPT-1 style, or an encoder\'s pooled [CLS]), tag (an encoder labels each word\'s first piece) or text2text (an encoder-decoder, T5, writes a target text; classification as the label word), gradients through the whole model')
    .requiredOption('--from <dir>', 'pretrained checkpoint folder, or a run folder (its newest checkpoint)')
    .option('--task <task>', 'classify (sequence classification), tag (token classification: part-of-speech, NER) or text2text (T5: input text -> target text); which the model offers depends on its model_type; classify on a T5 runs text2text with the label word as the target', 'classify')
    .option('--data <spec>', 'classify: brown-genre (Brown genres, bundled) or a JSONL file with "text" and "label"; tag: brown-pos (Brown part-of-speech as the 12 universal tags, bundled) or a JSONL file with "tokens" and "tags"; text2text: brown-genre ("genre: <text>" -> the genre word) or a JSONL file with "input" and "target" (or "text" and "label") (default: brown-genre / brown-pos / brown-genre)')
    .option('--eval <spec>', 'JSONL evaluation data (default: every 10th example of --data is held out)')
    .option('--out <dir>', 'run folder for the fine-tuned checkpoint', 'runs/finetune')
    .option('--scratch', 'same architecture, random initialisation (the baseline)', false)
    .option('--per-label <n>', 'classify: use at most n training examples per label (few labels); 0 = all', '0')
    .option('--limit <n>', 'use at most n training examples (sentences for tag), chosen by a seeded shuffle; 0 = all', '0')
    .option('--max-len <n>', 'tokens per example (text2text: per input), special tokens or EOS included (default: 64 for classify, 128 for tag and text2text)')
    .option('--max-target-len <n>', 'text2text: target tokens per example, EOS included (longer targets are cut; also the generation limit when scoring)', '32')
    .option('--prefix <word>', 'text2text on classification data: the input is "<word>: <text>" (default: genre for brown-genre, classify for a JSONL file; "" = none)')
    .option('--batch-size <n>', 'examples per batch', '16')
    .option('--epochs <n>', 'passes over the training examples (HF num_train_epochs; GPT-1: 3)', '3')
    .option('--max-steps <n>', 'optimizer steps (HF max_steps); overrides --epochs; 0 = use --epochs', '0')
    .option('--lr <x>', 'peak learning rate (default: 6.25e-5 for a decoder (GPT-1), 5e-5 for an encoder (BERT), 3e-4 for an encoder-decoder (T5 with AdamW))')
    .option('--warmup-ratio <x>', 'linear warmup over this fraction of the steps, rounded up (HF warmup_ratio; default: 0.002 for a decoder (GPT-1), 0.1 for an encoder (BERT) or an encoder-decoder)')
    .option('--warmup-steps <n>', 'linear warmup over this many steps (HF warmup_steps); wins over --warmup-ratio')
    .addOption(new Option('--warmup <x>').hideHelp())
    .option('--eval-every <n>', 'evaluate on the held-out data every n steps (HF eval_steps), metrics into log.jsonl; 0 = only at the end', '0')
    .option('--save-best [metric]', 'keep the checkpoint of the best evaluation and end with it (HF load_best_model_at_end, metric_for_best_model); metric: accuracy, macro_f1, loss, exact_match, ... (default: the task\'s accuracy, or exact_match for text2text)')
    .option('--patience <n>', 'stop after n evaluations in a row without improvement of the --save-best metric (HF early_stopping_patience); needs --eval-every; 0 = never', '0')
    .option('--resume [checkpoint]', 'continue the fine-tuning in --out from its newest checkpoint, or from the checkpoint folder given')
    .option('--overwrite', 'start over in an --out that holds a run, deleting it (HF overwrite_output_dir)', false)
    .option('--weight-decay <x>', 'AdamW weight decay', '0.01')
    .option('--grad-clip <x>', 'global gradient-norm clip', '1')
    .option('--aux-lm <x>', 'classify with a decoder: weight of the auxiliary language-modelling loss (GPT-1: 0.5)', '0')
    .option('--dropout <x>', 'dropout during fine-tuning', '0.1')
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', '0')
    .option('--force', "fine-tune even if --from's tokenizer.json is not the one the model was trained with (tokenizer.sha256)", false)
    .option('--json', 'print one JSON object instead of prose', false)
    .action(async (f: FinetuneFlags) => {
      try {
        if (f.warmup !== undefined)
          throw new Error(`--warmup is gone (it was silently a fraction of the steps): use --warmup-ratio ${f.warmup} for a fraction of the steps, or --warmup-steps <n> for a number of steps (Hugging Face's names)`);
        checkOutputDir('--out', f.out);
        const base = await loadBase(f.from, { force: f.force });
        // An encoder-decoder classifies by writing the label word (T5's framing of GLUE): --task classify maps to text2text.
        const offered = taskHeads(base.hf.model_type);
        const mapped = f.task === 'classify' && !offered.classify && offered.text2text !== undefined;
        if (mapped) console.error(`note: ${base.hf.model_type} classifies as text-to-text (the label word is the target): running --task text2text`);
        const task = (mapped ? 'text2text' : f.task) as 'classify' | 'tag' | 'text2text';
        const head = taskHead(base.hf.model_type, task);
        const seed = intArg('--seed', f.seed, 0);
        const perLabel = intArg('--per-label', f.perLabel, 0);
        const limit = intArg('--limit', f.limit, 0);
        const auxLm = numberArg('--aux-lm', f.auxLm);
        const data = f.data ?? TASK_DATA[task]!.builtin;
        for (const [t, d] of Object.entries(TASK_DATA))
          if (t !== task && data === d.builtin && d.builtin !== TASK_DATA[task]!.builtin) throw new Error(`--data ${data} is for --task ${t}; --task ${task} takes ${TASK_DATA[task]!.builtin} or a JSONL file with ${TASK_DATA[task]!.format}`);
        if (task === 'tag' && perLabel > 0) throw new Error('--per-label applies to --task classify (a sentence has many tags); use --limit for --task tag');
        if (head.framing !== 'eos' && auxLm > 0) throw new Error(`--aux-lm applies to decoders; ${base.hf.model_type} is fine-tuned without an LM loss`);
        if (task !== 'text2text' && f.prefix !== undefined) throw new Error('--prefix applies to --task text2text');
        const decoder = head.framing === 'eos';
        const seq2seq = head.framing === 'seq2seq';
        const common: FinetuneCommonOptions = {
          backend: nodeBackend, base: { hf: base.hf, store: base.store, tokenizer: base.tokenizer, tokenizerDir: base.dir },
          scratch: f.scratch, out: f.out, maxLen: intArg('--max-len', f.maxLen ?? (task === 'classify' ? '64' : '128'), 2),
          batchSize: intArg('--batch-size', f.batchSize, 1), epochs: numberArg('--epochs', f.epochs), maxSteps: intArg('--max-steps', f.maxSteps, 0),
          lr: numberArg('--lr', f.lr ?? (decoder ? '6.25e-5' : seq2seq ? '3e-4' : '5e-5')),
          ...(f.warmupSteps !== undefined ? { warmupSteps: intArg('--warmup-steps', f.warmupSteps, 0) } : {}),
          warmupRatio: numberArg('--warmup-ratio', f.warmupRatio ?? (decoder ? '0.002' : '0.1')),
          weightDecay: numberArg('--weight-decay', f.weightDecay), gradClip: numberArg('--grad-clip', f.gradClip),
          dropout: numberArg('--dropout', f.dropout), seed,
          evalEvery: intArg('--eval-every', f.evalEvery, 0), saveBest: f.saveBest !== undefined,
          ...(typeof f.saveBest === 'string' ? { metricForBestModel: f.saveBest } : {}),
          patience: intArg('--patience', f.patience, 0), resume: f.resume ?? false, overwrite: f.overwrite,
        };
        let r: FinetuneResult;
        let labels: string[];
        if (task === 'text2text') {
          const prefix = f.prefix ?? (data === 'brown-genre' ? 'genre' : 'classify');
          const d = data === 'brown-genre' ? classificationAsText2Text(brownGenreData({ seed }), prefix) : await text2textJsonlData(data, f.eval, prefix);
          if (perLabel > 0) {
            if (!d.labels) throw new Error('--per-label applies to classification data ("text" and "label", or brown-genre)');
            d.train = requirePerLabel(d.train.map((x) => ({ text: x.input, label: x.target })), perLabel, seed).map((x) => ({ input: x.text, target: x.label }));
          }
          d.train = limitExamples(d.train, limit, seed);
          labels = d.labels ?? [];
          const maxTargetLen = intArg('--max-target-len', f.maxTargetLen, 2);
          r = await withInterrupt((signal) => finetuneText2Text({ ...common, data: d, maxTargetLen, signal }));
        } else if (task === 'tag') {
          const d = data === 'brown-pos' ? brownPosTagData({ seed }) : await taggedJsonlData(data, f.eval);
          d.train = limitExamples(d.train, limit, seed);
          labels = d.labels;
          r = await withInterrupt((signal) => finetuneTagger({ ...common, data: d, signal }));
        } else {
          const d = data === 'brown-genre' ? brownGenreData({ seed }) : await jsonlData(data, f.eval);
          d.train = limitExamples(requirePerLabel(d.train, perLabel, seed), limit, seed);
          labels = d.labels;
          r = await withInterrupt((signal) => finetuneClassifier({ ...common, data: d, auxLm, signal }));
        }
        const { losses, ...summary } = r;
        void losses;
        if (r.stoppedBy === 'interrupt') {
          // stderr, so that --json output stays one JSON object
          console.error(`interrupted at step ${r.steps} of ${r.plannedSteps}; checkpoint saved in ${r.dir}; scores below are of the partly trained model`);
          process.exitCode = 130;
        } else if (r.stoppedBy === 'nonfinite') process.exitCode = 2;
        if (f.json) console.log(JSON.stringify({ ...summary, macroF1: Number.isNaN(r.macroF1) ? null : r.macroF1, task, labels, scratch: f.scratch }));
        else if (task === 'text2text') {
          const scores = labels.length
            ? `accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}% (${(100 * (r.validLabels ?? 0)).toFixed(1)}% of generations are labels), exact match ${(100 * (r.exactMatch ?? 0)).toFixed(1)}%`
            : `exact match ${(100 * (r.exactMatch ?? 0)).toFixed(1)}%`;
          console.log(`${scores} on ${r.evalExamples} held-out examples (${r.trainExamples} training examples, ${r.steps}${r.steps < r.plannedSteps ? ` of ${r.plannedSteps}` : ''} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
          for (const x of r.samples ?? []) console.log(`  ${JSON.stringify(x.input.length > 60 ? `${x.input.slice(0, 57)}...` : x.input)} -> ${JSON.stringify(x.output)} (target ${JSON.stringify(x.target)})`);
        } else
          console.log(`accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}% on ${r.evalExamples} held-out ` +
            `${task === 'tag' ? `sentences (${r.evalWords} words)` : 'examples'} (${r.trainExamples} training examples, ${r.steps}${r.steps < r.plannedSteps ? ` of ${r.plannedSteps}` : ''} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
      } catch (e) {
        fail(e);
      }
    });

  program
    .command('predict')
    .description('label a text with a fine-tuned classifier (the class probabilities), tag its words with a fine-tuned tagger, or generate the output text of a text-to-text model (T5)')
    .requiredOption('--model <dir>', 'fine-tuned checkpoint folder, or its run folder')
    .option('--max-new-tokens <n>', 'text2text: the most tokens to generate', '32')
    .option('--json', 'print one JSON object instead of prose: {text, label, probabilities}, {tokens, tags} or {input, output}', false)
    .argument('<text...>', 'the text to classify or to transform, or the words to tag (split on whitespace)')
    .action(async (words: string[], f: { model: string; json: boolean; maxNewTokens: string }) => {
      try {
        const dir = await resolveModelDir(f.model);
        const m = await loadFinetuned(nodeBackend, dir);
        if (m.task === 'text2text') {
          const input = words.join(' ');
          if (!input.trim()) throw new Error('<text> is empty: give the input text after the flags');
          const output = await m.generate(input, { maxNewTokens: intArg('--max-new-tokens', f.maxNewTokens, 1) });
          if (f.json) console.log(JSON.stringify({ input, output, model: path.resolve(dir) }));
          else console.log(output);
          return;
        }
        if (m.task === 'tag') {
          const tokens = words.flatMap((w) => w.split(/\s+/)).filter(Boolean);
          if (!tokens.length) throw new Error('<text> is empty: give the words to tag after the flags');
          const tags = await m.tag(tokens);
          if (f.json) console.log(JSON.stringify({ tokens, tags, model: path.resolve(dir) }));
          else for (let i = 0; i < tokens.length; i++) console.log(`${tokens[i]}\t${tags[i]}`);
          return;
        }
        const text = words.join(' ');
        if (!text.trim()) throw new Error('<text> is empty: give the text to classify after the flags');
        const { label, probabilities } = await m.classify(text);
        if (f.json) console.log(JSON.stringify({ text, label, probabilities, model: path.resolve(dir) }));
        else {
          console.log(label);
          for (const [l, p] of Object.entries(probabilities).sort((a, b) => b[1] - a[1])) console.log(`  ${l.padEnd(18)} ${(100 * p).toFixed(1)}%`);
        }
      } catch (e) {
        fail(e);
      }
    });
}

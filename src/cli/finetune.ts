// `pretrain finetune --task classify|tag|text2text|qa` and `pretrain predict`. The model comes from the checkpoint's model_type
// through the registry (src/models/tasks.ts): this file knows no model by name.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { nodeBackend } from '../runtime/node.js';
import { taskHead, taskHeads } from '../models/tasks.js';
import {
  brownGenreData, brownPosTagData, classificationAsText2Text, finetuneClassifier, finetuneTagger, finetuneText2Text, jsonlData,
  limitExamples, loadFinetuned, maxPositions, requirePerLabel, taggedJsonlData, text2textJsonlData, type FinetuneCommonOptions, type FinetuneResult, type Finetuned,
} from '../train/finetune.js';
import { intArg, numberArg } from './args.js';
import { loadBase, resolveModelDir } from './load.js';
import { checkOutputDir } from '../io/outdir.js';
import { withInterrupt } from './interrupt.js';
import { brownQaData, finetuneQa, limitQuestions, QA_DEFAULTS, squadData } from '../train/qa.js';
import { readFileSync } from 'node:fs';
import { predictFile } from '../train/predict.js';
import { writeFileAtomic } from '../io/files.js';
import { domainCheck, domainLine, domainModelOf, writeDomainReport, type DomainCheck } from '../train/domain.js';

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
  docStride: string;
  maxAnswerLength: string;
  nBestSize: string;
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
  domainCheck: boolean;
}

const TASK_DATA: Record<string, { builtin: string; format: string }> = {
  classify: { builtin: 'brown-genre', format: '"text" and "label"' },
  tag: { builtin: 'brown-pos', format: '"tokens" and "tags"' },
  text2text: { builtin: 'brown-genre', format: '"input" and "target" (or "text" and "label": classification as text)' },
  qa: { builtin: 'brown-qa', format: 'SQuAD v1.1 JSON' },
};

interface PredictFlags {
  model: string;
  json: boolean;
  maxNewTokens: string;
  input?: string;
  output?: string;
  textPair?: string;
  question?: string;
  context?: string;
  contextFile?: string;
  maxLen?: string;
  docStride: string;
  maxAnswerLength: string;
  nBestSize: string;
}

/** `predict` with a QA model: the best answer to --question in --context (or --context-file) and its score. */
async function answerQuestion(m: Finetuned, dir: string, words: string[], f: PredictFlags): Promise<void> {
  if (words.length) throw new Error('a question-answering model takes --question and --context (or --context-file), not a text argument');
  if (f.question === undefined || !f.question.trim()) throw new Error(`${dir} answers questions: give --question "..."`);
  if (f.context !== undefined && f.contextFile !== undefined) throw new Error('give --context or --context-file, not both');
  let context = f.context;
  if (f.contextFile !== undefined) {
    try {
      context = readFileSync(f.contextFile, 'utf8');
    } catch (e) {
      throw new Error(`--context-file ${f.contextFile}: ${(e as Error).message}`);
    }
  }
  if (context === undefined || !context.trim()) throw new Error('give the text holding the answer with --context "..." or --context-file FILE');
  const nBest = await m.answer(f.question, context, {
    ...(f.maxLen !== undefined ? { maxLen: intArg('--max-len', f.maxLen, 2) } : {}),
    docStride: intArg('--doc-stride', f.docStride, 0), maxAnswerLength: intArg('--max-answer-length', f.maxAnswerLength, 1), nBestSize: intArg('--n-best-size', f.nBestSize, 1),
  });
  const best = nBest[0]!;
  if (f.json) console.log(JSON.stringify({ question: f.question, answer: best.text, score: best.score, probability: best.probability, start: best.start, end: best.end, nBest, model: path.resolve(dir) }));
  else console.log(`${best.text}\n  score ${best.score.toFixed(3)} (start + end logit), probability ${(100 * best.probability).toFixed(1)}% among the ${nBest.length} best spans`);
}

export function registerFinetuneCommands(program: Command, fail: (e: unknown) => never): void {
  program
    .command('finetune')
    .description('fine-tune a pretrained model for a task: classify (a decoder\'s last token, GPT-1 style, or an encoder\'s pooled [CLS]), tag (each word\'s first piece is labelled; a decoder sees only the words before it) or text2text (an encoder-decoder, T5, writes a target text; classification as the label word), gradients through the whole model')
    .requiredOption('--from <dir>', 'pretrained checkpoint folder, or a run folder (its newest checkpoint)')
    .option('--task <task>', 'classify (sequence classification), tag (token classification: part-of-speech, NER), text2text (T5: input text -> target text) or qa (extractive question answering, SQuAD v1.1: encoders and decoders); which the model offers depends on its model_type; classify on a T5 runs text2text with the label word as the target', 'classify')
    .option('--data <spec>', 'classify: brown-genre (Brown genres, bundled) or a JSONL file with "text" and "label"; tag: brown-pos (Brown part-of-speech as the 12 universal tags, bundled) or a JSONL file with "tokens" and "tags"; text2text: brown-genre ("genre: <text>" -> the genre word) or a JSONL file with "input" and "target" (or "text" and "label"); qa: brown-qa (cloze questions on Brown documents, bundled) or a SQuAD v1.1 JSON file (default: brown-genre / brown-pos / brown-genre / brown-qa)')
    .option('--eval <spec>', 'JSONL evaluation data, SQuAD JSON for qa (default: every 10th example of --data is held out; qa: every 10th paragraph)')
    .option('--out <dir>', 'run folder for the fine-tuned checkpoint', 'runs/finetune')
    .option('--scratch', 'same architecture, random initialisation (the baseline)', false)
    .option('--per-label <n>', 'classify: use at most n training examples per label (few labels); 0 = all', '0')
    .option('--limit <n>', 'use at most n training examples (sentences for tag), chosen by a seeded shuffle; 0 = all', '0')
    .option('--max-len <n>', 'tokens per example (text2text: per input; qa: per question/context window, run_qa.py\'s --max_seq_length), special tokens or EOS included (default: 64 for classify, 128 for tag and text2text, 384 for qa or the model\'s positions if fewer)')
    .option('--max-target-len <n>', 'text2text: target tokens per example, EOS included (longer targets are cut; also the generation limit when scoring)', '32')
    .option('--doc-stride <n>', `qa: tokens shared by consecutive windows of a long context (run_qa.py's --doc_stride)`, String(QA_DEFAULTS.docStride))
    .option('--max-answer-length <n>', `qa: longest answer in tokens (run_qa.py's --max_answer_length)`, String(QA_DEFAULTS.maxAnswerLength))
    .option('--n-best-size <n>', `qa: start and end candidates per window (run_qa.py's --n_best_size)`, String(QA_DEFAULTS.nBestSize))
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
    .option('--no-domain-check', "skip the domain check: the pretrained model's perplexity on the task's held-out texts beside its own held-out pretraining text, and pieces per word on both (needs the pretraining run's train_config.json)")
    .option('--json', 'print one JSON object instead of prose', false)
    .action(async (f: FinetuneFlags) => {
      try {
        if (f.warmup !== undefined)
          throw new Error(Number(f.warmup) >= 1
            ? `--warmup is gone (it was silently a fraction of the steps): use --warmup-steps ${f.warmup} for a number of steps, or --warmup-ratio <x> for a fraction of the steps (Hugging Face's names)`
            : `--warmup is gone (it was silently a fraction of the steps): use --warmup-ratio ${f.warmup} for a fraction of the steps, or --warmup-steps <n> for a number of steps (Hugging Face's names)`);
        checkOutputDir('--out', f.out);
        const base = await loadBase(f.from, { force: f.force });
        // An encoder-decoder classifies by writing the label word (T5's framing of GLUE): --task classify maps to text2text.
        const offered = taskHeads(base.hf.model_type);
        const mapped = f.task === 'classify' && !offered.classify && offered.text2text !== undefined;
        if (mapped) console.error(`note: ${base.hf.model_type} classifies as text-to-text (the label word is the target): running --task text2text`);
        const task = (mapped ? 'text2text' : f.task) as 'classify' | 'tag' | 'text2text' | 'qa';
        const head = taskHead(base.hf.model_type, task);
        const seed = intArg('--seed', f.seed, 0);
        const perLabel = intArg('--per-label', f.perLabel, 0);
        const limit = intArg('--limit', f.limit, 0);
        const auxLm = numberArg('--aux-lm', f.auxLm);
        const data = f.data ?? TASK_DATA[task]!.builtin;
        for (const [t, d] of Object.entries(TASK_DATA))
          if (t !== task && data === d.builtin && d.builtin !== TASK_DATA[task]!.builtin) throw new Error(`--data ${data} is for --task ${t}; --task ${task} takes ${TASK_DATA[task]!.builtin} or a JSONL file with ${TASK_DATA[task]!.format}`);
        if ((task === 'tag' || task === 'qa') && perLabel > 0) throw new Error(`--per-label applies to --task classify; use --limit for --task ${task}`);
        if (head.framing !== 'eos' && auxLm > 0) throw new Error(`--aux-lm applies to decoders; ${base.hf.model_type} is fine-tuned without an LM loss`);
        if (task !== 'text2text' && f.prefix !== undefined) throw new Error('--prefix applies to --task text2text');
        const decoder = head.framing === 'eos';
        const seq2seq = head.framing === 'seq2seq';
        const common: FinetuneCommonOptions = {
          backend: nodeBackend, base: { hf: base.hf, store: base.store, tokenizer: base.tokenizer, tokenizerDir: base.dir },
          scratch: f.scratch, out: f.out, maxLen: intArg('--max-len', f.maxLen ?? (task === 'classify' ? '64' : task === 'qa' ? String(Math.min(QA_DEFAULTS.maxLen, maxPositions(base.hf, head))) : '128'), 2),
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
        let texts: string[] = [];
        // Fine-tuning copies the base weights (initTaskStore), so base.store stays the pretrained model.
        const domainModel = f.domainCheck && !f.scratch ? domainModelOf(base.dir, base.hf, base.store, base.tokenizer) : undefined;
        if (task === 'qa') {
          const d = data === 'brown-qa' ? brownQaData({ seed }) : await squadData(data, f.eval);
          d.train = limitQuestions(d.train, limit, seed);
          labels = [];
          texts = [...new Set(d.eval.map((x) => x.context))];
          const qa = { docStride: intArg('--doc-stride', f.docStride, 0), maxAnswerLength: intArg('--max-answer-length', f.maxAnswerLength, 1), nBestSize: intArg('--n-best-size', f.nBestSize, 1) };
          r = await withInterrupt((signal) => finetuneQa({ ...common, ...qa, data: d, signal }));
        } else if (task === 'text2text') {
          const prefix = f.prefix ?? (data === 'brown-genre' ? 'genre' : 'classify');
          const d = data === 'brown-genre' ? classificationAsText2Text(brownGenreData({ seed }), prefix) : await text2textJsonlData(data, f.eval, prefix);
          if (perLabel > 0) {
            if (!d.labels) throw new Error('--per-label applies to classification data ("text" and "label", or brown-genre)');
            d.train = requirePerLabel(d.train.map((x) => ({ text: x.input, label: x.target })), perLabel, seed).map((x) => ({ input: x.text, target: x.label }));
          }
          d.train = limitExamples(d.train, limit, seed);
          labels = d.labels ?? [];
          // The domain check reads the texts, not the task prefix the inputs carry.
          texts = d.eval.map((x) => (prefix && x.input.startsWith(`${prefix}: `) ? x.input.slice(prefix.length + 2) : x.input));
          const maxTargetLen = intArg('--max-target-len', f.maxTargetLen, 2);
          r = await withInterrupt((signal) => finetuneText2Text({ ...common, data: d, maxTargetLen, signal }));
        } else if (task === 'tag') {
          const d = data === 'brown-pos' ? brownPosTagData({ seed }) : await taggedJsonlData(data, f.eval);
          d.train = limitExamples(d.train, limit, seed);
          labels = d.labels;
          texts = d.eval.map((x) => x.tokens.join(' '));
          r = await withInterrupt((signal) => finetuneTagger({ ...common, data: d, signal }));
        } else {
          const d = data === 'brown-genre' ? brownGenreData({ seed }) : await jsonlData(data, f.eval);
          d.train = limitExamples(requirePerLabel(d.train, perLabel, seed), limit, seed);
          labels = d.labels;
          texts = d.eval.map((x) => (x.textPair ? `${x.text} ${x.textPair}` : x.text));
          r = await withInterrupt((signal) => finetuneClassifier({ ...common, data: d, auxLm, signal }));
        }
        let domain: DomainCheck | undefined;
        if (domainModel && r.stoppedBy !== 'interrupt') {
          if ('skipped' in domainModel) console.error(`domain check skipped: ${domainModel.skipped}`);
          else if (texts.length) {
            domain = await domainCheck(domainModel, data, texts, nodeBackend);
            await writeDomainReport(f.out, domain);
          }
        }
        const { losses, ...summary } = r;
        void losses;
        if (r.stoppedBy === 'interrupt') {
          // stderr, so that --json output stays one JSON object
          console.error(`interrupted at step ${r.steps} of ${r.plannedSteps}; checkpoint saved in ${r.dir}; scores below are of the partly trained model`);
          process.exitCode = 130;
        } else if (r.stoppedBy === 'nonfinite') process.exitCode = 2;
        else if (r.stoppedBy === 'early-stop') console.error(`early stop at step ${r.steps} of ${r.plannedSteps}: ${r.best?.metric} did not improve for ${common.patience} evaluations`);
        if (r.best && common.saveBest) console.error(`best ${r.best.metric} ${r.best.value.toFixed(4)} at step ${r.best.step}: the scores below and ${r.dir} are that checkpoint's`);
        if (f.json) console.log(JSON.stringify({ ...summary, macroF1: Number.isNaN(r.macroF1) ? null : r.macroF1, task, labels, scratch: f.scratch, ...(domain ? { domain } : {}) }));
        else if (task === 'qa') {
          console.log(`exact match ${(100 * (r.exactMatch ?? 0)).toFixed(1)}%, F1 ${(100 * (r.f1 ?? 0)).toFixed(1)}% on ${r.evalExamples} held-out questions (${r.trainExamples} training questions, ${r.steps}${r.steps < r.plannedSteps ? ` of ${r.plannedSteps}` : ''} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
          for (const x of r.samples ?? []) console.log(`  ${JSON.stringify(x.input.length > 60 ? `${x.input.slice(0, 57)}...` : x.input)} -> ${JSON.stringify(x.output)} (gold ${JSON.stringify(x.target)})`);
        } else if (task === 'text2text') {
          const scores = labels.length
            ? `accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}% (${(100 * (r.validLabels ?? 0)).toFixed(1)}% of generations are labels), exact match ${(100 * (r.exactMatch ?? 0)).toFixed(1)}%`
            : `exact match ${(100 * (r.exactMatch ?? 0)).toFixed(1)}%`;
          console.log(`${scores} on ${r.evalExamples} held-out examples (${r.trainExamples} training examples, ${r.steps}${r.steps < r.plannedSteps ? ` of ${r.plannedSteps}` : ''} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
          for (const x of r.samples ?? []) console.log(`  ${JSON.stringify(x.input.length > 60 ? `${x.input.slice(0, 57)}...` : x.input)} -> ${JSON.stringify(x.output)} (target ${JSON.stringify(x.target)})`);
        } else
          console.log(`accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${(100 * r.macroF1).toFixed(1)}% on ${r.evalExamples} held-out ` +
            `${task === 'tag' ? `sentences (${r.evalWords} words)` : 'examples'} (${r.trainExamples} training examples, ${r.steps}${r.steps < r.plannedSteps ? ` of ${r.plannedSteps}` : ''} steps${f.scratch ? ', from scratch' : ''}) -> ${r.dir}`);
        if (!f.json && task !== 'text2text' && task !== 'qa') console.log(`per-class scores: ${path.join(f.out, 'report.md')}; confusion matrix: ${path.join(f.out, 'confusion_matrix.svg')}`);
        if (!f.json && domain) console.log(domainLine(domain));
      } catch (e) {
        fail(e);
      }
    });

  program
    .command('predict')
    .description('label a text with a fine-tuned classifier (the class probabilities), tag its words with a fine-tuned tagger, generate the output text of a text-to-text model (T5), or answer a question about a context with a QA model')
    .requiredOption('--model <dir>', 'fine-tuned checkpoint folder, or its run folder')
    .option('--max-new-tokens <n>', 'text2text: the most tokens to generate', '32')
    .option('--question <text>', 'qa: the question')
    .option('--context <text>', 'qa: the text holding the answer')
    .option('--context-file <file>', 'qa: read the context from a UTF-8 text file')
    .option('--max-len <n>', 'qa: tokens per question/context window (default: 384, or the model\'s positions if fewer)')
    .option('--doc-stride <n>', 'qa: tokens shared by consecutive windows', String(QA_DEFAULTS.docStride))
    .option('--max-answer-length <n>', 'qa: longest answer in tokens', String(QA_DEFAULTS.maxAnswerLength))
    .option('--n-best-size <n>', 'qa: start and end candidates per window, and the answers --json lists', String(QA_DEFAULTS.nBestSize))
    .option('--input <file.jsonl>', 'predict every line of a JSONL file: {"text"} (and "text_pair") to classify, {"tokens"} to tag, {"input"} for text2text; lines with the gold "label", "tags" or "target" are scored')
    .option('--output <file.jsonl>', 'with --input: write the JSONL predictions here (default: standard output)')
    .option('--text-pair <text>', 'classify a sentence pair: the second segment (HF text_pair)')
    .option('--json', 'print one JSON object instead of prose: {text, label, probabilities}, {tokens, tags}, {input, output} or {question, answer, score, probability, start, end, nBest}', false)
    .argument('[text...]', 'the text to classify or to transform, or the words to tag (split on whitespace)')
    .action(async (words: string[], f: PredictFlags) => {
      try {
        if (f.input !== undefined && words.length) throw new Error('give either <text> or --input <file.jsonl>, not both');
        if (f.output !== undefined && f.input === undefined) throw new Error('--output applies to --input <file.jsonl>');
        const dir = await resolveModelDir(f.model);
        const m = await loadFinetuned(nodeBackend, dir);
        if (f.input !== undefined) {
          const lines: string[] = [];
          const r = await predictFile(m, f.input, (l) => (f.output === undefined ? console.log(l) : void lines.push(l)), { maxNewTokens: intArg('--max-new-tokens', f.maxNewTokens, 1) });
          if (f.output !== undefined) await writeFileAtomic(f.output, lines.length ? `${lines.join('\n')}\n` : '');
          // The summary goes to stderr when the predictions go to stdout, so that stdout stays JSONL.
          const say = f.output === undefined ? console.error : console.log;
          say(`${r.count} lines predicted${f.output !== undefined ? ` -> ${f.output}` : ''}` +
            (r.gold ? `; ${r.gold.metric.replace('_', ' ')} ${(100 * r.gold.value).toFixed(1)}% over ${r.gold.count} gold ${m.task === 'tag' ? 'tags' : 'answers'}` : ''));
          return;
        }
        if (f.textPair !== undefined && m.task !== 'classify') throw new Error(`--text-pair applies to sequence classifiers; ${dir} is a ${m.architecture}`);
        const qaFlag = f.question !== undefined ? '--question' : f.context !== undefined ? '--context' : f.contextFile !== undefined ? '--context-file' : undefined;
        if (m.task !== 'qa' && qaFlag) throw new Error(`${qaFlag} applies to a question-answering model; ${dir} is a ${m.architecture} (task ${m.task})`);
        if (m.task === 'qa') {
          await answerQuestion(m, dir, words, f);
          return;
        }
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
        const { label, probabilities } = await m.classify(text, f.textPair);
        if (f.json) console.log(JSON.stringify({ text, ...(f.textPair !== undefined ? { text_pair: f.textPair } : {}), label, probabilities, model: path.resolve(dir) }));
        else {
          console.log(label);
          for (const [l, p] of Object.entries(probabilities).sort((a, b) => b[1] - a[1])) console.log(`  ${l.padEnd(18)} ${(100 * p).toFixed(1)}%`);
        }
      } catch (e) {
        fail(e);
      }
    });
}

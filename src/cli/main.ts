#!/usr/bin/env node
// The `pretrain` command. Each subcommand parses its flags (commander), validates them, and calls the library.
import { Command, Option } from 'commander';
import { nodeBackend } from '../runtime/node.js';
import { registerDataCommands, registerTokenizerCommands } from '../data/cli.js';
import { CONFIG_FIELDS, CONFIG_KEYS, flagName, loadConfig, resolveConfig, savedConfigSource } from './config.js';
import { pretrain, TRAIN_CONFIG_FILE } from '../train/pretrain.js';
import { formatEval } from '../train/trainer.js';
import type { TrainConfig } from '../train/config.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { evalCommand, type EvalFlags } from './eval.js';
import { intArg } from './args.js';
import { registerFinetuneCommands } from './finetune.js';
import { registerGenerateCommand } from './generate.js';
import { registerFillMaskCommand } from './fill-mask.js';
import { registerServeCommand } from './serve.js';
import { registerExperimentCommand } from './experiment.js';
import { previewCommand } from './preview.js';
import { checkOutputDir } from '../io/outdir.js';
import { fail, packageVersion } from './fail.js';

/** A run's saved settings (train_config.json), absent when the file is; a corrupt file is an error. */
async function readSavedConfig(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let c: TrainConfig;
  try {
    c = JSON.parse(text) as TrainConfig;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); fix or delete it to resume with flags only`);
  }
  return savedConfigSource(c, file);
}

const program = new Command('pretrain')
  .description('Pretrain and fine-tune transformer language models in TypeScript, on ONNX Runtime.')
  .version(packageVersion(), '-V, --version', 'print the version')
  .showHelpAfterError();

const train = program
  .command('train')
  .description('pretrain a model: gpt2/llama with causal LM, bert with MLM (+NSP), roberta with MLM, SpanBERT span masking; see docs/training.md')
  .option('--config <file>', 'YAML or JSON file of the options below (flags override it)');
for (const key of CONFIG_KEYS) {
  const f = CONFIG_FIELDS[key];
  const arg = f.kind === 'boolean' ? '' : f.kind === 'boolean-or-path' ? ' [path]' : f.kind === 'choice' ? ` <${f.choices!.join('|')}>` : ` <${f.kind === 'string' ? 'value' : f.kind}>`;
  // Defaults are filled by resolveConfig (so a config file can set what a flag leaves unset); show them here.
  const def = f.default === undefined ? '' : ` (default: ${String(f.default)})`;
  train.addOption(new Option(`${flagName(key)}${arg}`, `${f.description}${def}`));
}
train.action(async (flags: Record<string, unknown>) => {
  try {
    const { config, ...rest } = flags;
    const file = typeof config === 'string' ? await loadConfig(config) : undefined;
    const values = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    // A resumed run starts from the settings it was started with (train_config.json in its folder); a config
    // file and flags given now override the ones that may change (e.g. a larger --max-steps to train longer).
    // `--resume <checkpoint>` without --out continues in the checkpoint's run folder.
    const resume = values.resume ?? file?.values.resume;
    const checkpoint = typeof resume === 'string' && resume !== 'true' && resume !== 'false' ? resume : undefined;
    // The run folder of `--resume <path>`: the folder holding that checkpoint, or the path itself if it is a run folder.
    const runOf = (p: string) => (existsSync(path.join(p, 'trainer_state.json')) ? path.dirname(p) : p);
    const out = String(values.out ?? file?.values.out ?? (checkpoint ? runOf(checkpoint) : CONFIG_FIELDS.out.default));
    let saved = resume && resume !== 'false' ? await readSavedConfig(path.join(out, TRAIN_CONFIG_FILE)) : undefined;
    if (!saved && checkpoint) saved = await readSavedConfig(path.join(runOf(checkpoint), TRAIN_CONFIG_FILE));
    const base = saved || file ? { source: file?.source ?? saved!.source, values: { ...saved?.values, ...file?.values } } : undefined;
    // The run folder is where it is now, even if it was moved since train_config.json was written.
    const cfg = resolveConfig(base, saved ? { ...values, out } : values);
    checkOutputDir('--out', cfg.out);
    // Ctrl-C: the trainer finishes its step and saves; a second Ctrl-C quits at once.
    const stop = new AbortController();
    const onSigint = () => {
      if (stop.signal.aborted) process.exit(130);
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    const r = await pretrain(cfg, { backend: nodeBackend, signal: stop.signal }).finally(() => process.off('SIGINT', onSigint));
    if (r.stoppedBy === 'nonfinite') process.exitCode = 2;
    if (r.stoppedBy === 'interrupt') {
      console.log(`interrupted at step ${r.step}; continue with the same command and --resume`);
      process.exitCode = 130;
    }
    if (r.lastEval) console.log(formatEval(r.lastEval));
    console.log(`run folder ${cfg.out} (log.jsonl, loss.svg${r.finalDir ? `, ${r.finalDir}` : ''})`);
  } catch (e) {
    fail(e);
  }
});

program
  .command('eval')
  .description('loss and metrics of a saved model on a corpus: perplexity (decoders); masked-token accuracy and perplexity, NSP accuracy (encoders)')
  .requiredOption('--model <dir>', 'checkpoint folder, or a run folder (its newest checkpoint)')
  .option('--corpus <spec>', 'corpus spec: brown[:train|validation|test], a .txt/.jsonl file, a folder or a glob', 'brown:test')
  .option('--seq-len <n>', 'block length', '128')
  .option('--batch-size <n>', 'blocks per batch', '8')
  .option('--max-batches <n>', 'evaluate at most this many batches (0 = all)', '0')
  .option('--objective <name>', 'the objective to evaluate (default: the one whose heads the checkpoint carries)')
  .option('--seed <n>', 'seed of the fixed evaluation masking', '0')
  .option('--json', 'print one JSON object instead of prose', false)
  .action((o: EvalFlags) => evalCommand(o).catch(fail));

program
  .command('preview')
  .description('show what a pretraining objective does to real examples: masked, replaced and kept tokens, spans, segments A/B and the NSP label; T5 inputs with sentinels and targets; the prefix-LM split point')
  .option('--arch <arch>', `model architecture (${CONFIG_FIELDS.arch.choices!.join(', ')})`, 'bert')
  .option('--objective <name>', "the objective (default: the architecture's own)")
  .option('--corpus <spec>', 'corpus spec: brown, a .txt/.jsonl file, a folder or a glob', 'brown')
  .option('-n, --n <n>', 'examples to show', '3')
  .option('--seq-len <n>', 'tokens per example', '64')
  .option('--tokenizer <dir>', 'tokenizer folder; default: train a small one of the kind the model wants')
  .option('--whole-word', 'mask whole words', false)
  .option('--selection <rule>', 'bernoulli, fixed or fairseq', 'bernoulli')
  .option('--noise-density <d>', 'span-corruption: share of noise tokens', '0.15')
  .option('--mean-noise-span-length <n>', 'span-corruption: mean noise span length', '3')
  .option('--seed <n>', 'seed', '0')
  .option('--json', 'print one JSON object', false)
  .action(async (f: { arch: string; objective?: string; corpus: string; n: string; seqLen: string; tokenizer?: string; wholeWord: boolean; selection: string; noiseDensity: string; meanNoiseSpanLength: string; seed: string; json: boolean }) => {
    try {
      const arch = resolveConfig(undefined, { arch: f.arch, objective: f.objective, selection: f.selection, noiseDensity: f.noiseDensity, meanNoiseSpanLength: f.meanNoiseSpanLength });
      await previewCommand({
        arch: f.arch, objective: arch.objective.name, corpus: f.corpus, n: intArg('-n', f.n), seqLen: intArg('--seq-len', f.seqLen, 8),
        tokenizer: f.tokenizer, seed: intArg('--seed', f.seed, 0), json: f.json, color: process.stdout.isTTY === true,
        overrides: { wholeWord: f.wholeWord, selection: arch.objective.selection, noiseDensity: arch.objective.noiseDensity, meanNoiseSpanLength: arch.objective.meanNoiseSpanLength },
      });
    } catch (e) {
      fail(e);
    }
  });

registerGenerateCommand(program, fail);
registerFillMaskCommand(program, fail);
registerServeCommand(program, fail);
registerFinetuneCommands(program, fail);
registerExperimentCommand(program, fail);
registerTokenizerCommands(program);
registerDataCommands(program);

// Every action's error ends here too (the tokenizer and data commands throw theirs): one line, no stack trace.
await program.parseAsync(process.argv).catch(fail);

// `pretrain experiment` (and `npm start` = `pretrain experiment --preset quick`; `pretrain demo` is an alias):
// flags -> ExperimentSettings (a preset with overrides) -> runExperiment.
import path from 'node:path';
import type { Command } from 'commander';
import { nodeBackend } from '../runtime/node.js';
import { checkOutputDir } from '../io/outdir.js';
import { FAMILIES, PRESETS, TASKS, type ExperimentSettings, type Family, type TaskName } from '../experiments/design.js';
import { runExperiment } from '../experiments/experiment.js';
import { defaultJobs } from '../experiments/jobs.js';
import { intArg } from './args.js';
import { withInterrupt } from './interrupt.js';

interface ExperimentFlags {
  preset: string;
  out: string;
  overwrite: boolean;
  families?: string;
  tasks?: string;
  fractions?: string;
  seeds?: string;
  objectives?: boolean;
  pretrainSteps?: string;
  finetuneMinSteps?: string;
  finetuneMaxSteps?: string;
  corpus?: string;
  task?: string;
  data?: string;
  eval?: string;
  progress: boolean;
  jobs?: string;
}

function list(flag: string, v: string): string[] {
  const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
  if (!xs.length) throw new Error(`${flag} must list at least one value, got "${v}"`);
  return xs;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${flag}: "${v}" is not one of ${allowed.join(', ')}`);
  return v as T;
}

/** The preset's settings with the flags' overrides. */
export function experimentSettings(f: ExperimentFlags): ExperimentSettings {
  const preset = oneOf('--preset', f.preset, ['quick', 'full'] as const);
  const s: ExperimentSettings = structuredClone(PRESETS[preset]);
  const overridden: string[] = [];
  if (f.families) {
    s.families = list('--families', f.families).map((x) => oneOf<Family>('--families', x, FAMILIES));
    overridden.push(`--families ${f.families}`);
  }
  if (f.tasks) {
    s.tasks = list('--tasks', f.tasks).map((x) => oneOf<TaskName>('--tasks', x, TASKS.filter((t) => t !== 'user')));
    overridden.push(`--tasks ${f.tasks}`);
  }
  if (f.fractions) {
    s.fractions = list('--fractions', f.fractions).map((x) => {
      const n = Number(x);
      if (!(n > 0 && n <= 1)) throw new Error(`--fractions must list numbers in (0, 1], got "${x}"`);
      return n;
    });
    overridden.push(`--fractions ${f.fractions}`);
  }
  if (f.seeds) {
    s.seeds = list('--seeds', f.seeds).map((x) => intArg('--seeds', x, 0));
    if (new Set(s.seeds).size !== s.seeds.length) throw new Error(`--seeds lists a seed twice: "${f.seeds}"`);
    overridden.push(`--seeds ${f.seeds}`);
  }
  if (f.objectives !== undefined) s.objectives = f.objectives;
  if (f.pretrainSteps) s.pretrain.steps = intArg('--pretrain-steps', f.pretrainSteps);
  if (f.finetuneMinSteps) s.finetune.minSteps = intArg('--finetune-min-steps', f.finetuneMinSteps);
  if (f.finetuneMaxSteps) s.finetune.maxSteps = intArg('--finetune-max-steps', f.finetuneMaxSteps);
  if (s.finetune.minSteps > s.finetune.maxSteps) throw new Error(`--finetune-min-steps ${s.finetune.minSteps} exceeds --finetune-max-steps ${s.finetune.maxSteps}`);
  if (f.corpus) s.corpus = f.corpus;
  if (f.task || f.data || f.eval) {
    if (!f.data) throw new Error('--task and --eval need --data (labelled JSONL: {"text", "label"} for classify, {"tokens", "tags"} for tag)');
    s.user = { task: oneOf('--task', f.task ?? 'classify', ['classify', 'tag'] as const), data: f.data, ...(f.eval ? { eval: f.eval } : {}) };
    if (!f.tasks) s.tasks = ['user'];
    else s.tasks.push('user');
  }
  if (overridden.length) s.leftOut = [...s.leftOut, `(the flags ${overridden.join(', ')} changed the preset)`];
  return s;
}

export function registerExperimentCommand(program: Command, fail: (e: unknown) => never): void {
  program
    .command('experiment')
    .alias('demo')
    .description('the paradigm measured: pretrain BERT (MLM), GPT-2 (causal LM) and T5 (span corruption), then fine-tune each task at several label fractions from the pretrained weights and from scratch, over seeds; report.md/report.html with intervals, verdicts and pictures (see docs/experiment.md)')
    .option('--preset <name>', 'quick (about 13 minutes on 2 cores; `npm start`) or full (an estimated day on 2 cores)', 'quick')
    .option('--out <dir>', 'experiment folder (rerunning the same command continues it)', 'runs/experiment')
    .option('--overwrite', 'delete an experiment with other settings in --out and start over', false)
    .option('--families <list>', `comma-separated: ${FAMILIES.join(', ')}`)
    .option('--tasks <list>', `comma-separated: ${TASKS.filter((t) => t !== 'user').join(', ')}`)
    .option('--fractions <list>', 'comma-separated shares of the labelled training data, e.g. 0.01,0.1,1')
    .option('--seeds <list>', 'comma-separated fine-tuning seeds, e.g. 0,1,2')
    .option('--objectives', 'also compare the pretraining objectives (MLM+NSP, whole-word, span masking, prefix LM)')
    .option('--no-objectives', 'skip the objective comparisons')
    .option('--pretrain-steps <n>', 'pretraining steps per model')
    .option('--finetune-min-steps <n>', 'fewest fine-tuning steps per run')
    .option('--finetune-max-steps <n>', 'most fine-tuning steps per run')
    .option('--corpus <spec>', 'unlabelled text to pretrain on (a .txt/.jsonl file, a folder or a glob); default: Brown')
    .option('--task <task>', 'with --data: classify or tag')
    .option('--data <file>', 'your labelled JSONL: {"text", "label"} (classify) or {"tokens", "tags"} (tag)')
    .option('--eval <file>', 'held-out labelled JSONL (default: every 10th example of --data)')
    .option('--jobs <n>', `pretrainings and fine-tunings run side by side, each in a process with its share of the cores (default: one per core, at most 8: ${defaultJobs()} here)`)
    .option('--no-progress', 'no progress bar')
    .action(async (f: ExperimentFlags) => {
      try {
        const settings = experimentSettings(f);
        const jobs = f.jobs === undefined ? defaultJobs() : intArg('--jobs', f.jobs);
        checkOutputDir('--out', f.out);
        const t0 = performance.now();
        const r = await withInterrupt((signal) => runExperiment({ settings, out: f.out, overwrite: f.overwrite, backend: nodeBackend, signal, progress: f.progress, jobs }));
        if (!r.complete) {
          console.log(`interrupted after ${r.ran} new cells; run the same command again to continue (finished cells are kept in ${path.join(f.out, 'cells')})`);
          process.exitCode = 130;
          return;
        }
        console.log(`${r.ran} cells fine-tuned now; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        console.log(`report: ${path.join(f.out, 'report.md')}, ${path.join(f.out, 'report.html')} (figures in ${path.join(f.out, 'figures')}), results.json`);
      } catch (e) {
        fail(e);
      }
    });
}

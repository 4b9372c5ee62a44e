// `npm run bench -- <name>`: the benchmarks. Figures are reported as ratios against the PyTorch baseline measured
// in the same invocation, because the machines are shared and noisy.
import { Command } from 'commander';
import { engineDefaults, runEngineBench } from './engine.js';

const program = new Command('bench').description('pretrain benchmarks; results are written to bench/results/<name>.json');

program
  .command('engine')
  .description('training step of a GPT-2 (forward + backward + AdamW) beside the PyTorch baseline')
  .option('--steps <n>', 'timed steps', String(engineDefaults.steps))
  .option('--warmup <n>', 'untimed warm-up steps', String(engineDefaults.warmup))
  .option('--batch <n>', 'batch size', String(engineDefaults.batch))
  .option('--seq <n>', 'sequence length', String(engineDefaults.seq))
  .option('--layers <n>', 'layers', String(engineDefaults.layers))
  .option('--hidden <n>', 'hidden size', String(engineDefaults.hidden))
  .option('--heads <n>', 'attention heads', String(engineDefaults.heads))
  .option('--vocab <n>', 'vocabulary size', String(engineDefaults.vocab))
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: Record<string, string | boolean>) => {
    const n = (k: string) => Number(o[k]);
    await runEngineBench({
      steps: n('steps'), warmup: n('warmup'), batch: n('batch'), seq: n('seq'), layers: n('layers'),
      hidden: n('hidden'), heads: n('heads'), vocab: n('vocab'), torch: o.torch !== false,
    });
  });

await program.parseAsync(process.argv);

// `npm run bench -- <name>`: the benchmarks. Figures are reported as ratios against the PyTorch baseline measured
// in the same invocation, because the machines are shared and noisy.
import { Command } from 'commander';
import { engineDefaults, runEngineBench } from './engine.js';
import { runDataBench } from './data.js';
import { bertDefaults, runBertBench } from './bert.js';
import { runT5Bench, t5Defaults } from './t5.js';
import { runGenerateBench } from './generate.js';
import { runCheckpointingBench, runTrainOne } from './checkpointing.js';
import { writeResult } from './common.js';
import { browserDefaults, runBrowserBench } from './browser.js';
import { runScalingBench, runThreadsBench } from './scaling.js';
import { PROFILE_ARCHS, runProfileBench, type ProfileArch } from './profile.js';
import { ALL_PARTS, runAllBench } from './all.js';

/** The --steps and --warmup options of a benchmark that times training steps. */
const timed = (cmd: Command, steps: string, warmup: string): Command =>
  cmd.option('--steps <n>', 'timed steps', steps).option('--warmup <n>', 'untimed warm-up steps', warmup);

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

program
  .command('bert')
  .description('BERT (4 layers, 256 wide, 4 heads, ffn 1024, vocab 8192, batch 32x128): MLM training step beside PyTorch')
  .option('--steps <n>', 'timed steps', String(bertDefaults.steps))
  .option('--warmup <n>', 'untimed warm-up steps', String(bertDefaults.warmup))
  .option('--batch <n>', 'batch size', String(bertDefaults.batch))
  .option('--seq <n>', 'sequence length', String(bertDefaults.seq))
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: Record<string, string | boolean>) => {
    const n = (k: string) => Number(o[k]);
    await runBertBench({ ...bertDefaults, steps: n('steps'), warmup: n('warmup'), batch: n('batch'), seq: n('seq'), torch: o.torch !== false });
  });

program
  .command('t5')
  .description('T5 v1.0 (4 + 4 layers, 256 wide, 4 heads, ffn 1024, vocab 8192, batch 32 x (128 encoder, 32 decoder)): span-corruption training step beside PyTorch')
  .option('--steps <n>', 'timed steps', String(t5Defaults.steps))
  .option('--warmup <n>', 'untimed warm-up steps', String(t5Defaults.warmup))
  .option('--batch <n>', 'batch size', String(t5Defaults.batch))
  .option('--seq <n>', 'encoder length', String(t5Defaults.seq))
  .option('--dec-seq <n>', 'decoder (target) length', String(t5Defaults.decSeq))
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: Record<string, string | boolean>) => {
    const n = (k: string) => Number(o[k]);
    await runT5Bench({ ...t5Defaults, steps: n('steps'), warmup: n('warmup'), batch: n('batch'), seq: n('seq'), decSeq: n('decSeq'), torch: o.torch !== false });
  });

timed(program.command('profile'), '3', '2')
  .description(`ORT's per-node profile of warm training steps of ARCH's benchmark model (${PROFILE_ARCHS.join(', ')}), by model part and op type`)
  .argument('<arch>', PROFILE_ARCHS.join(' | '))
  .action(async (arch: string, o: { steps: string; warmup: string }) => {
    if (!(PROFILE_ARCHS as readonly string[]).includes(arch)) throw new Error(`bench profile: ARCH must be one of ${PROFILE_ARCHS.join(', ')}, got "${arch}"`);
    await runProfileBench(arch as ProfileArch, { steps: Number(o.steps), warmup: Number(o.warmup) });
  });

timed(program.command('checkpointing'), '2', '1')
  .description('peak RSS and step time of the engine GPT-2 with and without --gradient-checkpointing at several sequence lengths')
  .option('--seqs <list>', 'sequence lengths, comma-separated', '128,512,1024')
  .option('--batch <n>', 'batch size', '8')
  .action(async (o: { seqs: string; batch: string; steps: string; warmup: string }) => {
    await runCheckpointingBench({ seqs: o.seqs.split(',').map(Number), batch: Number(o.batch), steps: Number(o.steps), warmup: Number(o.warmup) });
  });

timed(program.command('train-one', { hidden: true }), '2', '1')
  .option('--seq <n>', 'sequence length', '128')
  .option('--batch <n>', 'batch size', '8')
  .option('--hidden <n>', 'hidden size', String(engineDefaults.hidden))
  .option('--heads <n>', 'attention heads', String(engineDefaults.heads))
  .option('--gradient-checkpointing', 'recompute blocks in the backward', false)
  .action(async (o: Record<string, string | boolean>) => {
    const n = (k: string) => Number(o[k]);
    await runTrainOne({ seq: n('seq'), batch: n('batch'), hidden: n('hidden'), heads: n('heads'), steps: n('steps'), warmup: n('warmup'), checkpointing: o.gradientCheckpointing === true });
  });

timed(program.command('scaling'), '4', '1')
  .description('tokens/s and peak RSS of the engine GPT-2 as hidden grows (seq 128) and as seq grows (hidden 256), ours and PyTorch\'s; JSON and SVG plots')
  .option('--hiddens <list>', 'hidden sizes, comma-separated', '128,256,512,768')
  .option('--seqs <list>', 'sequence lengths, comma-separated (4096 tokens per step)', '128,256,512,1024')
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: { hiddens: string; seqs: string; steps: string; warmup: string; torch: boolean }) => {
    const list = (s: string) => s.split(',').map(Number);
    await runScalingBench({ hiddens: list(o.hiddens), seqs: list(o.seqs), steps: Number(o.steps), warmup: Number(o.warmup), torch: o.torch !== false });
  });

timed(program.command('threads'), '6', '2')
  .description('1 against 2 intra-op threads (ours and PyTorch), and ours beside a busy process with ORT spinning on and off')
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: { steps: string; warmup: string; torch: boolean }) => {
    await runThreadsBench({ steps: Number(o.steps), warmup: Number(o.warmup), torch: o.torch !== false });
  });

program
  .command('data')
  .description('tokenisation into shards and batch assembly on the Brown corpus, beside the training tokens/s')
  .action(async () => {
    await runDataBench({ outDir: 'bench/results' });
  });

program
  .command('generate')
  .description('generation tokens/s with and without the KV cache (GPT-2 4x256, vocab 8192)')
  .option('--tokens <n>', 'new tokens per run', '128')
  .action(async (o: { tokens: string }) => {
    await runGenerateBench({ tokens: Number(o.tokens) });
  });

program
  .command('gpt2')
  .description('GPT-2 (4 layers, 256 wide, 4 heads, vocab 8192, batch 32x128): training beside PyTorch, then generation')
  .option('--steps <n>', 'timed training steps', String(engineDefaults.steps))
  .option('--no-torch', 'skip the PyTorch baseline')
  .action(async (o: { steps: string; torch: boolean }) => {
    const train = await runEngineBench({ ...engineDefaults, steps: Number(o.steps), torch: o.torch !== false });
    const generation = await runGenerateBench({ tokens: 128 });
    console.log(`  -> ${writeResult('gpt2', { bench: 'gpt2', date: new Date().toISOString(), train, generation })}`);
  });

program
  .command('browser')
  .description('training step of tiny gpt2/bert/t5 configurations in Chromium (onnxruntime-web WASM, 1 and 2 threads) beside onnxruntime-node')
  .option('--steps <n>', 'timed steps', String(browserDefaults.steps))
  .option('--warmup <n>', 'untimed warm-up steps', String(browserDefaults.warmup))
  .option('--chromium <path>', 'the Chromium binary (default /usr/bin/chromium)')
  .action(async (o: { steps: string; warmup: string; chromium?: string }) => {
    await runBrowserBench({ steps: Number(o.steps), warmup: Number(o.warmup), chromium: o.chromium });
  });

program
  .command('all')
  .description(`every benchmark behind the speed and memory goals in one invocation, each in its own process (${Object.values(ALL_PARTS).map((a) => a.join(' ')).join(', ')}); bench/results/all.json and all.md`)
  .option('--skip <list>', `comma-separated parts to leave out: ${Object.keys(ALL_PARTS).join(', ')}`, '')
  .action(async (o: { skip: string }) => {
    const skip = o.skip.split(',').filter(Boolean);
    const unknown = skip.filter((s) => !(s in ALL_PARTS));
    if (unknown.length) throw new Error(`bench all --skip: unknown part(s) ${unknown.join(', ')}; the parts are ${Object.keys(ALL_PARTS).join(', ')}`);
    await runAllBench({ skip });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}

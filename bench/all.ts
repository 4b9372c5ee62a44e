// `npm run bench -- all`: every training benchmark of issue 12's goals in one invocation, each in its own process
// (peak RSS is a per-process high-water mark, so benchmarks sharing a process would inherit each other's peaks),
// then bench/results/all.json and all.md: the figures beside PyTorch's from the same invocation and each goal's
// status.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { pct, writeResult, type TorchResult, type TrainFigures } from './common.js';
import type { FoldedProfile, ProfileRow } from './profile.js';
import type { TrainOneRun } from './checkpointing.js';

/** The benchmarks `all` runs, in order, as `npm run bench -- <args>`. */
export const ALL_PARTS: Record<string, string[]> = {
  gpt2: ['gpt2'],
  bert: ['bert'],
  t5: ['t5'],
  profile: ['profile', 'gpt2'],
  checkpointing: ['checkpointing'],
  scaling: ['scaling'],
  threads: ['threads'],
};

export interface TrainResult {
  ours: TrainFigures;
  torch: TorchResult | null;
  torch_skipped?: string;
}

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  met: boolean | null;
}

const readJson = <T>(file: string): T | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined);

export async function runAllBench(o: { skip: string[] }): Promise<void> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const t0 = performance.now();
  const started = new Date().toISOString();
  const ran: string[] = [];
  for (const [name, args] of Object.entries(ALL_PARTS)) {
    if (o.skip.includes(name)) continue;
    console.log(`\n== bench ${args.join(' ')} ==`);
    const r = spawnSync(process.execPath, [main, ...args], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench all: \`bench ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    ran.push(name);
  }
  const minutes = (performance.now() - t0) / 60000;
  const summary = summarize(readResults(ran), { started, minutes, ran });
  const file = writeResult('all', summary.json);
  writeFileSync('bench/results/all.md', summary.markdown);
  console.log(`\n${summary.markdown}\n  -> ${file}, bench/results/all.md`);
}

/** The result files of the parts that ran in this invocation (a part that did not run reads as undefined). */
export interface AllResults {
  gpt2?: TrainResult;
  bert?: TrainResult;
  t5?: TrainResult;
  profile?: FoldedProfile;
  checkpointing?: { runs: TrainOneRun[]; ratios: { seq: number; rss_ratio: number; step_time_ratio: number }[] };
  scaling?: { points: { axis: string; hidden: number; seq: number; batch: number; ours: TrainOneRun; torch: TorchResult | null; ratio_tokens_per_s?: number; ratio_peak_rss?: number }[] };
  threads?: { rows: { label: string; tokens_per_s?: number }[] };
}

function readResults(ran: string[]): AllResults {
  const read = <T>(part: string, file: string): T | undefined => (ran.includes(part) ? readJson<T>(`bench/results/${file}.json`) : undefined);
  return {
    gpt2: read<{ train: TrainResult }>('gpt2', 'gpt2')?.train, bert: read('bert', 'bert'), t5: read('t5', 't5'), profile: read('profile', 'profile-gpt2'),
    checkpointing: read('checkpointing', 'checkpointing'), scaling: read('scaling', 'scaling'), threads: read('threads', 'threads'),
  };
}

/** The figures and each goal's status (met, not met, or null when not measured). */
export function summarize(res: AllResults, meta: { started: string; minutes: number; ran: string[] }): { json: Record<string, unknown>; goals: Goal[]; markdown: string } {
  const { gpt2, bert, t5, profile, checkpointing: ckpt, scaling, threads } = res;
  const { started, minutes, ran } = meta;
  const speed = (r: TrainResult | undefined) => (r?.torch ? r.ours.tokens_per_s / r.torch.tokens_per_s : undefined);
  const memory = (r: TrainResult | undefined) => (r?.torch ? r.ours.peak_rss_mib / r.torch.peak_rss_mib : undefined);
  const x = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
  const atLeast = (v: number | undefined, t: number) => (v === undefined ? null : v >= t);
  const atMost = (v: number | undefined, t: number) => (v === undefined ? null : v <= t);
  const models: [string, TrainResult | undefined][] = [['GPT-2', gpt2], ['BERT', bert], ['T5', t5]];
  const outside = models.map(([, r]) => r?.ours.share_outside_kernels).filter((v): v is number => v !== undefined);

  const goals: Goal[] = [
    { goal: 'GPT-2 MFU counting the LM head', target: '>= 70% of the ORT matmul peak', measured: gpt2 ? `${pct(gpt2.ours.mfu_incl_lm_head)} of ${gpt2.ours.peak_gflops_ort_matmul.toFixed(0)} GFLOP/s` : 'n/a', met: atLeast(gpt2?.ours.mfu_incl_lm_head, 0.7) },
    { goal: 'GPT-2 tokens/s', target: '>= 2x PyTorch', measured: x(speed(gpt2)), met: atLeast(speed(gpt2), 2) },
    { goal: 'BERT tokens/s', target: '>= 1.5x PyTorch', measured: x(speed(bert)), met: atLeast(speed(bert), 1.5) },
    { goal: 'T5 tokens/s', target: '>= 1.5x PyTorch', measured: x(speed(t5)), met: atLeast(speed(t5), 1.5) },
    ...models.map(([name, r]) => ({ goal: `${name} peak memory`, target: '<= 0.6x PyTorch', measured: r?.torch ? `${r.ours.peak_rss_mib.toFixed(0)} / ${r.torch.peak_rss_mib.toFixed(0)} MiB (${x(memory(r))})` : 'n/a', met: atMost(memory(r), 0.6) })),
    { goal: 'time outside ORT kernels', target: '<= 3% of a step', measured: models.map(([n, r]) => `${n} ${pct(r?.ours.share_outside_kernels)}`).join(', '), met: outside.length ? outside.every((v) => v <= 0.03) : null },
  ];

  const md: string[] = [
    `# npm run bench -- all`,
    '',
    `${started}, ${os.availableParallelism()} cores, load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${minutes.toFixed(1)} min. Each benchmark ran in its own process; PyTorch's figures are from this invocation.`,
    '',
    '| | ' + models.map(([n]) => n).join(' | ') + ' |',
    '| --- | ' + models.map(() => '---').join(' | ') + ' |',
    row('ours, tokens/s', models, (r) => r.ours.tokens_per_s.toFixed(0)),
    row('PyTorch, tokens/s', models, (r) => (r.torch ? r.torch.tokens_per_s.toFixed(0) : `skipped (${r.torch_skipped ?? '?'})`)),
    row('**ratio**', models, (r) => `**${x(speed(r))}**`),
    row('our MFU / incl. LM head, of the ORT matmul peak', models, (r) => `${pct(r.ours.mfu)} / ${pct(r.ours.mfu_incl_lm_head)} of ${r.ours.peak_gflops_ort_matmul.toFixed(0)} GFLOP/s`),
    row('PyTorch MFU of its own peak', models, (r) => (r.torch ? `${pct(r.torch.mfu)} of ${Number(r.torch.peak_gflops).toFixed(0)} GFLOP/s` : 'n/a')),
    row('peak RSS, ours / PyTorch', models, (r) => (r.torch ? `${r.ours.peak_rss_mib.toFixed(0)} / ${r.torch.peak_rss_mib.toFixed(0)} MiB (${x(memory(r))})` : `${r.ours.peak_rss_mib.toFixed(0)} MiB`)),
    row('step time outside ORT kernels', models, (r) => pct(r.ours.share_outside_kernels)),
    '',
    '## Goals (issue 12)',
    '',
    '| goal | target | measured | met |',
    '| --- | --- | --- | --- |',
    ...goals.map((g) => `| ${g.goal} | ${g.target} | ${g.measured} | ${g.met === null ? 'not measured' : g.met ? 'yes' : 'no'} |`),
  ];
  if (profile) {
    md.push('', `## Where a GPT-2 step goes (profile: ${profile.stepMs.toFixed(0)} ms/step, matmuls at ${profile.matmulGflops.toFixed(1)} GFLOP/s, ${pct(profile.outsideShare)} outside kernels)`, '');
    md.push(...profileRows('model part', profile.byPart), '', ...profileRows('op type (top 12)', profile.byOp.slice(0, 12)));
  }
  if (ckpt) {
    md.push('', '## --gradient-checkpointing (GPT-2 4x256, batch 8)', '', '| seq | peak RSS plain -> checkpointing | step time plain -> checkpointing |', '| ---: | --- | --- |');
    for (const p of ckpt.ratios) {
      const [plain, c] = [false, true].map((g) => ckpt.runs.find((r) => r.seq === p.seq && r.gradient_checkpointing === g)!);
      md.push(`| ${p.seq} | ${plain.peak_rss_mib.toFixed(0)} -> ${c.peak_rss_mib.toFixed(0)} MiB (${p.rss_ratio.toFixed(2)}x) | ${plain.step_time_median_s.toFixed(2)} -> ${c.step_time_median_s.toFixed(2)} s (${p.step_time_ratio.toFixed(2)}x) |`);
    }
  }
  if (scaling) {
    md.push('', '## Scaling (GPT-2, 4 layers, vocabulary 8192)', '', '| hidden | seq | batch | ours tokens/s | PyTorch tokens/s | ratio | ours / PyTorch peak RSS (MiB) |', '| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const p of scaling.points)
      md.push(`| ${p.hidden} | ${p.seq} | ${p.batch} | ${p.ours.tokens_per_s.toFixed(0)} | ${p.torch ? p.torch.tokens_per_s.toFixed(0) : 'n/a'} | ${x(p.ratio_tokens_per_s)} | ${p.ours.peak_rss_mib.toFixed(0)} / ${p.torch ? p.torch.peak_rss_mib.toFixed(0) : 'n/a'} (${x(p.ratio_peak_rss)}) |`);
  }
  if (threads) {
    md.push('', '## Threads (GPT-2 4x256, batch 32x128)', '', '| run | tokens/s |', '| --- | ---: |');
    for (const r of threads.rows) md.push(`| ${r.label} | ${r.tokens_per_s === undefined ? 'skipped' : r.tokens_per_s.toFixed(0)} |`);
  }
  return {
    json: { bench: 'all', date: started, minutes, cores: os.availableParallelism(), ran, goals, figures: { gpt2: gpt2 ?? null, bert: bert ?? null, t5: t5 ?? null } },
    goals,
    markdown: `${md.join('\n')}\n`,
  };
}

function row(label: string, models: [string, TrainResult | undefined][], cell: (r: TrainResult) => string): string {
  return `| ${label} | ${models.map(([, r]) => (r ? cell(r) : 'not run')).join(' | ')} |`;
}

function profileRows(title: string, rows: ProfileRow[]): string[] {
  return [
    `| ${title} | ms/step | share of step | matmul GFLOP/s |`,
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.key} | ${r.ms.toFixed(1)} | ${pct(r.share)} | ${r.gflops !== undefined ? r.gflops.toFixed(1) : ''} |`),
  ];
}

// The experiment's report: results.json (everything), figures/*.svg, report.md (linking the figures) and a
// self-contained report.html (the same content, the SVGs inline). Both documents are rendered from one list of
// blocks, so they say the same thing.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { escapeXml, scoreChartSvg, type ScoreSeries } from '../train/plot.js';
import { writeFileAtomic } from '../io/files.js';
import type { Claim, Comparison, Results } from './analysis.js';
import { FAMILIES, type Family, type TaskName } from './design.js';
import { FAR_PERPLEXITY_RATIO, FAR_PIECES_RATIO } from '../train/domain.js';
import { mean, sampleSd, type Interval, type Summary } from './stats.js';

type Block =
  | { kind: 'h'; level: number; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'figure'; file: string; svg: string; caption: string };

const FAMILY_COLOR: Record<Family, string> = { bert: '#1f77b4', gpt2: '#d95f02', t5: '#1b9e77' };
const FAMILY_NAME: Record<Family, string> = { bert: 'BERT', gpt2: 'GPT-2', t5: 'T5' };

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}` : 'n/a');
const frac = (f: number) => `${+(100 * f).toPrecision(3)}%`;
const meanSd = (s: Summary) => `${pct(s.mean)} ± ${Number.isFinite(s.sd) ? pct(s.sd) : 'n/a'}`;
/** "+4.2 [1.0, 7.4]" in points (scores) or steps. */
function interval(d: Interval, unit: 'points' | 'steps'): string {
  const f = (x: number) => (unit === 'points' ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}` : `${x >= 0 ? '+' : ''}${x.toFixed(0)}`);
  if (!Number.isFinite(d.mean)) return 'n/a';
  return Number.isFinite(d.low) ? `${f(d.mean)} [${f(d.low)}, ${f(d.high)}]` : `${f(d.mean)} (one seed: no interval)`;
}

export async function writeReport(out: string, r: Results): Promise<void> {
  const blocks = reportBlocks(r);
  await mkdir(path.join(out, 'figures'), { recursive: true });
  for (const b of blocks) if (b.kind === 'figure') await writeFile(path.join(out, b.file), b.svg);
  await writeFileAtomic(path.join(out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFileAtomic(path.join(out, 'report.md'), renderMarkdown(blocks));
  await writeFileAtomic(path.join(out, 'report.html'), renderHtml(blocks));
}

/** ' (T5 writing text: 0.002)' where the text-to-text cells have their own learning rate. */
function lrExceptions(s: Results['settings']): string {
  const lr = s.finetune.text2textLr;
  return lr !== undefined && s.families.includes('t5') ? ` (T5 writing text: ${lr})` : '';
}

function reportBlocks(r: Results): Block[] {
  const s = r.settings;
  const b: Block[] = [];
  b.push({ kind: 'h', level: 1, text: 'Pretrain, then fine-tune: the paradigm measured' });
  b.push({
    kind: 'p', text: `Preset ${s.preset}: families ${s.families.map((f) => FAMILY_NAME[f]).join(', ')}; tasks ${s.tasks.join(', ')}; label fractions ${s.fractions.map(frac).join(', ')}; seeds ${s.seeds.join(', ')}. ` +
      `Models: ${s.model.layers} layers, hidden ${s.model.hidden}, ${s.model.heads} heads, sequences of ${s.model.seqLen} tokens, vocabulary ${s.model.vocabSize}; ` +
      `pretraining ${s.pretrain.steps} steps of ${s.pretrain.batchSize} sequences on ${s.corpus === 'brown' ? "Brown's training documents" : s.corpus}. ` +
      `Fine-tuning: ${s.finetune.epochs} epochs clamped to ${s.finetune.minSteps}-${s.finetune.maxSteps} steps, batch ${s.finetune.batchSize}, learning rate ${s.finetune.lr}${lrExceptions(s)}, ${s.finetune.evaluations} evaluations; ` +
      'pretrained and scratch runs of one seed share the architecture, tokenizer, data subset, order and settings; only the initial body weights differ. Scores are on held-out documents.',
  });
  if (s.leftOut.length) b.push({ kind: 'p', text: `Left out by this preset (\`--preset full\` runs them): ${s.leftOut.join('; ')}.` });
  const notRun = s.tasks.filter((t) => !r.cells.some((c) => c.task === t));
  if (notRun.length) b.push({ kind: 'p', text: `Not run (not available in this build or for these families): ${notRun.join(', ')}.` });

  b.push({
    kind: 'table', head: ['pretrained model', 'objective', 'steps', 'held-out loss', 'held-out perplexity'],
    rows: r.pretraining.map((p) => [p.variant, p.objective, String(p.steps), p.evalLoss?.toFixed(3) ?? 'n/a', p.perplexity?.toFixed(1) ?? 'n/a']),
  });

  b.push({ kind: 'h', level: 2, text: "The paradigm's claims" });
  b.push({
    kind: 'p', text: 'Each claim is a paired difference per seed (same seed, same data subset) with a 95% Student t interval over seeds. ' +
      'A claim holds when the whole interval is above zero, does not hold when it is below, and is inconclusive when it includes zero or there is one seed. ' +
      'Scores and differences are in percentage points; convergence in fine-tuning steps.',
  });
  b.push({ kind: 'list', items: claimSummary(r.claims) });
  b.push({
    kind: 'table', head: ['claim', 'family', 'task', 'at', 'measure', 'mean [95% interval]', 'verdict'],
    rows: r.claims.map((c) => [c.claim, FAMILY_NAME[c.family], c.task, c.at, c.measure, interval(c.interval, c.claim === 'faster convergence' ? 'steps' : 'points'), `**${c.verdict}**`]),
  });
  if (!r.comparisons.some((c) => c.convergence)) b.push({ kind: 'p', text: 'Better start and faster convergence need the fine-tuning curves (scheduled evaluations during fine-tuning); this build recorded none.' });

  b.push({ kind: 'h', level: 2, text: 'Pretrained vs from scratch, per cell' });
  b.push({ kind: 'p', text: 'Mean ± sample standard deviation over seeds; the difference is pretrained minus scratch with its 95% interval; convergence: the step at which each first reaches the scratch run\'s final score (mean over seeds; pretrained runs that never do count their last step).' });
  b.push({
    kind: 'table', head: ['family', 'task', 'labels', 'examples', 'metric', 'pretrained', 'scratch', 'difference [95%]', 'steps to scratch final: pretrained / scratch'],
    rows: r.comparisons.map((c) => [FAMILY_NAME[c.family], c.task, frac(c.fraction), String(c.trainExamples), c.scoreName, meanSd(c.pretrained), meanSd(c.scratch), interval(c.difference, 'points'), convergence(c)]),
  });
  for (const task of s.tasks) {
    const cmps = r.comparisons.filter((c) => c.task === task);
    if (!cmps.length) continue;
    b.push({ kind: 'figure', file: `figures/fractions-${task}.svg`, svg: fractionChart(task, cmps), caption: `${task}: held-out ${cmps[0]!.scoreName} against the share of labelled training data (mean ± sd over seeds); solid: pretrained, dashed: from scratch.` });
  }
  for (const c of r.comparisons) {
    if (c.fraction !== Math.min(...s.fractions) || !c.convergence) continue;
    const svg = curveChart(r, c);
    b.push({ kind: 'figure', file: `figures/curve-${c.family}-${c.task}.svg`, svg, caption: `${FAMILY_NAME[c.family]} on ${c.task} with ${frac(c.fraction)} of the labels: held-out ${c.scoreName} during fine-tuning (mean ± sd over seeds).` });
  }

  if (r.objectives.length) {
    b.push({ kind: 'h', level: 2, text: 'Pretraining objectives compared' });
    b.push({ kind: 'p', text: 'The same downstream tasks, label fractions, seeds and pretraining budget for each objective; differences are paired by seed against the family\'s scratch runs and against its default objective.' });
    b.push({
      kind: 'table', head: ['family', 'objective', 'task', 'labels', 'score', 'vs scratch [95%]', 'vs default objective [95%]'],
      rows: r.objectives.map((o) => [FAMILY_NAME[o.family], o.variant, o.task, frac(o.fraction), meanSd(o.score), interval(o.vsScratch, 'points'), o.vsDefault ? interval(o.vsDefault, 'points') : '(default)']),
    });
  }

  b.push({ kind: 'h', level: 2, text: 'Domain check' });
  b.push({
    kind: 'p', text: `Each pretrained model's perplexity (BERT: of masked tokens; T5: of span targets) on the task's held-out texts beside its own held-out pretraining text, and the tokenizer's pieces per word on both. ` +
      `A task is far from the pretraining text when its perplexity is more than ${FAR_PERPLEXITY_RATIO}x, or its pieces per word more than ${FAR_PIECES_RATIO}x, the pretraining text's; then transfer may not help, and pretraining on unlabelled text from the task's domain is the remedy.`,
  });
  b.push({
    kind: 'table', head: ['model', 'task', 'perplexity: pretraining text', 'perplexity: task text', 'pieces/word: pretraining', 'pieces/word: task', 'verdict'],
    rows: r.domain.map((d) => [d.variant, d.task, d.pretrainPerplexity.toFixed(1), d.taskPerplexity.toFixed(1), d.pretrainPiecesPerWord.toFixed(2), d.taskPiecesPerWord.toFixed(2), d.far ? 'far' : 'near']),
  });
  const advice = r.domain.filter((d) => d.advice).map((d) => d.advice!);
  if (advice.length) b.push({ kind: 'list', items: advice });
  return b;
}

function claimSummary(claims: Claim[]): string[] {
  const names = [...new Set(claims.map((c) => c.claim))];
  return names.map((n) => {
    const cs = claims.filter((c) => c.claim === n);
    const count = (v: string) => cs.filter((c) => c.verdict === v).length;
    return `**${n}**: holds in ${count('holds')} of ${cs.length}, does not hold in ${count('does not hold')}, inconclusive in ${count('inconclusive')}`;
  });
}

function convergence(c: Comparison): string {
  if (!c.convergence) return 'n/a (no curves)';
  const k = c.convergence;
  return `${mean(k.pretrained).toFixed(0)} / ${mean(k.scratch).toFixed(0)}${k.neverReached ? ` (${k.neverReached} never reached)` : ''}`;
}

function fractionChart(task: TaskName, cmps: Comparison[]): string {
  const series: ScoreSeries[] = [];
  for (const f of FAMILIES) {
    const mine = cmps.filter((c) => c.family === f);
    if (!mine.length) continue;
    series.push({ name: `${FAMILY_NAME[f]} pretrained`, color: FAMILY_COLOR[f], points: mine.map((c) => ({ x: c.fraction, y: c.pretrained.mean, err: c.pretrained.sd })) });
    series.push({ name: `${FAMILY_NAME[f]} scratch`, color: FAMILY_COLOR[f], dashed: true, points: mine.map((c) => ({ x: c.fraction, y: c.scratch.mean, err: c.scratch.sd })) });
  }
  return scoreChartSvg(series, { title: `${task}: score vs labelled data`, logX: true, xPercent: true, xLabel: 'share of labelled training data', yLabel: `held-out ${cmps[0]!.scoreName}` });
}

/** The mean curve over seeds (the scheduled evaluations are at the same steps for every seed of a cell). */
function meanCurve(curves: { step: number; score: number }[][]): { x: number; y: number; err: number }[] {
  const steps = [...new Set(curves.flatMap((c) => c.map((p) => p.step)))].sort((a, b) => a - b);
  return steps.map((step) => {
    const ys = curves.flatMap((c) => c.filter((p) => p.step === step).map((p) => p.score));
    return { x: step, y: mean(ys), err: sampleSd(ys) };
  });
}

function curveChart(r: Results, c: Comparison): string {
  const at = r.cells.filter((x) => x.family === c.family && x.task === c.task && x.fraction === c.fraction);
  const pre = at.filter((x) => x.init === 'pretrained' && x.variant === c.variant).map((x) => x.curve);
  const scr = at.filter((x) => x.init === 'scratch').map((x) => x.curve);
  return scoreChartSvg([
    { name: 'pretrained', color: FAMILY_COLOR[c.family], points: meanCurve(pre) },
    { name: 'from scratch', color: '#777777', dashed: true, points: meanCurve(scr) },
  ], { title: `${FAMILY_NAME[c.family]}, ${c.task}, ${frac(c.fraction)} of labels: fine-tuning`, xLabel: 'fine-tuning step', yLabel: `held-out ${c.scoreName}` });
}

function renderMarkdown(blocks: Block[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return `${blocks.map((b) => {
    switch (b.kind) {
      case 'h': return `${'#'.repeat(b.level)} ${b.text}`;
      case 'p': return b.text;
      case 'list': return b.items.map((i) => `- ${i}`).join('\n');
      case 'table': return [`| ${b.head.map(cell).join(' | ')} |`, `| ${b.head.map(() => '---').join(' | ')} |`, ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
      case 'figure': return `![${b.caption}](${b.file})\n\n*${b.caption}*`;
    }
  }).join('\n\n')}\n`;
}

/** Markdown's inline `code` and **bold** as HTML, everything else escaped. */
function inline(s: string): string {
  return escapeXml(s).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>').replace(/`(.+?)`/g, '<code>$1</code>');
}

function renderHtml(blocks: Block[]): string {
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'h': return `<h${b.level}>${inline(b.text)}</h${b.level}>`;
      case 'p': return `<p>${inline(b.text)}</p>`;
      case 'list': return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
      case 'table': return `<table><thead><tr>${b.head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
      case 'figure': return `<figure>${b.svg.replace(/^<\?xml[^>]*>/, '')}<figcaption>${inline(b.caption)}</figcaption></figure>`;
    }
  }).join('\n');
  const title = blocks.find((b) => b.kind === 'h')?.kind === 'h' ? (blocks[0] as { text: string }).text : 'experiment';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:14px}code{background:#f4f4f4;padding:0 3px}
</style></head><body>
${body}
</body></html>
`;
}

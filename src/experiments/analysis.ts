// From finished cells to the experiment's results: per cell mean and sd over seeds for pretrained and scratch,
// the paired difference with its 95% interval, convergence, the paradigm's four claims with verdicts, and the
// objective comparisons. Pure: no IO.
import { domainAdvice, type DomainCheck } from '../train/domain.js';
import { defaultVariant, type ExperimentSettings, type Family, type Init, type TaskName } from './design.js';
import type { CellRun } from './tasks.js';
import { firstReach, pairedDifference, summarize, verdict, type Interval, type Summary, type Verdict } from './stats.js';

/** One finished cell, as saved in <out>/cells/<id>.json: which cell, and its run's scores. */
export interface CellRecord extends Omit<CellRun, 'interrupted'> {
  id: string;
  variant: string;
  family: Family;
  objective: string;
  task: TaskName;
  fraction: number;
  init: Init;
  seed: number;
  scoreName: string;
}

/** Pretrained vs scratch for one family, task and label fraction. */
export interface Comparison {
  family: Family;
  variant: string;
  task: TaskName;
  fraction: number;
  scoreName: string;
  trainExamples: number;
  seeds: number[];
  pretrained: Summary;
  scratch: Summary;
  /** Final held-out score, pretrained minus scratch, paired by seed. */
  difference: Interval;
  /** Score at the first scheduled evaluation, pretrained minus scratch (absent without curves). */
  start?: Interval;
  /**
   * Steps to reach the scratch run's final score (same seed): per seed for each init, and scratch minus pretrained
   * (positive: pretrained gets there sooner). A pretrained run that never reaches it counts its last step.
   */
  convergence?: { pretrained: number[]; scratch: number[]; neverReached: number; saved: Interval };
}

export interface Claim {
  claim: 'better start' | 'faster convergence' | 'better generalisation' | 'largest gain with scarce labels';
  family: Family;
  task: TaskName;
  /** The label fraction(s) the claim is tested at. */
  at: string;
  measure: string;
  interval: Interval;
  verdict: Verdict;
}

export interface ObjectiveRow {
  variant: string;
  family: Family;
  objective: string;
  task: TaskName;
  fraction: number;
  scoreName: string;
  score: Summary;
  /** Minus the family's scratch cells and minus its default objective's pretrained cells, paired by seed. */
  vsScratch: Interval;
  vsDefault?: Interval;
}

/** A finished pretraining: its held-out loss and perplexity (the objective's). */
export interface PretrainingSummary {
  variant: string;
  family: Family;
  objective: string;
  steps: number;
  evalLoss?: number;
  perplexity?: number;
}

export interface Results {
  settings: ExperimentSettings;
  pretraining: PretrainingSummary[];
  comparisons: Comparison[];
  claims: Claim[];
  objectives: ObjectiveRow[];
  domain: (DomainCheck & { advice?: string })[];
  cells: CellRecord[];
}

const key = (c: Pick<CellRecord, 'task' | 'fraction' | 'seed'>) => `${c.task}|${c.fraction}|${c.seed}`;

/** Pairs a's and b's cells by (task, fraction, seed); only seeds both have count. */
function paired(a: CellRecord[], b: CellRecord[]): [CellRecord, CellRecord][] {
  const byKey = new Map(b.map((c) => [key(c), c]));
  return a.flatMap((c) => (byKey.has(key(c)) ? [[c, byKey.get(key(c))!] as [CellRecord, CellRecord]] : [])).sort((x, y) => x[0].seed - y[0].seed);
}

function compare(family: Family, variant: string, pre: CellRecord[], scr: CellRecord[]): Comparison | undefined {
  const pairs = paired(pre, scr);
  if (!pairs.length) return undefined;
  const [p0] = pairs[0]!;
  const c: Comparison = {
    family, variant, task: p0.task, fraction: p0.fraction, scoreName: p0.scoreName, trainExamples: p0.trainExamples,
    seeds: pairs.map(([p]) => p.seed),
    pretrained: summarize(pairs.map(([p]) => p.score)), scratch: summarize(pairs.map(([, s]) => s.score)),
    difference: pairedDifference(pairs.map(([p]) => p.score), pairs.map(([, s]) => s.score)),
  };
  if (pairs.every(([p, s]) => p.curve.length && s.curve.length)) {
    c.start = pairedDifference(pairs.map(([p]) => p.curve[0]!.score), pairs.map(([, s]) => s.curve[0]!.score));
    const pSteps: number[] = [];
    const sSteps: number[] = [];
    let never = 0;
    for (const [p, s] of pairs) {
      const reachedP = firstReach(p.curve, s.score);
      if (reachedP === undefined) never++;
      pSteps.push(reachedP ?? p.steps);
      sSteps.push(firstReach(s.curve, s.score) ?? s.steps);
    }
    c.convergence = { pretrained: pSteps, scratch: sSteps, neverReached: never, saved: pairedDifference(sSteps, pSteps) };
  }
  return c;
}

/** The pretrained and scratch cells of one (family, task, fraction), and the comparisons in the settings' order. */
function comparisons(s: ExperimentSettings, cells: CellRecord[]): Comparison[] {
  const out: Comparison[] = [];
  for (const family of s.families) {
    const v = defaultVariant(family).id;
    for (const task of s.tasks)
      for (const fraction of s.fractions) {
        const at = cells.filter((c) => c.family === family && c.task === task && c.fraction === fraction);
        const cmp = compare(family, v, at.filter((c) => c.init === 'pretrained' && c.variant === v), at.filter((c) => c.init === 'scratch'));
        if (cmp) out.push(cmp);
      }
  }
  return out;
}

function claims(s: ExperimentSettings, cmps: Comparison[], cells: CellRecord[]): Claim[] {
  const out: Claim[] = [];
  const pct = (f: number) => `${+(100 * f).toPrecision(3)}%`;
  for (const c of cmps) {
    const base = { family: c.family, task: c.task, at: pct(c.fraction) };
    if (c.start) out.push({ ...base, claim: 'better start', measure: `${c.scoreName} at the first evaluation, pretrained - scratch`, interval: c.start, verdict: verdict(c.start) });
    if (c.convergence) out.push({ ...base, claim: 'faster convergence', measure: "steps to reach scratch's final score, scratch - pretrained", interval: c.convergence.saved, verdict: verdict(c.convergence.saved) });
    out.push({ ...base, claim: 'better generalisation', measure: `final held-out ${c.scoreName}, pretrained - scratch`, interval: c.difference, verdict: verdict(c.difference) });
  }
  // Scarce labels: the gain at the smallest fraction minus the gain at the largest, paired by seed.
  if (s.fractions.length >= 2) {
    const lo = Math.min(...s.fractions);
    const hi = Math.max(...s.fractions);
    for (const family of s.families)
      for (const task of s.tasks) {
        const v = defaultVariant(family).id;
        const gain = (fraction: number) => {
          const at = cells.filter((c) => c.family === family && c.task === task && c.fraction === fraction);
          return new Map(paired(at.filter((c) => c.init === 'pretrained' && c.variant === v), at.filter((c) => c.init === 'scratch')).map(([p, q]) => [p.seed, p.score - q.score]));
        };
        const gLo = gain(lo);
        const gHi = gain(hi);
        const seeds = [...gLo.keys()].filter((k) => gHi.has(k)).sort((a, b) => a - b);
        if (!seeds.length) continue;
        const d = pairedDifference(seeds.map((k) => gLo.get(k)!), seeds.map((k) => gHi.get(k)!));
        out.push({ claim: 'largest gain with scarce labels', family, task, at: `${pct(lo)} vs ${pct(hi)}`, measure: `gain at ${pct(lo)} - gain at ${pct(hi)}`, interval: d, verdict: verdict(d) });
      }
  }
  return out;
}

function objectiveRows(s: ExperimentSettings, cells: CellRecord[]): ObjectiveRow[] {
  const rows: ObjectiveRow[] = [];
  const variants = [...new Set(cells.filter((c) => c.init === 'pretrained').map((c) => c.variant))];
  for (const family of s.families) {
    const def = defaultVariant(family).id;
    for (const v of variants.filter((x) => cells.some((c) => c.variant === x && c.family === family)))
      for (const task of s.tasks)
        for (const fraction of s.fractions) {
          const at = cells.filter((c) => c.family === family && c.task === task && c.fraction === fraction);
          const mine = at.filter((c) => c.variant === v && c.init === 'pretrained');
          if (!mine.length) continue;
          const vsScratch = paired(mine, at.filter((c) => c.init === 'scratch'));
          const vsDef = paired(mine, at.filter((c) => c.variant === def && c.init === 'pretrained'));
          rows.push({
            variant: v, family, objective: mine[0]!.objective, task, fraction, scoreName: mine[0]!.scoreName,
            score: summarize(mine.map((c) => c.score)),
            vsScratch: pairedDifference(vsScratch.map(([a]) => a.score), vsScratch.map(([, b]) => b.score)),
            ...(v === def ? {} : { vsDefault: pairedDifference(vsDef.map(([a]) => a.score), vsDef.map(([, b]) => b.score)) }),
          });
        }
  }
  return rows;
}

export function analyze(s: ExperimentSettings, pretraining: PretrainingSummary[], cells: CellRecord[], domain: DomainCheck[]): Results {
  const cmps = comparisons(s, cells);
  return {
    settings: s, pretraining, comparisons: cmps, claims: claims(s, cmps, cells), objectives: s.objectives ? objectiveRows(s, cells) : [],
    domain: domain.map((d) => ({ ...d, ...(d.far ? { advice: domainAdvice(d) } : {}) })), cells,
  };
}

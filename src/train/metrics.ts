// Evaluation metrics with scikit-learn's semantics. No Node imports.

function checkPairs(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, what: string): void {
  if (yTrue.length !== yPred.length) throw new Error(`${what}: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
}

/** Fraction of equal labels; NaN for empty input. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkPairs(yTrue, yPred, 'accuracy');
  if (yTrue.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/**
 * Word accuracy of generated word sequences against target ones (a text-to-text tagger's tags): the i-th generated
 * word is the prediction for the i-th target word, a missing one counts wrong and extra ones are ignored, over all
 * target words; NaN when there are none. The word accuracy of the tagging heads, for a tagger that writes its tags.
 */
export function wordAccuracy(targets: readonly string[], outputs: readonly string[]): number {
  if (targets.length !== outputs.length) throw new Error(`wordAccuracy: ${targets.length} targets but ${outputs.length} outputs`);
  let ok = 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) {
    const want = targets[i]!.split(/\s+/).filter(Boolean);
    const got = outputs[i]!.split(/\s+/).filter(Boolean);
    n += want.length;
    for (let j = 0; j < want.length; j++) if (got[j] === want[j]) ok++;
  }
  return n === 0 ? NaN : ok / n;
}

export interface ConfusionMatrix {
  /** The label of each row/column, ascending. */
  labels: number[];
  /** matrix[i][j]: samples of true label labels[i] predicted as labels[j]. */
  matrix: number[][];
}

/** sklearn.metrics.confusion_matrix: labels default to the sorted union of yTrue and yPred. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels?: readonly number[]): ConfusionMatrix {
  checkPairs(yTrue, yPred, 'confusionMatrix');
  const ls = labels ? [...labels] : [...new Set([...Array.from(yTrue), ...Array.from(yPred)])].sort((a, b) => a - b);
  const index = new Map(ls.map((l, i) => [l, i]));
  const matrix = ls.map(() => new Array<number>(ls.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const r = index.get(yTrue[i]!);
    const c = index.get(yPred[i]!);
    // As in sklearn, pairs with a label outside `labels` are not counted.
    if (r !== undefined && c !== undefined) matrix[r]![c]!++;
  }
  return { labels: ls, matrix };
}

export interface ClassScores {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of this label. */
  support: number;
}

/** Per-class precision, recall, F1; 0 where undefined (sklearn zero_division=0). */
export function perClassScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels?: readonly number[]): ClassScores[] {
  checkPairs(yTrue, yPred, 'perClassScores');
  const ls = labels ? [...labels] : [...new Set([...Array.from(yTrue), ...Array.from(yPred)])].sort((a, b) => a - b);
  return ls.map((label) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === label;
      const p = yPred[i] === label;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0;
    return { label, precision, recall, f1, support: tp + fn };
  });
}

/**
 * Macro-averaged F1 as sklearn's f1_score(average="macro"): the mean of the
 * per-class F1 over the labels present in yTrue or yPred (or `labels`), with
 * F1 = 0 for a class that is never true nor predicted correctly.
 */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels?: readonly number[]): number {
  const scores = perClassScores(yTrue, yPred, labels);
  if (!scores.length) return NaN;
  return scores.reduce((s, c) => s + c.f1, 0) / scores.length;
}

/** Mean of `values`, weighted (e.g. by token counts per batch) when weights are given. */
export function weightedMean(values: ArrayLike<number>, weights?: ArrayLike<number>): number {
  if (weights && weights.length !== values.length) throw new Error(`weightedMean: ${values.length} values but ${weights.length} weights`);
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights ? weights[i]! : 1;
    sum += values[i]! * w;
    total += w;
  }
  return total ? sum / total : NaN;
}

/** exp(mean loss): pass the mean per-token cross-entropy (nats). */
export function perplexity(meanLoss: number): number {
  return Math.exp(meanLoss);
}

/**
 * Token classification scores (seqeval-free, per token as run_ner.py's accuracy): the pairs whose true label is
 * not `ignore` (-100: continuation pieces and special tokens) are kept; accuracy over them and macro-F1 over the
 * tags present in the kept truth or predictions.
 */
export function tokenClassificationScores(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, ignore = -100): { accuracy: number; macroF1: number; count: number } {
  const { yTrue: t, yPred: p } = withoutIgnored(yTrue, yPred, ignore);
  return { accuracy: accuracy(t, p), macroF1: macroF1(t, p), count: t.length };
}

/** The (truth, prediction) pairs whose true label is not `ignore` (-100: continuation pieces, special tokens). */
export function withoutIgnored(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, ignore = -100): { yTrue: number[]; yPred: number[] } {
  checkPairs(yTrue, yPred, 'withoutIgnored');
  const t: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] === ignore) continue;
    t.push(yTrue[i]!);
    p.push(yPred[i]!);
  }
  return { yTrue: t, yPred: p };
}

// ---- extractive QA: the official SQuAD v1.1 evaluation script (evaluate-v1.1.py) ----

/** string.punctuation: Python's ASCII punctuation, the only characters the script removes. */
const SQUAD_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** normalize_answer: lower case, punctuation removed, the articles a/an/the removed, whitespace collapsed. */
export function squadNormalize(s: string): string {
  const noPunct = [...s.toLowerCase()].filter((c) => !SQUAD_PUNCTUATION.has(c)).join('');
  // Python's \b on str is Unicode-aware: a word character is a letter, a digit or "_".
  const noArticles = noPunct.replace(/(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu, ' ');
  return noArticles.split(/\s+/u).filter(Boolean).join(' ');
}

/** exact_match_score: 1 when the normalised answers are equal, else 0. */
export function squadExactMatch(prediction: string, truth: string): number {
  return squadNormalize(prediction) === squadNormalize(truth) ? 1 : 0;
}

/** f1_score: the F1 of the bags of normalised tokens (0 when they share none). */
export function squadF1(prediction: string, truth: string): number {
  const p = squadNormalize(prediction).split(' ').filter(Boolean);
  const t = squadNormalize(truth).split(' ').filter(Boolean);
  const counts = new Map<string, number>();
  for (const w of t) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      same++;
      counts.set(w, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / t.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * The script's scores over questions: each prediction against its best-matching gold answer
 * (metric_max_over_ground_truths), averaged. Fractions 0..1 like every metric here (the script prints x100).
 */
export function squadScores(predictions: readonly string[], golds: readonly (readonly string[])[]): { exactMatch: number; f1: number; count: number } {
  if (predictions.length !== golds.length) throw new Error(`squadScores: ${predictions.length} predictions but ${golds.length} questions`);
  if (!predictions.length) return { exactMatch: NaN, f1: NaN, count: 0 };
  let em = 0;
  let f1 = 0;
  predictions.forEach((p, i) => {
    const g = golds[i]!;
    if (!g.length) throw new Error(`squadScores: question ${i} has no gold answer`);
    em += Math.max(...g.map((t) => squadExactMatch(p, t)));
    f1 += Math.max(...g.map((t) => squadF1(p, t)));
  });
  return { exactMatch: em / predictions.length, f1: f1 / predictions.length, count: predictions.length };
}

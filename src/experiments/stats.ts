// The statistics of the experiment: mean and sample standard deviation over seeds, the paired
// pretrained-minus-scratch difference with a Student t interval, the verdict a claim gets from that interval, and
// the step at which a fine-tuning curve first reaches a score. Pure functions, no Node imports.

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (Lentz's method, as Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF), e.g. t(0.975, 4) = 2.776. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  let lo = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean, sample sd and count of values (seeds). */
export interface Summary {
  mean: number;
  sd: number;
  n: number;
}

export function summarize(xs: readonly number[]): Summary {
  return { mean: mean(xs), sd: sampleSd(xs), n: xs.length };
}

/** A mean with its 95% t interval; `low`/`high` are NaN when there are fewer than two values. */
export interface Interval extends Summary {
  low: number;
  high: number;
}

/** The 95% Student t interval of the mean of `xs` (paired differences, one per seed). */
export function tInterval(xs: readonly number[], level = 0.95): Interval {
  const s = summarize(xs);
  if (s.n < 2) return { ...s, low: NaN, high: NaN };
  const half = (studentTQuantile(1 - (1 - level) / 2, s.n - 1) * s.sd) / Math.sqrt(s.n);
  return { ...s, low: s.mean - half, high: s.mean + half };
}

/** Paired differences a[i] - b[i] (same seed, same data subset) and their interval. */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length) throw new Error(`paired difference of ${a.length} and ${b.length} values`);
  return tInterval(a.map((x, i) => x - b[i]!));
}

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/**
 * The verdict on "the difference is positive": holds when the whole interval lies above zero, does not hold when
 * it lies below, inconclusive when it includes zero or cannot be computed (one seed).
 */
export function verdict(d: Interval): Verdict {
  if (!(d.n >= 2) || !Number.isFinite(d.low) || !Number.isFinite(d.high)) return 'inconclusive';
  if (d.low > 0) return 'holds';
  if (d.high < 0) return 'does not hold';
  return 'inconclusive';
}

/** The first step of a curve whose score reaches `target` (>=); undefined when it never does. */
export function firstReach(curve: readonly { step: number; score: number }[], target: number): number | undefined {
  for (const p of curve) if (p.score >= target - 1e-12) return p.step;
  return undefined;
}

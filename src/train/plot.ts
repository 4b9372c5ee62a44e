// Loss curves as standalone SVG: raw train loss (faint), smoothed train loss,
// eval loss points; axes with ticks, labels, title and legend. Pure string
// building, no Node imports (the browser can reuse it).

export interface LossPoint {
  step: number;
  loss: number;
}

export interface LossRun {
  /** Shown in the legend when several runs share a plot ("pretrained", "scratch"). */
  name?: string;
  train: readonly LossPoint[];
  eval?: readonly LossPoint[];
  /** CSS color; default from a colour-blind-friendly palette. */
  color?: string;
}

export interface LossCurveOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Logarithmic loss axis. */
  logY?: boolean;
  /**
   * EMA weight in [0, 1) for the smoothed train line (as TensorBoard's
   * slider, but run forwards and backwards so the line does not lag);
   * default chosen from the number of points. 0 = no smoothed line.
   */
  smoothing?: number;
  xLabel?: string;
  yLabel?: string;
  /** The legend's word for the `train` series ("train" by default; "" = the run's name alone, for plots that are not loss curves). */
  trainLabel?: string;
  /** Drawn at most this many vertices per line; longer series are thinned (keeping min and max per pixel). */
  maxPointsPerLine?: number;
}

// Okabe-Ito / Tableau-like colours that stay distinct for colour-blind readers.
const PALETTE = ['#1f77b4', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d'];
const EVAL_COLOR_SINGLE = '#d95f02';
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\"";

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Debiased exponential moving average, as TensorBoard's smoothing slider. */
export function smoothEma(values: readonly number[], weight: number): number[] {
  const out: number[] = [];
  let last = 0;
  let debias = 0;
  for (const v of values) {
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    out.push(last / debias);
  }
  return out;
}

/** Forward then backward debiased EMA: smooth like smoothEma but without its lag behind a falling loss. */
export function smoothZeroPhase(values: readonly number[], weight: number): number[] {
  return smoothEma(smoothEma(values, weight).reverse(), weight).reverse();
}

export function defaultSmoothing(n: number): number {
  if (n < 100) return 0;
  return Math.min(0.97, Math.max(0, 1 - 80 / n));
}

/** "Nice" tick values (1, 2, 2.5, 5 x 10^k) covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Ticks for a log axis: decades, with 2 and 5 (or every integer mantissa) in between when the range is short. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(hi > lo) || lo <= 0) return [lo];
  const decades = Math.log10(hi / lo);
  if (decades < 0.5) return niceTicks(lo, hi, 5);
  const mantissas = decades > 3 ? [1] : decades > 1.2 ? [1, 2, 5] : [1, 1.5, 2, 3, 4, 5, 6, 8];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

/** Tick labels: 1500 -> "1.5k", 0.25 -> "0.25", 3 -> "3". */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a !== 0 && a < 1e-3) return v.toExponential(0);
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}

interface Scale {
  (v: number): number;
}

function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

/** Keeps at most about `max` vertices: first/min/max/last of each x bucket, so spikes stay visible. */
function thin(xs: number[], ys: number[], max: number): [number[], number[]] {
  if (xs.length <= max) return [xs, ys];
  const buckets = Math.max(1, Math.floor(max / 4));
  const x0 = xs[0]!;
  const span = xs[xs.length - 1]! - x0 || 1;
  const ox: number[] = [];
  const oy: number[] = [];
  let start = 0;
  for (let b = 0; b < buckets && start < xs.length; b++) {
    const limit = x0 + ((b + 1) * span) / buckets;
    let end = start;
    while (end < xs.length && (xs[end]! <= limit || b === buckets - 1)) end++;
    if (end === start) continue;
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (ys[i]! < ys[lo]!) lo = i;
      if (ys[i]! > ys[hi]!) hi = i;
    }
    for (const i of [...new Set([start, lo, hi, end - 1])].sort((a, b) => a - b)) {
      ox.push(xs[i]!);
      oy.push(ys[i]!);
    }
    start = end;
  }
  return [ox, oy];
}

function polyline(xs: number[], ys: number[], sx: Scale, sy: Scale, attrs: string): string {
  if (!xs.length) return '';
  const pts = xs.map((x, i) => `${fmt(sx(x))},${fmt(sy(ys[i]!))}`).join(' ');
  return `<polyline fill="none" stroke-linejoin="round" stroke-linecap="round" ${attrs} points="${pts}"/>`;
}

function clean(points: readonly LossPoint[] | undefined, logY: boolean): LossPoint[] {
  return (points ?? [])
    .filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss) && (!logY || p.loss > 0))
    .slice()
    .sort((a, b) => a.step - b.step);
}

/** The opening of a plot: the svg element, white background, title; margins leave room for ticks and labels. */
function startSvg(W: number, H: number, title: string, right = 24): { m: Frame['m']; pw: number; ph: number; parts: string[] } {
  const m = { top: 48, right, bottom: 56, left: 72 };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="17" font-weight="600" fill="#222">${escapeXml(title)}</text>`,
  ];
  return { m, pw: W - m.left - m.right, ph: H - m.top - m.bottom, parts };
}

interface Frame {
  W: number;
  H: number;
  m: { top: number; right: number; bottom: number; left: number };
  pw: number;
  ph: number;
  xTicks: number[];
  yTicks: number[];
  sx: Scale;
  sy: Scale;
  xLabel: string;
  yLabel: string;
  /** x tick labels; default formatTick. */
  formatX?: (v: number) => string;
}

/** Grid lines, ticks, tick labels, axis lines and axis labels. */
function drawAxes(parts: string[], f: Frame): void {
  const { H, m, pw, ph, xTicks, yTicks, sx, sy } = f;
  parts.push('<g stroke="#e6e6e6" stroke-width="1">');
  for (const t of yTicks) parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${fmt(sy(t))}" y2="${fmt(sy(t))}"/>`);
  for (const t of xTicks) parts.push(`<line x1="${fmt(sx(t))}" x2="${fmt(sx(t))}" y1="${m.top}" y2="${m.top + ph}"/>`);
  parts.push('</g>');
  parts.push('<g font-size="12" fill="#444">');
  for (const t of yTicks) parts.push(`<text x="${m.left - 8}" y="${fmt(sy(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`);
  for (const t of xTicks) parts.push(`<text x="${fmt(sx(t))}" y="${m.top + ph + 18}" text-anchor="middle">${(f.formatX ?? formatTick)(t)}</text>`);
  parts.push('</g>');
  parts.push(`<g stroke="#555" stroke-width="1">`);
  for (const t of yTicks) parts.push(`<line x1="${m.left - 4}" x2="${m.left}" y1="${fmt(sy(t))}" y2="${fmt(sy(t))}"/>`);
  for (const t of xTicks) parts.push(`<line x1="${fmt(sx(t))}" x2="${fmt(sx(t))}" y1="${m.top + ph}" y2="${m.top + ph + 4}"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}"/>`);
  parts.push('</g>');
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle" font-size="13" fill="#333">${escapeXml(f.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#333">${escapeXml(f.yLabel)}</text>`);
}

interface LegendEntry {
  label: string;
  draw: (x: number, y: number) => string;
}

/** The width of a legend box for these labels. */
const legendWidth = (labels: readonly string[]): number => 22 + 8 + Math.max(0, ...labels.map((l) => l.length)) * 6.8 + 20;

/** A legend box whose top right corner is at (right, top). */
function drawLegend(parts: string[], entries: readonly LegendEntry[], right: number, top: number): void {
  if (!entries.length) return;
  const lineH = 20;
  const boxW = legendWidth(entries.map((e) => e.label));
  const boxH = entries.length * lineH + 10;
  const bx = right - boxW;
  const by = top;
  parts.push(`<g font-size="12" fill="#333">`);
  parts.push(`<rect x="${fmt(bx)}" y="${by}" width="${fmt(boxW)}" height="${boxH}" rx="4" fill="#ffffff" fill-opacity="0.88" stroke="#cccccc"/>`);
  entries.forEach((e, i) => {
    const y = by + 15 + i * lineH;
    parts.push(e.draw(Math.round(bx + 10), y));
    parts.push(`<text x="${fmt(bx + 40)}" y="${y + 4}">${escapeXml(e.label)}</text>`);
  });
  parts.push('</g>');
}

/** One run: train loss (raw + smoothed) and eval loss. */
export function lossCurveSvg(points: { train: readonly LossPoint[]; eval?: readonly LossPoint[] }, opts: LossCurveOptions = {}): string {
  const run: LossRun = { train: points.train };
  if (points.eval) run.eval = points.eval;
  return lossCurvesSvg([run], opts);
}

/** Several runs on one plot (e.g. pretrained vs from scratch), one colour each. */
export function lossCurvesSvg(runs: readonly LossRun[], opts: LossCurveOptions = {}): string {
  const W = opts.width ?? 800;
  const H = opts.height ?? 480;
  const logY = opts.logY ?? false;
  const maxPts = opts.maxPointsPerLine ?? 2000;
  const title = opts.title ?? 'Loss';
  const single = runs.length === 1;

  const data = runs.map((r, i) => {
    const train = clean(r.train, logY);
    const evalPts = clean(r.eval, logY);
    const w = opts.smoothing ?? defaultSmoothing(train.length);
    const smooth = smoothZeroPhase(train.map((p) => p.loss), Math.min(Math.max(w, 0), 0.999));
    const color = r.color ?? PALETTE[i % PALETTE.length]!;
    // Many eval points read better as a line than as a string of beads.
    const denseEval = evalPts.length > 60;
    return { name: r.name, train, evalPts, smooth, color, evalColor: single && !r.color ? EVAL_COLOR_SINGLE : color, showSmooth: w > 0, denseEval };
  });

  const allX = data.flatMap((d) => [...d.train, ...d.evalPts].map((p) => p.step));
  const allY = data.flatMap((d) => [...d.train.map((p) => p.loss), ...d.evalPts.map((p) => p.loss)]);

  const { m, pw, ph, parts } = startSvg(W, H, title);

  if (!allX.length) {
    parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph / 2}" text-anchor="middle" font-size="14" fill="#777">no data</text>`);
    parts.push('</svg>');
    return `${parts.join('\n')}\n`;
  }

  let x0 = Math.min(...allX);
  let x1 = Math.max(...allX);
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  const xTicks = niceTicks(x0, x1, Math.max(3, Math.round(pw / 110)));
  // Start the axis at a tick at or below the first step (usually 0).
  x0 = Math.min(x0, xTicks[0]!);
  let y0 = Math.min(...allY);
  let y1 = Math.max(...allY);
  let yTicks: number[];
  let sy: Scale;
  if (logY) {
    if (y0 === y1) {
      y0 /= 1.5;
      y1 *= 1.5;
    }
    const pad = (Math.log10(y1) - Math.log10(y0)) * 0.05;
    y0 = 10 ** (Math.log10(y0) - pad);
    y1 = 10 ** (Math.log10(y1) + pad);
    yTicks = logTicks(y0, y1);
    const l = linearScale(Math.log10(y0), Math.log10(y1), m.top + ph, m.top);
    sy = (v) => l(Math.log10(v));
  } else {
    if (y0 === y1) {
      y0 -= 1;
      y1 += 1;
    }
    const pad = (y1 - y0) * 0.05;
    y0 = Math.max(y0 >= 0 ? 0 : -Infinity, y0 - pad);
    y1 += pad;
    yTicks = niceTicks(y0, y1, Math.max(3, Math.round(ph / 50)));
    sy = linearScale(y0, y1, m.top + ph, m.top);
  }
  const sx = linearScale(x0, x1, m.left, m.left + pw);

  drawAxes(parts, { W, H, m, pw, ph, xTicks, yTicks, sx, sy, xLabel: opts.xLabel ?? 'step', yLabel: (opts.yLabel ?? 'loss') + (logY ? ' (log scale)' : '') });

  // Data, clipped to the plot area.
  parts.push(`<defs><clipPath id="plot-area-${W}x${H}"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath></defs>`);
  parts.push(`<g clip-path="url(#plot-area-${W}x${H})">`);
  for (const d of data) {
    const xs = d.train.map((p) => p.step);
    const [rx, ry] = thin(xs, d.train.map((p) => p.loss), maxPts);
    const rawOpacity = d.showSmooth ? 0.22 : 0.9;
    parts.push(polyline(rx, ry, sx, sy, `stroke="${d.color}" stroke-opacity="${rawOpacity}" stroke-width="${d.showSmooth ? 1 : 1.8}"`));
  }
  for (const d of data) {
    if (!d.showSmooth) continue;
    const [smx, smy] = thin(d.train.map((p) => p.step), d.smooth, maxPts);
    parts.push(polyline(smx, smy, sx, sy, `stroke="${d.color}" stroke-width="2.2"`));
  }
  parts.push('</g>');
  // Eval markers are not clipped: points on the plot's edge stay whole circles.
  for (const d of data) {
    if (!d.evalPts.length) continue;
    const ex = d.evalPts.map((p) => p.step);
    const ey = d.evalPts.map((p) => p.loss);
    if (d.denseEval) {
      const [tx, ty] = thin(ex, ey, maxPts);
      parts.push(polyline(tx, ty, sx, sy, `stroke="${d.evalColor}" stroke-width="1.8"`));
      continue;
    }
    parts.push(polyline(ex, ey, sx, sy, `stroke="${d.evalColor}" stroke-width="1.4" stroke-dasharray="5 4"`));
    parts.push(`<g fill="${d.evalColor}" stroke="#fff" stroke-width="1.2">`);
    ex.forEach((x, i) => parts.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(ey[i]!))}" r="4"/>`));
    parts.push('</g>');
  }

  // Legend, top right inside the plot.
  const entries: LegendEntry[] = [];
  for (const d of data) {
    const prefix = d.name ? `${d.name}: ` : '';
    if (d.train.length) {
      if (d.showSmooth) {
        entries.push({ label: `${prefix}train (smoothed)`, draw: (x, y) => `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${d.color}" stroke-width="2.2"/>` });
        entries.push({ label: `${prefix}train (raw)`, draw: (x, y) => `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${d.color}" stroke-opacity="0.3" stroke-width="1.4"/>` });
      } else {
        const label = (opts.trainLabel ?? 'train') === '' ? (d.name ?? '') : `${prefix}${opts.trainLabel ?? 'train'}`;
        entries.push({ label, draw: (x, y) => `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${d.color}" stroke-width="1.8"/>` });
      }
    }
    if (d.evalPts.length) {
      entries.push({
        label: `${prefix}eval`,
        draw: (x, y) => d.denseEval ? `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${d.evalColor}" stroke-width="1.8"/>` :
          `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${d.evalColor}" stroke-width="1.4" stroke-dasharray="5 4"/>` +
          `<circle cx="${x + 11}" cy="${y}" r="4" fill="${d.evalColor}" stroke="#fff" stroke-width="1.2"/>`,
      });
    }
  }
  drawLegend(parts, entries, m.left + pw - 10, m.top + 10);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Train and eval loss points from log.jsonl records (kind "train" / "eval" with a numeric "loss"). */
export function lossPointsFromRecords(records: readonly { kind: string; step: number; loss?: unknown }[]): { train: LossPoint[]; eval: LossPoint[] } {
  const train: LossPoint[] = [];
  const evalPts: LossPoint[] = [];
  for (const r of records) {
    if (typeof r.loss !== 'number') continue;
    if (r.kind === 'train') train.push({ step: r.step, loss: r.loss });
    else if (r.kind === 'eval') evalPts.push({ step: r.step, loss: r.loss });
  }
  return { train, eval: evalPts };
}

/** A point with an error bar (half-width `err`, e.g. one standard deviation). */
export interface ScorePoint {
  x: number;
  y: number;
  err?: number;
}

export interface ScoreSeries {
  name: string;
  points: readonly ScorePoint[];
  color?: string;
  /** Dashed line (e.g. "from scratch" beside a solid "pretrained"). */
  dashed?: boolean;
}

export interface ScoreChartOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Logarithmic x axis (label fractions). */
  logX?: boolean;
  xLabel?: string;
  yLabel?: string;
  /** Show x values as percentages (0.01 -> "1%"). */
  xPercent?: boolean;
  /** y range; default from the data (error bars included), starting at 0 for scores in [0, 1]. */
  yRange?: [number, number];
}

/** Lines of points with error bars: a score against label fraction, or a metric against fine-tuning step. */
export function scoreChartSvg(series: readonly ScoreSeries[], opts: ScoreChartOptions = {}): string {
  // The legend sits right of the plot, where it cannot cover the last points (the plot keeps its width).
  const legendW = legendWidth(series.map((s) => s.name)) + 16;
  const W = (opts.width ?? 720) + legendW;
  const H = opts.height ?? 440;
  const { m, pw, ph, parts } = startSvg(W, H, opts.title ?? '', 24 + legendW);
  const logX = opts.logX ?? false;
  const pts = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logX || p.x > 0)));
  if (!pts.length) {
    parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph / 2}" text-anchor="middle" font-size="14" fill="#777">no data</text>`, '</svg>');
    return `${parts.join('\n')}\n`;
  }
  const err = (p: ScorePoint) => (Number.isFinite(p.err) ? p.err! : 0);
  let [y0, y1] = opts.yRange ?? [Math.min(...pts.map((p) => p.y - err(p))), Math.max(...pts.map((p) => p.y + err(p)))];
  if (!opts.yRange) {
    if (y0 >= 0 && y1 <= 1) y0 = 0;
    if (y1 === y0) y1 = y0 + 1;
    y1 += (y1 - y0) * 0.05;
  }
  const yTicks = niceTicks(y0, y1, Math.max(3, Math.round(ph / 50)));
  const sy = linearScale(y0, y1, m.top + ph, m.top);
  let x0 = Math.min(...pts.map((p) => p.x));
  let x1 = Math.max(...pts.map((p) => p.x));
  let xTicks: number[];
  let sx: Scale;
  if (logX) {
    // Half a decade of room either side, so the end points' error bars are not on the frame.
    x0 /= 10 ** 0.25;
    x1 *= 10 ** 0.25;
    xTicks = logTicks(x0, x1);
    const l = linearScale(Math.log10(x0), Math.log10(x1), m.left, m.left + pw);
    sx = (v) => l(Math.log10(v));
  } else {
    if (x0 === x1) {
      x0 -= 1;
      x1 += 1;
    }
    // Steps start at 0; room on the right keeps the last point's error bar off the frame.
    if (x0 >= 0) x0 = 0;
    x1 += (x1 - x0) * 0.04;
    xTicks = niceTicks(x0, x1, Math.max(3, Math.round(pw / 110)));
    sx = linearScale(x0, x1, m.left, m.left + pw);
  }
  drawAxes(parts, {
    W, H, m, pw, ph, xTicks, yTicks, sx, sy, xLabel: (opts.xLabel ?? '') + (logX ? ' (log scale)' : ''), yLabel: opts.yLabel ?? 'score',
    formatX: opts.xPercent ? (t) => `${trim(100 * t)}%` : undefined,
  });
  const entries: LegendEntry[] = [];
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    // Series side by side by a few pixels, so equal points and their error bars stay visible.
    const dodge = (k - (series.length - 1) / 2) * 3;
    const px = (x: number) => sx(x) + dodge;
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logX || p.x > 0)).slice().sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(polyline(ps.map((p) => p.x), ps.map((p) => p.y), px, sy, `stroke="${color}" stroke-width="2"${dash}`));
    parts.push(`<g stroke="${color}" stroke-width="1.4">`);
    for (const p of ps) {
      const e = err(p);
      if (e <= 0) continue;
      const x = fmt(px(p.x));
      parts.push(`<line x1="${x}" x2="${x}" y1="${fmt(sy(p.y - e))}" y2="${fmt(sy(p.y + e))}"/>`);
      for (const y of [p.y - e, p.y + e]) parts.push(`<line x1="${fmt(px(p.x) - 4)}" x2="${fmt(px(p.x) + 4)}" y1="${fmt(sy(y))}" y2="${fmt(sy(y))}"/>`);
    }
    parts.push('</g>');
    parts.push(`<g fill="${s.dashed ? '#ffffff' : color}" stroke="${color}" stroke-width="1.6">`);
    for (const p of ps) parts.push(`<circle cx="${fmt(px(p.x))}" cy="${fmt(sy(p.y))}" r="4"/>`);
    parts.push('</g>');
    entries.push({
      label: s.name,
      draw: (x, y) => `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>` +
        `<circle cx="${x + 11}" cy="${y}" r="4" fill="${s.dashed ? '#ffffff' : color}" stroke="${color}" stroke-width="1.6"/>`,
    });
  });
  drawLegend(parts, entries, W - 12, m.top);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Eval metrics over steps from log.jsonl records (kind "eval"): one line per metric, e.g. accuracy and macro_f1. */
export function metricCurvesSvg(records: readonly { kind: string; step: number; [k: string]: unknown }[], names: readonly string[], opts: LossCurveOptions = {}): string {
  const runs: LossRun[] = names.map((name) => ({
    name,
    train: [],
    eval: records.filter((r) => r.kind === 'eval' && typeof r[name] === 'number').map((r) => ({ step: r.step, loss: r[name] as number })),
  }));
  return lossCurvesSvg(runs, { yLabel: 'score', title: 'eval metrics', smoothing: 0, ...opts });
}

/**
 * A confusion matrix as a heat map: rows are true labels, columns predicted ones; each cell shows its count and is
 * shaded by its share of the row (the recall of the diagonal), so rare and frequent labels read alike.
 */
export function confusionMatrixSvg(matrix: readonly (readonly number[])[], labels: readonly string[], opts: { title?: string } = {}): string {
  const n = labels.length;
  if (matrix.length !== n || matrix.some((r) => r.length !== n)) throw new Error(`confusionMatrixSvg: a ${n}x${n} matrix is expected for ${n} labels`);
  const cell = Math.max(24, Math.min(56, Math.floor(640 / Math.max(1, n))));
  const longest = Math.max(1, ...labels.map((l) => l.length));
  const labelW = Math.min(160, 12 + longest * 7);
  // Column labels lean right (rotated 60 degrees): the last one needs room past the matrix.
  const m = { top: 56 + labelW, left: 40 + labelW, right: 24 + Math.ceil(Math.min(longest, 22) * 3.6), bottom: 24 };
  const W = m.left + n * cell + m.right;
  const H = m.top + n * cell + m.bottom;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`);
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600" fill="#222">${escapeXml(opts.title ?? 'confusion matrix')}</text>`);
  parts.push(`<text x="${m.left + (n * cell) / 2}" y="46" text-anchor="middle" font-size="13" fill="#333">predicted label</text>`);
  parts.push(`<text transform="translate(16 ${m.top + (n * cell) / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#333">true label</text>`);
  const fontSize = Math.max(9, Math.min(13, Math.floor(cell / 3)));
  for (let i = 0; i < n; i++) {
    const rowTotal = matrix[i]!.reduce((a, b) => a + b, 0);
    const y = m.top + i * cell;
    parts.push(`<text x="${m.left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" font-size="12" fill="#333">${escapeXml(labels[i]!)}</text>`);
    for (let j = 0; j < n; j++) {
      const v = matrix[i]![j]!;
      const share = rowTotal ? v / rowTotal : 0;
      const x = m.left + j * cell;
      // White to blue by the row share; the diagonal in blue, errors in orange.
      const [r, g, b] = i === j ? [31, 119, 180] : [217, 95, 2];
      const mix = (c: number) => Math.round(255 - (255 - c) * share);
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${mix(r)},${mix(g)},${mix(b)})" stroke="#dddddd"><title>true ${escapeXml(labels[i]!)}, predicted ${escapeXml(labels[j]!)}: ${v}</title></rect>`);
      if (v > 0) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + fontSize / 3}" text-anchor="middle" font-size="${fontSize}" fill="${share > 0.55 ? '#ffffff' : '#222222'}">${v}</text>`);
    }
  }
  for (let j = 0; j < n; j++) {
    const x = m.left + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x + 4} ${m.top - 6}) rotate(-60)" text-anchor="start" font-size="12" fill="#333">${escapeXml(labels[j]!)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${n * cell}" height="${n * cell}" fill="none" stroke="#888"/>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

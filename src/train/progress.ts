// Progress display for long work (training steps, evaluation, tokenizing).
// On a TTY one line is redrawn in place (throttled); elsewhere (CI logs) a
// plain line is printed every N steps. Formatting is pure and tested alone.

/** "0:05", "12:34", "1:02:03"; "--:--" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** 999 -> "999", 12345 -> "12.3k", 4.56e6 -> "4.56M" (3 significant digits). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['', 'k', 'M', 'G', 'T'];
  let u = 0;
  let v = Math.abs(n);
  // Round first so 999.96 k becomes "1.00M", not "1000k".
  while (u < units.length - 1 && Number(v.toPrecision(3)) >= 1000) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 && Number.isInteger(v) ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0;
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)}${units[u]}`;
}

export function formatRate(perSecond: number, unit = 'tok'): string {
  return `${formatCount(perSecond)} ${unit}/s`;
}

/** Learning rates and other small numbers: "6.00e-4". */
export function formatSci(x: number): string {
  if (x === 0) return '0';
  return x.toExponential(2).replace('e+', 'e');
}

export function formatLoss(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** Seconds left, from the average pace since `startStep`; undefined until one step is done. */
export function etaSeconds(step: number, total: number, startStep: number, elapsedSec: number): number | undefined {
  const done = step - startStep;
  if (done <= 0 || elapsedSec <= 0) return undefined;
  return Math.max(0, total - step) * (elapsedSec / done);
}

/**
 * Rate of a growing count, smoothed exponentially over time (time constant
 * `tauSec`), so one slow step (an eval, a checkpoint) does not make it jump.
 */
export class RateMeter {
  private lastTime?: number;
  private lastCount = 0;
  private value?: number;
  constructor(private readonly tauSec = 5) {}

  /** `count` is the running total (e.g. tokens so far); `nowSec` a monotonic time in seconds. */
  update(count: number, nowSec: number): number | undefined {
    if (this.lastTime === undefined) {
      this.lastTime = nowSec;
      this.lastCount = count;
      return this.value;
    }
    const dt = nowSec - this.lastTime;
    if (dt <= 0) return this.value;
    const inst = (count - this.lastCount) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauSec);
    this.value = this.value === undefined ? inst : this.value + alpha * (inst - this.value);
    this.lastTime = nowSec;
    this.lastCount = count;
    return this.value;
  }

  get rate(): number | undefined {
    return this.value;
  }
}

export interface ProgressState {
  step: number;
  total: number;
  label?: string;
  loss?: number;
  lr?: number;
  tokensPerSec?: number;
  elapsedSec: number;
  etaSec?: number;
  /** Extra "key value" pairs shown after the standard fields. */
  extra?: Record<string, string | number>;
}

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `width` cells using eighth blocks. */
export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = BLOCKS[eighths % 8]!;
  return '█'.repeat(full) + part + ' '.repeat(width - full - (part ? 1 : 0));
}

function fields(s: ProgressState): string[] {
  const out: string[] = [];
  if (s.loss !== undefined) out.push(`loss ${formatLoss(s.loss)}`);
  if (s.lr !== undefined) out.push(`lr ${formatSci(s.lr)}`);
  if (s.tokensPerSec !== undefined) out.push(formatRate(s.tokensPerSec));
  for (const [k, v] of Object.entries(s.extra ?? {})) out.push(`${k} ${typeof v === 'number' ? formatNumber(v) : v}`);
  return out;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toFixed(4) : formatSci(v);
}

/** The in-place TTY line: " 45%|████▌     | 450/1000 loss 3.2145 lr 6.00e-4 12.3k tok/s [0:45<1:02]", fitted to `width`. */
export function formatTtyLine(s: ProgressState, width = 100): string {
  const pct = `${String(Math.floor((100 * s.step) / Math.max(1, s.total))).padStart(3)}%`;
  const counts = `${s.step}/${s.total}`;
  const time = `[${formatDuration(s.elapsedSec)}<${formatDuration(s.etaSec ?? NaN)}]`;
  const label = s.label ? `${s.label} ` : '';
  let info = [counts, ...fields(s), time].join(' ');
  const fixed = label.length + pct.length + 2 + 1;
  let barWidth = width - fixed - info.length;
  if (barWidth < 10) {
    // Narrow terminal: drop the extra fields before the bar disappears.
    info = [counts, ...fields({ ...s, extra: undefined }), time].join(' ');
    barWidth = width - fixed - info.length;
  }
  if (barWidth < 5) return `${label}${pct} ${info}`.slice(0, Math.max(0, width - 1));
  return `${label}${pct}|${renderBar(s.step / Math.max(1, s.total), Math.min(barWidth, 40))}| ${info}`;
}

/** The plain line for logs: "step 450/1000 (45.0%) | loss 3.2145 | lr 6.00e-4 | 12.3k tok/s | elapsed 0:45 | eta 1:02". */
export function formatPlainLine(s: ProgressState): string {
  const pct = ((100 * s.step) / Math.max(1, s.total)).toFixed(1);
  return [
    `${s.label ? `${s.label} ` : ''}step ${s.step}/${s.total} (${pct}%)`,
    ...fields(s),
    `elapsed ${formatDuration(s.elapsedSec)}`,
    `eta ${formatDuration(s.etaSec ?? NaN)}`,
  ].join(' | ');
}

/** What the bar writes to: process.stderr by default. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  label?: string;
  /** The step this run starts at (resume), so rates and ETA count only this run's work. */
  startStep?: number;
  stream?: ProgressStream;
  /** Overrides stream.isTTY. */
  tty?: boolean;
  /** Non-TTY: print a line every this many steps (and at the end). Default: about 20 lines per run. */
  plainEvery?: number;
  /** TTY: minimum milliseconds between redraws. */
  redrawMs?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export interface ProgressUpdate {
  step: number;
  loss?: number;
  lr?: number;
  /** Running total of tokens processed in this run. */
  tokens?: number;
  extra?: Record<string, string | number>;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly plainEvery: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private readonly startMs: number;
  private readonly startStep: number;
  private readonly rate = new RateMeter();
  private lastDrawMs = -Infinity;
  private lastPlainStep = -1;
  private lineShown = false;
  private last?: ProgressState;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.plainEvery = opts.plainEvery ?? Math.max(1, Math.round(opts.total / 20));
    this.redrawMs = opts.redrawMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.startMs = this.now();
    this.startStep = opts.startStep ?? 0;
  }

  update(u: ProgressUpdate): void {
    const nowMs = this.now();
    const elapsedSec = (nowMs - this.startMs) / 1000;
    const tokensPerSec = u.tokens !== undefined ? this.rate.update(u.tokens, nowMs / 1000) : undefined;
    const state: ProgressState = {
      step: u.step,
      total: this.opts.total,
      elapsedSec,
      etaSec: etaSeconds(u.step, this.opts.total, this.startStep, elapsedSec),
    };
    if (this.opts.label !== undefined) state.label = this.opts.label;
    if (u.loss !== undefined) state.loss = u.loss;
    if (u.lr !== undefined) state.lr = u.lr;
    if (tokensPerSec !== undefined) state.tokensPerSec = tokensPerSec;
    if (u.extra !== undefined) state.extra = u.extra;
    this.last = state;
    const atEnd = u.step >= this.opts.total;
    if (this.tty) {
      if (atEnd || nowMs - this.lastDrawMs >= this.redrawMs) this.draw(state, nowMs);
    } else if (atEnd || u.step - this.lastPlainStep >= this.plainEvery || this.lastPlainStep < 0) {
      this.lastPlainStep = u.step;
      this.stream.write(`${formatPlainLine(state)}\n`);
    }
  }

  /** Prints a message (eval results, checkpoint saved) without breaking the bar. */
  log(message: string): void {
    if (this.tty && this.lineShown) {
      this.stream.write(`\r\x1b[K${message}\n`);
      if (this.last) this.draw(this.last, this.now());
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  /** Leaves the final line in place and ends it with a newline. */
  finish(): void {
    if (this.tty && this.last) {
      this.draw(this.last, this.now());
      this.stream.write('\n');
      this.lineShown = false;
    } else if (!this.tty && this.last && this.last.step !== this.lastPlainStep) {
      this.stream.write(`${formatPlainLine(this.last)}\n`);
      this.lastPlainStep = this.last.step;
    }
  }

  private draw(state: ProgressState, nowMs: number): void {
    // A terminal that reports no size (0 columns: a pty nobody sized) gets the usual 80.
    const width = this.stream.columns || 80;
    this.stream.write(`\r${formatTtyLine(state, width)}\x1b[K`);
    this.lineShown = true;
    this.lastDrawMs = nowMs;
  }
}

// Beam search with Hugging Face generate()'s semantics (transformers' `_beam_search` with `BeamSearchScorer` and
// `BeamHypotheses`), model-agnostic: the caller runs the model for every beam row and reorders its cache.
//
// Per prompt, `numBeams` rows; beam scores start at 0 for beam 0 and -1e9 for the others (so the first step
// expands beam 0 only). Each step adds log_softmax(logits) to the beam scores and takes the top
// max(2, 1 + #eos) * numBeams (beam, token) candidates over all beams, best first. In that order: an EOS candidate
// ranked among the first numBeams finishes a hypothesis (its tokens without the EOS, scored
// sum_logprobs / generated_len ** lengthPenalty with generated_len = new tokens counting the EOS); lower-ranked EOS
// candidates are dropped; any other candidate becomes one of the next numBeams beams. A prompt is done once it has
// numBeams finished hypotheses and
//   earlyStopping true:    always;
//   earlyStopping false:   the worst kept score >= the best candidate's sum / (tokens so far + 1) ** lengthPenalty
//                          (HF's heuristic);
//   earlyStopping 'never': the same bound with maxNewTokens in place of (tokens so far + 1) when
//                          lengthPenalty > 0, so that no open beam could still do better.
// At most numBeams hypotheses are kept (the worst is dropped when a better one arrives). Generation stops when
// every prompt is done or after maxNewTokens; the open beams of unfinished prompts then join the hypotheses
// (generated_len = all new tokens) and the best hypothesis is returned, with its EOS when it finished on one.
// Lengths count generated tokens only, as HF's `generated_len = cur_len - decoder_prompt_len`: the prompt of a
// decoder-only model, and the decoder start token of an encoder-decoder, are not counted. Portable: no Node imports.
import type { HostTensor } from '../runtime/backend.js';

export interface BeamSearchOptions {
  numBeams: number;
  maxNewTokens: number;
  /** Finishes a hypothesis (kept as its last token in the result, as HF does). */
  eosTokenId?: number | readonly number[];
  /** Exponent of the length in the score's denominator (HF default 1; > 0 favours longer sequences). */
  lengthPenalty?: number;
  /** HF's early_stopping: false (default, heuristic), true (stop at numBeams hypotheses), 'never' (exact). */
  earlyStopping?: boolean | 'never';
  /** Fed to the rows of a prompt that is done while others go on (default 0). */
  padTokenId?: number;
}

export interface BeamHypothesis {
  /** New tokens, with the EOS when the hypothesis finished on one. */
  tokens: number[];
  /** sum of log-probabilities / generated_len ** lengthPenalty (HF's sequences_scores). */
  score: number;
  finishReason: 'eos' | 'length';
}

export interface BeamSearchResult {
  /** The best hypothesis of each prompt. */
  best: BeamHypothesis[];
  /** Model runs. */
  runs: number;
}

/**
 * What the model does for one step. `feed` is null for the first run (every row reads its prompt); afterwards,
 * row r continues row `parents[r]` (reorder the cache: new row r = old row parents[r]) with token `tokens[r]`.
 * Returns the last-position logits of every row, [rows * vocab] (rows = prompts * numBeams, prompt-major).
 */
export type BeamStep = (feed: { tokens: number[]; parents: number[] } | null) => Promise<Float32Array>;

export function checkBeamOptions(o: BeamSearchOptions): void {
  if (!(Number.isInteger(o.numBeams) && o.numBeams >= 1)) throw new Error(`numBeams must be a positive integer, got ${o.numBeams}`);
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0)) throw new Error(`maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`);
  if (o.lengthPenalty !== undefined && !Number.isFinite(o.lengthPenalty)) throw new Error(`lengthPenalty must be a finite number, got ${o.lengthPenalty}`);
  if (o.earlyStopping !== undefined && o.earlyStopping !== true && o.earlyStopping !== false && o.earlyStopping !== 'never')
    throw new Error(`earlyStopping must be true, false or 'never', got ${String(o.earlyStopping)}`);
}

/** HF's BeamHypotheses: the n best finished hypotheses of one prompt. */
class Hypotheses {
  readonly beams: BeamHypothesis[] = [];
  private worst = 1e9;
  constructor(private readonly n: number, private readonly lengthPenalty: number, private readonly earlyStopping: boolean | 'never', private readonly maxNewTokens: number) {}

  add(tokens: number[], sumLogprobs: number, generatedLen: number, finishReason: 'eos' | 'length'): void {
    const score = sumLogprobs / generatedLen ** this.lengthPenalty;
    if (this.beams.length < this.n || score > this.worst) {
      this.beams.push({ tokens, score, finishReason });
      if (this.beams.length > this.n) {
        // Python's sorted([(score, index)]): the lowest score goes (the earliest on ties); the next is the worst.
        const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(order[0][1], 1);
        this.worst = order[1][0];
      } else this.worst = Math.min(score, this.worst);
    }
  }

  isDone(bestSumLogprobs: number, generatedLen: number): boolean {
    if (this.beams.length < this.n) return false;
    if (this.earlyStopping === true) return true;
    const len = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxNewTokens : generatedLen;
    return this.worst >= bestSumLogprobs / len ** this.lengthPenalty;
  }

  /** The best (sorted by score, stable, last taken: the latest added among equals, as HF's pop()). */
  best(): BeamHypothesis {
    let best = this.beams[0];
    for (const b of this.beams) if (b.score >= best.score) best = b;
    return best;
  }
}

/** Row `rows[i]` of `t` (batch first) as row i of the result: a KV cache reordered by beam. */
export function gatherRows(t: HostTensor, rows: readonly number[]): HostTensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array; // any typed array: the same calls serve int64 masks
  const out = new (src.constructor as Float32ArrayConstructor)(rows.length * per);
  rows.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
  return { dtype: t.dtype, shape: [rows.length, ...t.shape.slice(1)], data: out as HostTensor['data'] };
}

/** Each row of `t` (batch first) `times` times in a row: [a, b] -> [a, a, b, b] for times 2. */
export function repeatRows(t: HostTensor, times: number): HostTensor {
  return gatherRows(t, Array.from({ length: t.shape[0] * times }, (_, i) => Math.floor(i / times)));
}

/** log_softmax in float64. */
function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  return out;
}

/** Runs beam search for `numPrompts` prompts over `step`, the model's runs (see BeamStep). */
export async function beamSearch(numPrompts: number, vocab: number, opts: BeamSearchOptions, step: BeamStep): Promise<BeamSearchResult> {
  checkBeamOptions(opts);
  if (opts.maxNewTokens === 0) return { best: Array.from({ length: numPrompts }, () => ({ tokens: [], score: 0, finishReason: 'length' as const })), runs: 0 };
  const B = opts.numBeams;
  const lengthPenalty = opts.lengthPenalty ?? 1;
  const earlyStopping = opts.earlyStopping ?? false;
  const eos = new Set(opts.eosTokenId === undefined ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId);
  const pad = opts.padTokenId ?? 0;
  const n = numPrompts * B;
  const k = Math.max(2, 1 + eos.size) * B;
  const hyps = Array.from({ length: numPrompts }, () => new Hypotheses(B, lengthPenalty, earlyStopping, opts.maxNewTokens));
  const done = new Array<boolean>(numPrompts).fill(false);
  let scores = Float64Array.from({ length: n }, (_, r) => (r % B === 0 ? 0 : -1e9));
  let seqs: number[][] = Array.from({ length: n }, () => []);
  let feed: { tokens: number[]; parents: number[] } | null = null;
  let runs = 0;
  for (let t = 0; t < opts.maxNewTokens; t++) {
    const logits = await step(feed);
    runs++;
    const tokens: number[] = [];
    const parents: number[] = [];
    const nextScores = new Float64Array(n);
    for (let p = 0; p < numPrompts; p++) {
      if (done[p]) {
        for (let j = 0; j < B; j++) {
          tokens.push(pad);
          parents.push(p * B);
        }
        continue;
      }
      // The top k of (beam score + log-prob) over this prompt's beams, best first (lower index first on ties).
      const top: { s: number; row: number; tok: number }[] = [];
      for (let j = 0; j < B; j++) {
        const row = p * B + j;
        const lp = logSoftmax(logits.subarray(row * vocab, (row + 1) * vocab));
        for (let v = 0; v < vocab; v++) {
          const s = lp[v] + scores[row];
          if (top.length === k && s <= top[k - 1].s) continue;
          let i = top.length;
          while (i > 0 && top[i - 1].s < s) i--;
          top.splice(i, 0, { s, row, tok: v });
          if (top.length > k) top.pop();
        }
      }
      let filled = 0;
      for (let rank = 0; rank < top.length && filled < B; rank++) {
        const c = top[rank];
        if (eos.has(c.tok)) {
          if (rank >= B) continue;
          hyps[p].add([...seqs[c.row], c.tok], c.s, t + 1, 'eos');
        } else {
          tokens.push(c.tok);
          parents.push(c.row);
          nextScores[p * B + filled] = c.s;
          filled++;
        }
      }
      if (filled < B) throw new Error(`beam search: fewer than ${B} non-EOS candidates among the top ${k}`);
      done[p] = hyps[p].isDone(top[0].s, t + 1);
    }
    seqs = parents.map((r, i) => [...seqs[r], tokens[i]]);
    scores = nextScores;
    if (done.every(Boolean) || t === opts.maxNewTokens - 1) break;
    feed = { tokens, parents };
  }
  const best = hyps.map((h, p) => {
    if (!done[p]) for (let j = 0; j < B; j++) h.add(seqs[p * B + j], scores[p * B + j], seqs[p * B + j].length, 'length');
    return h.best();
  });
  return { best, runs };
}

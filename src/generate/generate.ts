// Autoregressive generation over a compiled decoder graph: greedy or sampled (temperature, top-k, top-p,
// repetition penalty), several samples per prompt as one batch, EOS and stop strings, streaming callbacks.
// With the KV cache each new token is one position fed with the cache; without it every step re-reads the whole
// sequence (kept for comparison and tests). Portable: it uses the Backend interface, no Node imports.
import type { Backend, HostTensor, Session } from '../runtime/backend.js';
import { Forward } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import { sampleNextToken, seededRandom, type SamplingOptions } from './sampling.js';
import { beamSearch, checkBeamOptions, gatherRows, type BeamSearchOptions } from './beam.js';
import {
  buildDecoderGraph, cacheLayout, exportDecoderOnnx, pastName, presentName, type CacheLayout, type DecoderModel,
} from './decoder-graph.js';

export interface GeneratorOptions {
  /** Generate through the KV cache (default true). */
  cache?: boolean;
  /**
   * 'live' (default) feeds the parameters from the store on every run, so a generator made during training sees
   * the latest weights. 'baked' compiles a snapshot of them into the graph as initializers, which lets ORT
   * pre-pack the weight matrices: faster, but blind to later updates of the store.
   */
  weights?: 'live' | 'baked';
  /** Longest sequence (prompt + new tokens) the model can read: GPT-2's n_positions. Checked before running. */
  maxPositions?: number;
}

/** One generated token, as it is chosen (for streaming). */
export interface TokenEvent {
  /** Batch row: prompt * numSamples + sample. */
  row: number;
  prompt: number;
  sample: number;
  /** 0-based index of this token among the row's new tokens. */
  step: number;
  token: number;
  /** The row's new tokens so far, this one included (the generator's own array: copy it to keep it). */
  tokens: readonly number[];
}

export type FinishReason = 'eos' | 'stop_string' | 'length';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Sequences per prompt, run as one batch (default 1). */
  numSamples?: number;
  /** Seeds the sampler; random when omitted (the seed used is returned). Row r draws from its own stream. */
  seed?: number;
  /** Stop a row when it produces one of these (it is kept in the row's tokens, as HF does). */
  eosTokenId?: number | readonly number[];
  /** Fills the left padding of shorter prompts and the rows that have finished; any valid id (default 0). */
  padTokenId?: number;
  /** Stop a row once its decoded new text contains one of these; needs `decode`. */
  stopStrings?: readonly string[];
  decode?: (ids: readonly number[]) => string;
  onToken?: (ev: TokenEvent) => void;
  /** Return the raw (unprocessed) last-position logits of every step. */
  returnLogits?: boolean;
}

export interface GeneratedSequence {
  prompt: number;
  sample: number;
  /** New tokens only (the prompt is in promptIds). */
  tokens: number[];
  finishReason: FinishReason;
  /** decode(tokens), when a decode callback was given. */
  text?: string;
}

export interface GenerateResult {
  promptIds: number[][];
  /** prompt-major: rows [p * numSamples, (p + 1) * numSamples) belong to prompt p. */
  sequences: GeneratedSequence[];
  /**
   * logits[step][row]: the raw vocabulary logits that chose token `step` of that row (when returnLogits); a row
   * that had already finished has logits there that chose nothing.
   */
  logits?: Float32Array[][];
  seed: number;
  /** Model runs, and the time spent on the first (the prompt) and on all of them. */
  runs: number;
  prefillMs: number;
  totalMs: number;
}

type Runner = (feeds: Record<string, HostTensor>) => Promise<Record<string, HostTensor>>;

const i64 = (shape: number[], values: readonly number[]): HostTensor => ({
  dtype: 'int64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)),
});

/** A per-row seed, so that sample r is the same whichever number of samples is asked for. */
function rowSeed(seed: number, row: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (row + 1), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

export class Generator {
  private constructor(
    private readonly runModel: Runner,
    readonly layout: CacheLayout,
    readonly cache: boolean,
    readonly maxPositions: number | undefined,
  ) {}

  static async create(backend: Backend, model: DecoderModel, store: ParameterStore, opts: GeneratorOptions = {}): Promise<Generator> {
    const cache = opts.cache ?? true;
    const layout = cacheLayout(model);
    let run: Runner;
    if (opts.weights === 'baked') {
      const bytes = exportDecoderOnnx(model, store, { cache, lastLogitsOnly: true });
      const s: Session = await backend.createSession(bytes);
      run = (feeds) => s.run(feeds);
    } else {
      const fwd = await Forward.compile(
        backend, (g) => buildDecoderGraph(g, model, { cache, lastLogitsOnly: true }), store, cache ? 'decoder_with_past' : 'decoder',
      );
      run = (feeds) => fwd.run(feeds);
    }
    return new Generator(run, layout, cache, opts.maxPositions);
  }

  /** Generates from one prompt (number[]) or several (number[][], left-padded into one batch). */
  async generate(prompts: readonly number[] | readonly (readonly number[])[], opts: GenerateOptions): Promise<GenerateResult> {
    const t0 = performance.now();
    const list: number[][] = isBatch(prompts) ? prompts.map((p) => [...p]) : [[...prompts]];
    if (list.length === 0 || list.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token');
    const numSamples = opts.numSamples ?? 1;
    if (!(Number.isInteger(numSamples) && numSamples >= 1)) throw new Error(`numSamples must be a positive integer, got ${numSamples}`);
    if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0)) throw new Error(`maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
    if (opts.stopStrings?.length && !opts.decode) throw new Error('generate: stopStrings need a decode callback');
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
    const pad = opts.padTokenId ?? 0;
    const eos = new Set(opts.eosTokenId === undefined ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId);
    const { vocab } = this.layout;

    // Rows are prompt-major; shorter prompts are padded on the left so that every row's last position is real.
    const rows = list.flatMap((p, pi) => Array.from({ length: numSamples }, (_, s) => ({ prompt: pi, sample: s, ids: p })));
    const n = rows.length;
    const width = Math.max(...list.map((p) => p.length));
    if (this.maxPositions !== undefined && width + opts.maxNewTokens > this.maxPositions)
      throw new Error(`generate: a ${width}-token prompt plus ${opts.maxNewTokens} new tokens exceeds the model's ${this.maxPositions} positions`);
    const ids = rows.map((r) => [...Array<number>(width - r.ids.length).fill(pad), ...r.ids]);
    const mask = rows.map((r) => [...Array<number>(width - r.ids.length).fill(0), ...Array<number>(r.ids.length).fill(1)]);
    // HF and transformers.js: position = number of real tokens before it; padding gets 1 (never attended to).
    const positions = mask.map((m) => {
      let c = -1;
      return m.map((v) => (v ? ++c : 1));
    });
    const rngs = rows.map((_, r) => seededRandom(rowSeed(seed, r)));
    const out: GeneratedSequence[] = rows.map((r) => ({ prompt: r.prompt, sample: r.sample, tokens: [], finishReason: 'length' }));
    const done = new Array<boolean>(n).fill(false);
    const logits: Float32Array[][] = [];

    let past: Record<string, HostTensor> = {};
    if (this.cache) {
      const empty: HostTensor = { dtype: 'float32', shape: [n, this.layout.kvHeads, 0, this.layout.headDim], data: new Float32Array(0) };
      for (let i = 0; i < this.layout.layers; i++) past[pastName(i, 'key')] = past[pastName(i, 'value')] = empty;
    }
    // What the next run reads: the whole prompt first; then, with the cache, only the newest token.
    let feedIds = ids;
    let feedPos = positions;
    let runs = 0;
    let prefillMs = 0;
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const t = feedIds[0].length;
      const res = await this.runModel({
        input_ids: i64([n, t], feedIds.flat()),
        attention_mask: i64([n, mask[0].length], mask.flat()),
        position_ids: i64([n, t], feedPos.flat()),
        ...past,
      });
      if (runs++ === 0) prefillMs = performance.now() - t0;
      const all = res.logits.data as Float32Array; // [n, 1, vocab]
      const stepLogits: Float32Array[] = [];
      for (let r = 0; r < n; r++) {
        const row = all.subarray(r * vocab, (r + 1) * vocab);
        if (opts.returnLogits) stepLogits.push(row.slice());
        if (done[r]) continue;
        const token = sampleNextToken(row, opts, rngs[r], [...rows[r].ids, ...out[r].tokens]);
        const seq = out[r];
        seq.tokens.push(token);
        opts.onToken?.({ row: r, prompt: seq.prompt, sample: seq.sample, step, token, tokens: seq.tokens });
        if (eos.has(token)) {
          seq.finishReason = 'eos';
          done[r] = true;
        } else if (opts.stopStrings?.length) {
          const text = opts.decode!(seq.tokens);
          if (opts.stopStrings.some((s) => text.includes(s))) {
            seq.finishReason = 'stop_string';
            done[r] = true;
          }
        }
      }
      if (opts.returnLogits) logits.push(stepLogits);
      if (done.every(Boolean) || step === opts.maxNewTokens - 1) break;

      // Finished rows keep running (the batch keeps its shape) on padding, which nothing reads.
      const next = out.map((s) => (s.tokens.length === step + 1 ? s.tokens[step] : pad));
      for (let r = 0; r < n; r++) {
        ids[r].push(next[r]);
        mask[r].push(1);
        positions[r].push(positions[r][positions[r].length - 1] + 1);
      }
      if (this.cache) {
        feedIds = next.map((v) => [v]);
        feedPos = positions.map((p) => [p[p.length - 1]]);
        past = {};
        for (let i = 0; i < this.layout.layers; i++)
          for (const kind of ['key', 'value'] as const) past[pastName(i, kind)] = res[presentName(i, kind)];
      } else {
        feedIds = ids;
        feedPos = positions;
      }
    }
    if (opts.decode) for (const s of out) s.text = opts.decode(s.tokens);
    return {
      promptIds: list,
      sequences: out,
      logits: opts.returnLogits ? logits : undefined,
      seed,
      runs,
      prefillMs,
      totalMs: performance.now() - t0,
    };
  }

  /**
   * Beam search with HF generate(num_beams=N)'s semantics (see beam.ts), for one prompt or several (left-padded,
   * numBeams rows each). Each step the KV cache is reordered by the rows the surviving beams came from.
   */
  async beamSearch(prompts: readonly number[] | readonly (readonly number[])[], opts: BeamGenerateOptions): Promise<BeamGenerateResult> {
    const t0 = performance.now();
    checkBeamOptions(opts);
    const list: number[][] = isBatch(prompts) ? prompts.map((p) => [...p]) : [[...prompts]];
    if (list.length === 0 || list.some((p) => p.length === 0)) throw new Error('beamSearch: every prompt needs at least one token');
    const B = opts.numBeams;
    const pad = opts.padTokenId ?? 0;
    const width = Math.max(...list.map((p) => p.length));
    if (this.maxPositions !== undefined && width + opts.maxNewTokens > this.maxPositions)
      throw new Error(`beamSearch: a ${width}-token prompt plus ${opts.maxNewTokens} new tokens exceeds the model's ${this.maxPositions} positions`);
    const rows = list.flatMap((p) => Array.from({ length: B }, () => p));
    const n = rows.length;
    const { layers, kvHeads, headDim, vocab } = this.layout;
    const mask = rows.map((p) => [...Array<number>(width - p.length).fill(0), ...Array<number>(p.length).fill(1)]);
    const positions = mask.map((m) => {
      let c = -1;
      return m.map((v) => (v ? ++c : 1));
    });
    const ids = rows.map((p) => [...Array<number>(width - p.length).fill(pad), ...p]);
    let past: Record<string, HostTensor> = {};
    if (this.cache) {
      const empty: HostTensor = { dtype: 'float32', shape: [n, kvHeads, 0, headDim], data: new Float32Array(0) };
      for (let i = 0; i < layers; i++) past[pastName(i, 'key')] = past[pastName(i, 'value')] = empty;
    }
    const run = this.runModel;
    const r = await beamSearch(list.length, vocab, opts, async (feed) => {
      let feedIds = ids;
      let feedPos = positions;
      if (feed) {
        // Every beam of a prompt has the same mask and positions, so only the cache and the ids follow the parents.
        const grown = feed.parents.map((p, i) => [...ids[p], feed.tokens[i]]);
        ids.splice(0, n, ...grown);
        mask.forEach((m) => m.push(1));
        positions.forEach((p) => p.push(p[p.length - 1] + 1));
        if (this.cache) {
          const next: Record<string, HostTensor> = {};
          for (const [name, t] of Object.entries(past)) next[name] = gatherRows(t, feed.parents);
          past = next;
          feedIds = feed.tokens.map((t) => [t]);
          feedPos = positions.map((p) => [p[p.length - 1]]);
        } else {
          feedIds = ids;
          feedPos = positions;
        }
      }
      const t = feedIds[0].length;
      const res = await run({
        input_ids: i64([n, t], feedIds.flat()),
        attention_mask: i64([n, mask[0].length], mask.flat()),
        position_ids: i64([n, t], feedPos.flat()),
        ...past,
      });
      if (this.cache) {
        past = {};
        for (let i = 0; i < layers; i++) for (const kind of ['key', 'value'] as const) past[pastName(i, kind)] = res[presentName(i, kind)];
      }
      return res.logits.data as Float32Array;
    });
    const sequences = r.best.map((h, p) => ({
      prompt: p, sample: 0, tokens: h.tokens, finishReason: h.finishReason, score: h.score, text: opts.decode?.(h.tokens),
    }));
    return { promptIds: list, sequences, runs: r.runs, totalMs: performance.now() - t0 };
  }
}

export interface BeamGenerateOptions extends BeamSearchOptions {
  /** Fills the left padding of shorter prompts (default 0). */
  padTokenId?: number;
  decode?: (ids: readonly number[]) => string;
}

/** One prompt's best beam: its new tokens (EOS included when it ended on one) and HF's sequence score. */
export interface BeamSequence extends GeneratedSequence {
  score: number;
}

export interface BeamGenerateResult {
  promptIds: number[][];
  /** One per prompt. */
  sequences: BeamSequence[];
  runs: number;
  totalMs: number;
}


function isBatch(p: readonly number[] | readonly (readonly number[])[]): p is readonly (readonly number[])[] {
  return p.length > 0 && Array.isArray(p[0]);
}

/**
 * An onToken callback that writes one row's new text as it grows (for a terminal). Decoding the whole row each
 * time and writing the difference keeps multi-token characters and merged pieces right.
 */
export function textStreamer(decode: (ids: readonly number[]) => string, write: (text: string) => void, row = 0): (ev: TokenEvent) => void {
  let shown = '';
  return (ev) => {
    if (ev.row !== row) return;
    const text = decode(ev.tokens);
    // A partial multi-byte character decodes to U+FFFD; wait for the rest of it.
    if (text.endsWith('\uFFFD')) return;
    // Text already written cannot be taken back: write what follows the part both versions share.
    write(text.slice(commonPrefix(shown, text)));
    shown = text;
  };
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

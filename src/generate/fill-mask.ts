// Fill-mask over a masked-LM encoder, shaped as Hugging Face's fill-mask pipeline returns it: for each mask token
// of the text, the top-k candidates { score (softmax probability), token (id), token_str (that token decoded),
// sequence (the text decoded with the candidate in place of the mask, special tokens skipped) }. Portable: it uses
// the Backend interface and the Tokenizer interface, no Node imports.
import type { Backend, HostTensor } from '../runtime/backend.js';
import { Forward } from '../runtime/step.js';
import type { ParameterStore } from '../runtime/store.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { buildEncoderGraph, usesTokenTypes, type MaskedLM } from './encoder-graph.js';

export interface FillMaskCandidate {
  /** Softmax probability of the token at this mask. */
  score: number;
  token: number;
  /** The token decoded alone (special tokens kept, as HF's `tokenizer.decode([token])`). */
  token_str: string;
  /** The text with this token in place of the mask, decoded without special tokens. */
  sequence: string;
}

export interface FillMaskOptions {
  /** Candidates per mask (HF's top_k), default 5. */
  topK?: number;
}

/** The mask token's id and text, or an error naming what is missing. */
function maskToken(tok: Tokenizer): { id: number; text: string } {
  const id = tok.specialIds.mask;
  const text = id === undefined ? undefined : tok.idToToken(id);
  if (id === undefined || text === undefined) throw new Error('fill-mask: this tokenizer has no mask token (tokenizer_config.json sets none)');
  return { id, text };
}

/** Probabilities (float64 softmax) of one row of logits, and the k best ids, highest first (ties: lower id). */
function topK(logits: Float32Array, k: number): { token: number; score: number }[] {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const ids = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  return ids.slice(0, Math.min(k, ids.length)).map((token) => ({ token, score: Math.exp(logits[token] - max) / sum }));
}

/** A compiled fill-mask graph over a parameter store (the weights it reads are the store's, live). */
export class FillMask {
  private constructor(
    private readonly forward: Forward,
    private readonly tokenizer: Tokenizer,
    private readonly tokenTypes: boolean,
  ) {}

  static async create(backend: Backend, model: MaskedLM, store: ParameterStore, tokenizer: Tokenizer): Promise<FillMask> {
    maskToken(tokenizer);
    const fwd = await Forward.compile(backend, (g) => ({ logits: buildEncoderGraph(g, model).logits }), store, 'fill_mask');
    return new FillMask(fwd, tokenizer, usesTokenTypes(model));
  }

  /**
   * One list of candidates per mask token in `text`, in text order. As HF's Python pipeline, the sequence of a
   * text with several masks keeps the special tokens (so that the other masks stay visible); with one mask it
   * skips them. Throws when the text has no mask token.
   */
  async predict(text: string, opts: FillMaskOptions = {}): Promise<FillMaskCandidate[][]> {
    const tok = this.tokenizer;
    const mask = maskToken(tok);
    const enc = await tok.encode(text);
    const positions = enc.ids.flatMap((id, i) => (id === mask.id ? [i] : []));
    if (positions.length === 0) throw new Error(`fill-mask: the text has no ${mask.text} token (this tokenizer's mask token)`);
    const t = enc.ids.length;
    const row = (v: number[]): HostTensor => ({ dtype: 'int64', shape: [1, t], data: BigInt64Array.from(v.map(BigInt)) });
    const feeds: Record<string, HostTensor> = { input_ids: row(enc.ids), attention_mask: row(enc.ids.map(() => 1)) };
    if (this.tokenTypes) feeds.token_type_ids = row(enc.typeIds);
    const logits = (await this.forward.run(feeds, ['logits'])).logits;
    const v = logits.shape[2];
    const data = logits.data as Float32Array;
    const single = positions.length === 1;
    const out: FillMaskCandidate[][] = [];
    for (const p of positions) {
      const candidates: FillMaskCandidate[] = [];
      for (const { token, score } of topK(data.subarray(p * v, (p + 1) * v), opts.topK ?? 5)) {
        const ids = enc.ids.slice();
        ids[p] = token;
        candidates.push({
          score,
          token,
          token_str: await tok.decode([token], { skipSpecialTokens: false }),
          sequence: await tok.decode(ids, { skipSpecialTokens: single }),
        });
      }
      out.push(candidates);
    }
    return out;
  }
}

/** One-shot fill-mask: compiles the graph, predicts, and returns one list of candidates per mask. */
export async function fillMask(
  backend: Backend, model: MaskedLM, store: ParameterStore, tokenizer: Tokenizer, text: string, opts: FillMaskOptions = {},
): Promise<FillMaskCandidate[][]> {
  return (await FillMask.create(backend, model, store, tokenizer)).predict(text, opts);
}

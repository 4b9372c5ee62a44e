// What every tokenizer offers (the interface the rest of the project uses), and the parts that depend only on
// tokenizer.json and tokenizer_config.json: special ids, sentinels, word starts, the hash. Pure: no Node imports;
// the native-backed tokenizer (tokenizer.ts) and the pure encoder (encoder.ts) both build on it.
import type { TokenizerConfig, TokenizerJson, TokenizerKind } from './json.js';
import { METASPACE } from './pretokenize.js';
import { sha256Hex } from './sha256.js';

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** [start, end) character offsets into the input (UTF-16 units, as JS strings). */
  offsets: Array<[number, number]>;
  /** Index of the pre-tokenised word each token comes from; null for special tokens. */
  wordIds: Array<number | null>;
  /** Segment ids (0 for A, 1 for B with the BERT template). */
  typeIds: number[];
  /** 1 where the token was added by the post-processor ([CLS], [SEP], </s>). */
  specialTokensMask: number[];
}

export interface EncodeOptions {
  /** Apply the post-processor template ([CLS] A [SEP], A </s>, ...). Default true. */
  addSpecialTokens?: boolean;
  /** Second segment for pair templates. */
  pair?: string;
}

export interface DecodeOptions {
  /** Default true. */
  skipSpecialTokens?: boolean;
}

/** Ids of the special tokens a tokenizer defines; absent when it has none of that role. */
export interface SpecialIds {
  pad?: number;
  unk?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  bos?: number;
  eos?: number;
}

export interface Tokenizer {
  /** Which trainer made it; 'unknown' for a tokenizer.json from elsewhere. */
  readonly kind: TokenizerKind | 'unknown';
  /** Vocabulary size including added tokens (the embedding table size). */
  readonly vocabSize: number;
  readonly specialIds: SpecialIds;
  /** Every special (added) token id, sorted: what MLM never masks. */
  readonly allSpecialIds: readonly number[];
  /** T5 sentinels: sentinelIds[k] is the id of `<extra_id_k>` (descending ids). Empty when absent. */
  readonly sentinelIds: readonly number[];
  /**
   * wordStarts[id] = 1 when token `id` begins a word if it follows another
   * token (WordPiece: no `##`; byte-level BPE: leading `Ġ`; Unigram: leading
   * `▁`; special tokens: 1). The first token of a sentence always begins a
   * word. For whole-word and span masking over shard ids.
   */
  readonly wordStarts: Uint8Array;
  /** sha256 (hex) of the canonical tokenizer.json: identifies the tokenizer in shard headers. */
  readonly hash: string;
  readonly json: TokenizerJson;
  readonly config: TokenizerConfig;
  encode(text: string, options?: EncodeOptions): Promise<Encoding>;
  encodeBatch(texts: string[], options?: EncodeOptions): Promise<Encoding[]>;
  /** Ids only, no post-processor: the fast path used to build token shards. */
  encodeIdsBatch(texts: string[]): Promise<number[][]>;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): Promise<string>;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** sha256 of JSON.stringify(parsed tokenizer.json): insensitive to whitespace and pretty-printing. */
export function tokenizerHash(json: TokenizerJson): string {
  return sha256Hex(new TextEncoder().encode(JSON.stringify(json)));
}

export function inferKind(json: TokenizerJson): TokenizerKind | 'unknown' {
  const t = json.model['type'];
  if (t === 'WordPiece') return 'wordpiece';
  if (t === 'BPE') return 'bpe';
  if (t === 'Unigram') return 'unigram';
  return 'unknown';
}

export abstract class TokenizerBase implements Tokenizer {
  readonly kind: TokenizerKind | 'unknown';
  abstract readonly vocabSize: number;
  readonly hash: string;
  private wordStartTable: Uint8Array | undefined;
  private ids: { special: SpecialIds; all: readonly number[]; sentinels: readonly number[] } | undefined;

  constructor(
    readonly json: TokenizerJson,
    readonly config: TokenizerConfig,
  ) {
    this.kind = inferKind(json);
    this.hash = tokenizerHash(json);
  }

  // Computed on first use: subclasses set up tokenToId after this constructor runs.
  private specials(): { special: SpecialIds; all: readonly number[]; sentinels: readonly number[] } {
    if (this.ids) return this.ids;
    const config = this.config;
    const id = (field: string): number | undefined => {
      const v = config[field];
      const tok = typeof v === 'string' ? v : v && typeof v === 'object' && !Array.isArray(v) && typeof v['content'] === 'string' ? v['content'] : undefined;
      return tok === undefined ? undefined : this.tokenToId(tok);
    };
    const s: SpecialIds = {};
    for (const [k, f] of [
      ['pad', 'pad_token'],
      ['unk', 'unk_token'],
      ['cls', 'cls_token'],
      ['sep', 'sep_token'],
      ['mask', 'mask_token'],
      ['bos', 'bos_token'],
      ['eos', 'eos_token'],
    ] as const) {
      const v = id(f);
      if (v !== undefined) s[k] = v;
    }
    const sentinels: number[] = [];
    for (let k = 0; ; k++) {
      const v = this.tokenToId(`<extra_id_${k}>`);
      if (v === undefined) break;
      sentinels.push(v);
    }
    const all = this.json.added_tokens.filter((t) => t.special).map((t) => t.id).sort((a, b) => a - b);
    return (this.ids = { special: s, all, sentinels });
  }

  get specialIds(): SpecialIds {
    return this.specials().special;
  }
  get allSpecialIds(): readonly number[] {
    return this.specials().all;
  }
  get sentinelIds(): readonly number[] {
    return this.specials().sentinels;
  }

  get wordStarts(): Uint8Array {
    if (this.wordStartTable) return this.wordStartTable;
    const t = new Uint8Array(this.vocabSize);
    const special = new Set(this.allSpecialIds);
    for (let id = 0; id < t.length; id++) {
      const tok = this.idToToken(id) ?? '';
      let start: boolean;
      if (special.has(id)) start = true;
      else if (this.kind === 'wordpiece') start = !tok.startsWith('##');
      else if (this.kind === 'bpe') start = tok.startsWith('\u0120');
      else if (this.kind === 'unigram') start = tok.startsWith(METASPACE);
      else start = true;
      t[id] = start ? 1 : 0;
    }
    return (this.wordStartTable = t);
  }

  abstract encode(text: string, options?: EncodeOptions): Promise<Encoding>;
  abstract encodeBatch(texts: string[], options?: EncodeOptions): Promise<Encoding[]>;
  abstract encodeIdsBatch(texts: string[]): Promise<number[][]>;
  abstract decode(ids: ArrayLike<number>, options?: DecodeOptions): Promise<string>;
  abstract tokenToId(token: string): number | undefined;
  abstract idToToken(id: number): string | undefined;
}

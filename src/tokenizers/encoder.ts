// A tokenizer in plain TypeScript for the tokenizer.json files our trainers write (byte-level BPE for GPT-2 and
// RoBERTa, WordPiece for BERT, Unigram for T5): the browser has no native `tokenizers` package. It follows the
// Rust implementations step by step (added-token splitting, normaliser, pre-tokeniser, model, post-processor) and
// is tested to give the native package's ids on the Brown corpus. Offsets are the pre-token's span in the input
// (the native package gives each sub-token its own span). Pure: no Node imports.
import { TokenizerBase, TokenizerError, type DecodeOptions, type EncodeOptions, type Encoding } from './base.js';
import { syncDecoder } from './decode.js';
import type { AddedTokenJson, JsonObject, JsonValue, TokenizerConfig, TokenizerJson } from './json.js';
import { GPT2_PATTERN, METASPACE, bertNormalize, bertPreTokenize, toByteLevel, unigramNormalize } from './pretokenize.js';

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/** A pre-token and its [start, end) span in the segment it came from. */
type Word = { text: string; start: number; end: number };

interface Model {
  /** Token ids of one pre-token. */
  word(w: string): number[];
  tokenToId(t: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly size: number;
}

/** A model's word function with a cache of the ids of words seen (bounded: a million words). */
function memoized(word: (w: string) => number[]): (w: string) => number[] {
  const cache = new Map<string, number[]>();
  return (w) => {
    const hit = cache.get(w);
    if (hit) return hit;
    const ids = word(w);
    if (cache.size < 1 << 20) cache.set(w, ids);
    return ids;
  };
}

function vocabMaps(entries: Array<[string, number]>): { toId: Map<string, number>; toToken: string[] } {
  const toId = new Map<string, number>();
  const toToken: string[] = [];
  for (const [t, id] of entries) {
    toId.set(t, id);
    toToken[id] = t;
  }
  return { toId, toToken };
}

/** BPE: merges applied lowest rank first, leftmost first among equal ranks (tokenizers' word.merge_all). */
function bpeModel(m: JsonObject): Model {
  if (m['dropout'] !== null && m['dropout'] !== undefined) throw new TokenizerError('BPE dropout is not supported by the pure encoder');
  const { toId, toToken } = vocabMaps(Object.entries(m['vocab'] as Record<string, number>));
  const rank = new Map<string, number>();
  (m['merges'] as Array<string | [string, string]>).forEach((mg, i) => {
    const [a, b] = typeof mg === 'string' ? mg.split(' ') : mg;
    rank.set(`${a} ${b}`, i);
  });
  const ignoreMerges = m['ignore_merges'] === true;
  return {
    size: toToken.length,
    tokenToId: (t) => toId.get(t),
    idToToken: (id) => toToken[id],
    word: memoized((w) => {
      let ids: number[];
      if (ignoreMerges && toId.has(w)) ids = [toId.get(w)!];
      else {
        const syms = Array.from(w);
        for (;;) {
          let best = -1;
          let bestRank = Infinity;
          for (let i = 0; i + 1 < syms.length; i++) {
            const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
            if (r !== undefined && r < bestRank) {
              bestRank = r;
              best = i;
            }
          }
          if (best < 0) break;
          syms.splice(best, 2, syms[best]! + syms[best + 1]!);
        }
        ids = syms.map((s) => {
          const id = toId.get(s);
          if (id === undefined) throw new TokenizerError(`BPE: symbol ${JSON.stringify(s)} is not in the vocabulary`);
          return id;
        });
      }
      return ids;
    }),
  };
}

/** WordPiece: greedy longest match first; a word with no match (or too long) is the unknown token. */
function wordPieceModel(m: JsonObject): Model {
  const { toId, toToken } = vocabMaps(Object.entries(m['vocab'] as Record<string, number>));
  const prefix = String(m['continuing_subword_prefix'] ?? '##');
  const maxChars = Number(m['max_input_chars_per_word'] ?? 100);
  const unk = toId.get(String(m['unk_token']));
  if (unk === undefined) throw new TokenizerError(`WordPiece: unk_token ${JSON.stringify(m['unk_token'])} is not in the vocabulary`);
  return {
    size: toToken.length,
    tokenToId: (t) => toId.get(t),
    idToToken: (id) => toToken[id],
    word: memoized((w) => {
      const chars = Array.from(w);
      let ids: number[] = [];
      if (chars.length > maxChars) ids = [unk];
      else {
        let start = 0;
        while (start < chars.length) {
          let end = chars.length;
          let found: number | undefined;
          while (start < end) {
            const sub = (start > 0 ? prefix : '') + chars.slice(start, end).join('');
            found = toId.get(sub);
            if (found !== undefined) break;
            end--;
          }
          if (found === undefined) {
            ids = [unk];
            break;
          }
          ids.push(found);
          start = end;
        }
      }
      return ids;
    }),
  };
}

/** Unigram: the Viterbi path over the pieces' log-probabilities; unknown characters score min - 10 and fuse. */
function unigramModel(m: JsonObject): Model {
  const vocab = m['vocab'] as Array<[string, number]>;
  if (m['byte_fallback'] === true) throw new TokenizerError('Unigram byte_fallback is not supported by the pure encoder');
  const toId = new Map<string, number>();
  vocab.forEach(([p], i) => {
    if (!toId.has(p)) toId.set(p, i);
  });
  const scores = vocab.map(([, s]) => s);
  const unkId = Number(m['unk_id']);
  const unkScore = Math.min(...scores) - 10;
  let maxLen = 0;
  for (const [p] of vocab) maxLen = Math.max(maxLen, Array.from(p).length);
  return {
    size: vocab.length,
    tokenToId: (t) => toId.get(t),
    idToToken: (id) => vocab[id]?.[0],
    word: memoized((w) => {
      const chars = Array.from(w);
      const n = chars.length;
      const score = new Float64Array(n + 1);
      const from = new Int32Array(n + 1).fill(-1);
      const id = new Int32Array(n + 1);
      for (let s = 0; s < n; s++) {
        if (s > 0 && from[s] < 0) continue;
        const base = score[s]!;
        let piece = '';
        let single = false;
        for (let e = s + 1; e <= Math.min(n, s + maxLen); e++) {
          piece += chars[e - 1];
          const pid = toId.get(piece);
          if (pid === undefined) continue;
          if (e === s + 1) single = true;
          const cand = base + scores[pid]!;
          if (from[e] < 0 || cand > score[e]!) {
            score[e] = cand;
            from[e] = s;
            id[e] = pid;
          }
        }
        if (!single) {
          const cand = base + unkScore;
          if (from[s + 1] < 0 || cand > score[s + 1]!) {
            score[s + 1] = cand;
            from[s + 1] = s;
            id[s + 1] = unkId;
          }
        }
      }
      const rev: number[] = [];
      for (let e = n; e > 0; e = from[e]!) rev.push(id[e]!);
      const ids: number[] = [];
      for (let i = rev.length - 1; i >= 0; i--) if (!(rev[i] === unkId && ids.at(-1) === unkId)) ids.push(rev[i]!);
      return ids;
    }),
  };
}

/** The normaliser and pre-tokeniser of one segment of text (between added tokens). */
function preTokenizer(json: TokenizerJson): (segment: string) => Word[] {
  const norm = obj(json.normalizer);
  const pre = obj(json.pre_tokenizer);
  const type = json.model['type'];
  if (type === 'BPE' && json.normalizer === null && pre?.['type'] === 'ByteLevel' && pre['add_prefix_space'] !== true && pre['use_regex'] !== false) {
    const re = new RegExp(GPT2_PATTERN, 'gu');
    return (t) => Array.from(t.matchAll(re), (m) => ({ text: toByteLevel(m[0]), start: m.index, end: m.index + m[0].length }));
  }
  if (type === 'WordPiece' && norm?.['type'] === 'BertNormalizer' && pre?.['type'] === 'BertPreTokenizer') {
    const o = {
      cleanText: norm['clean_text'] !== false,
      handleChineseChars: norm['handle_chinese_chars'] !== false,
      stripAccents: typeof norm['strip_accents'] === 'boolean' ? norm['strip_accents'] : null,
      lowercase: norm['lowercase'] !== false,
    };
    return (t) => spans(t, bertPreTokenize(bertNormalize(t, o)));
  }
  if (type === 'Unigram' && pre?.['type'] === 'Metaspace' && pre['replacement'] === METASPACE && pre['prepend_scheme'] === 'always') {
    return (t) => {
      const n = unigramNormalize(t);
      if (!n) return [];
      const words = pre['split'] === false ? [n.split(' ').join(METASPACE)] : n.split(' ').filter(Boolean);
      return spans(t, words).map((w) => ({ ...w, text: METASPACE + w.text }));
    };
  }
  throw new TokenizerError(`the pure encoder supports the tokenizers pretrain trains (byte-level BPE, WordPiece, Unigram); this tokenizer.json has a ${String(type)} model with a ${String(pre?.['type'])} pre-tokenizer`);
}

/** Spans of words in the original text, found in order (after normalisation a word may not occur: then a zero-width span). */
function spans(text: string, words: string[]): Word[] {
  let pos = 0;
  const lower = text.toLowerCase();
  return words.map((w) => {
    const i = text.indexOf(w, pos);
    const j = i >= 0 ? i : lower.indexOf(w, pos);
    if (j < 0) return { text: w, start: pos, end: pos };
    pos = j + w.length;
    return { text: w, start: j, end: pos };
  });
}

type Piece = { kind: 'text'; text: string; start: number } | { kind: 'added'; token: AddedTokenJson; start: number; end: number };

/** Splits text on the added tokens (longest match at the leftmost position), honouring lstrip/rstrip. */
function addedSplitter(added: readonly AddedTokenJson[]): (text: string) => Piece[] {
  const tokens = added.filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
  if (!tokens.length) return (text) => [{ kind: 'text', text, start: 0 }];
  const byContent = new Map(tokens.map((t) => [t.content, t]));
  const re = new RegExp(tokens.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => {
    const out: Piece[] = [];
    let pos = 0;
    for (const m of text.matchAll(re)) {
      const t = byContent.get(m[0])!;
      let s = m.index;
      let e = s + m[0].length;
      if (s < pos) continue;
      if (t.lstrip) while (s > pos && /\s/.test(text[s - 1]!)) s--;
      if (t.rstrip) while (e < text.length && /\s/.test(text[e]!)) e++;
      if (s > pos) out.push({ kind: 'text', text: text.slice(pos, s), start: pos });
      out.push({ kind: 'added', token: t, start: s, end: e });
      pos = e;
    }
    if (pos < text.length) out.push({ kind: 'text', text: text.slice(pos), start: pos });
    return out;
  };
}

type Template = Array<{ special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number }>;

/** The post-processor's templates for one sequence and a pair. */
function templates(json: TokenizerJson): { single: Template; pair: Template; ids: Map<string, number[]> } | undefined {
  const p = obj(json.post_processor);
  if (!p || p['type'] === 'ByteLevel') return undefined;
  if (p['type'] === 'RobertaProcessing' || p['type'] === 'BertProcessing') {
    const [cls, clsId] = p['cls'] as [string, number];
    const [sep, sepId] = p['sep'] as [string, number];
    const ids = new Map([[cls, [clsId]], [sep, [sepId]]]);
    const roberta = p['type'] === 'RobertaProcessing';
    return {
      single: [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }],
      pair: roberta
        ? [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }, { special: sep, typeId: 0 }, { sequence: 'B', typeId: 0 }, { special: sep, typeId: 0 }]
        : [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: sep, typeId: 1 }],
      ids,
    };
  }
  if (p['type'] === 'TemplateProcessing') {
    const parse = (items: JsonValue): Template =>
      (items as JsonObject[]).map((it) => {
        const sp = obj(it['SpecialToken']);
        if (sp) return { special: String(sp['id']), typeId: Number(sp['type_id']) };
        const sq = obj(it['Sequence'])!;
        return { sequence: sq['id'] as 'A' | 'B', typeId: Number(sq['type_id']) };
      });
    const ids = new Map(Object.entries(obj(p['special_tokens']) ?? {}).map(([k, v]) => [k, (obj(v)!['ids'] as number[])]));
    return { single: parse(p['single']!), pair: parse(p['pair']!), ids };
  }
  throw new TokenizerError(`the pure encoder does not support a ${String(p['type'])} post-processor`);
}

class PureTokenizer extends TokenizerBase {
  readonly vocabSize: number;
  private readonly model: Model;
  private readonly pre: (segment: string) => Word[];
  private readonly split: (text: string) => Piece[];
  private readonly post: ReturnType<typeof templates>;
  private readonly added = new Map<string, number>();
  private readonly addedById = new Map<number, string>();
  private decoder?: (ids: readonly number[]) => string;

  constructor(json: TokenizerJson, config: TokenizerConfig) {
    super(json, config);
    const type = json.model['type'];
    this.model = type === 'BPE' ? bpeModel(json.model) : type === 'WordPiece' ? wordPieceModel(json.model) : type === 'Unigram' ? unigramModel(json.model) : (() => {
      throw new TokenizerError(`the pure encoder has no ${String(type)} model`);
    })();
    for (const t of json.added_tokens) {
      this.added.set(t.content, t.id);
      this.addedById.set(t.id, t.content);
    }
    if (json.added_tokens.some((t) => t.normalized && !t.special)) throw new TokenizerError('the pure encoder does not support normalized added tokens');
    this.vocabSize = Math.max(this.model.size, ...json.added_tokens.map((t) => t.id + 1));
    this.pre = preTokenizer(json);
    this.split = addedSplitter(json.added_tokens);
    this.post = templates(json);
  }

  /** One sequence without special tokens: ids, tokens, offsets and word indices. */
  private sequence(text: string): Omit<Encoding, 'typeIds' | 'specialTokensMask'> {
    const e: Omit<Encoding, 'typeIds' | 'specialTokensMask'> = { ids: [], tokens: [], offsets: [], wordIds: [] };
    let word = 0;
    for (const p of this.split(text)) {
      if (p.kind === 'added') {
        e.ids.push(p.token.id);
        e.tokens.push(p.token.content);
        e.offsets.push([p.start, p.end]);
        e.wordIds.push(word++);
        continue;
      }
      for (const w of this.pre(p.text)) {
        for (const id of this.model.word(w.text)) {
          e.ids.push(id);
          e.tokens.push(this.idToToken(id)!);
          e.offsets.push([p.start + w.start, p.start + w.end]);
          e.wordIds.push(word);
        }
        word++;
      }
    }
    return e;
  }

  async encode(text: string, options: EncodeOptions = {}): Promise<Encoding> {
    const a = this.sequence(text);
    const b = options.pair !== undefined ? this.sequence(options.pair) : undefined;
    if (options.addSpecialTokens === false || !this.post) {
      const parts = b ? [a, b] : [a];
      const out: Encoding = { ids: [], tokens: [], offsets: [], wordIds: [], typeIds: [], specialTokensMask: [] };
      parts.forEach((s, k) => {
        out.ids.push(...s.ids);
        out.tokens.push(...s.tokens);
        out.offsets.push(...s.offsets);
        out.wordIds.push(...s.wordIds);
        for (const _ of s.ids) out.typeIds.push(k), out.specialTokensMask.push(0);
      });
      return out;
    }
    const out: Encoding = { ids: [], tokens: [], offsets: [], wordIds: [], typeIds: [], specialTokensMask: [] };
    for (const item of b ? this.post.pair : this.post.single) {
      if ('special' in item) {
        for (const id of this.post.ids.get(item.special) ?? []) {
          out.ids.push(id);
          out.tokens.push(this.idToToken(id)!);
          out.offsets.push([0, 0]);
          out.wordIds.push(null);
          out.typeIds.push(item.typeId);
          out.specialTokensMask.push(1);
        }
      } else {
        const s = item.sequence === 'A' ? a : b!;
        out.ids.push(...s.ids);
        out.tokens.push(...s.tokens);
        out.offsets.push(...s.offsets);
        out.wordIds.push(...s.wordIds);
        for (const _ of s.ids) out.typeIds.push(item.typeId), out.specialTokensMask.push(0);
      }
    }
    return out;
  }

  async encodeBatch(texts: string[], options: EncodeOptions = {}): Promise<Encoding[]> {
    if (options.pair !== undefined) throw new TokenizerError('encodeBatch: pair is not supported; use encode');
    return Promise.all(texts.map((t) => this.encode(t, options)));
  }

  async encodeIdsBatch(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.sequence(t).ids);
  }

  async decode(ids: ArrayLike<number>, options: DecodeOptions = {}): Promise<string> {
    if (options.skipSpecialTokens === false) return Array.from(ids, (id) => this.idToToken(id) ?? '').join(' ');
    this.decoder ??= syncDecoder(this);
    return this.decoder(Array.from(ids));
  }

  tokenToId(token: string): number | undefined {
    return this.added.get(token) ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id) ?? this.model.idToToken(id);
  }
}

/** A tokenizer from tokenizer.json and tokenizer_config.json contents that needs no native package. */
export function pureTokenizer(json: TokenizerJson, config: TokenizerConfig): PureTokenizer {
  return new PureTokenizer(json, config);
}

export type { PureTokenizer };

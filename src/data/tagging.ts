/**
 * Token classification data: sentences of words with one tag per word (`{"tokens": [...], "tags": [...]}` JSONL,
 * or the bundled Brown part-of-speech task), and the alignment of word tags with subword pieces as Hugging Face's
 * `run_ner.py` does it with `label_all_tokens=False`: the first piece of each word carries the word's tag id, the
 * other pieces and the special tokens ([CLS]/[SEP], <s>/</s>) carry -100 (ignored by the loss and the metrics).
 * Node only (reads files, the native tokenizer).
 */
import type { Encoding, Tokenizer } from '../tokenizers/tokenizer.js';
import type { TaggedSentence } from './brown-pos.js';
import { readJsonlObjects } from './corpus.js';
import { DataError } from './errors.js';

/** The label of pieces that are not the first of a word, and of special tokens. */
export const IGNORE_INDEX = -100;

/** Sentences of a `{"tokens": [...], "tags": [...]}` JSONL file; errors name the file and line. */
export async function readTaggedJsonl(file: string): Promise<TaggedSentence[]> {
  const out: TaggedSentence[] = [];
  const expected = 'expected a JSON object with "tokens" and "tags", arrays of strings of the same length';
  for await (const [o, n] of readJsonlObjects(file, expected)) {
    const strings = (field: 'tokens' | 'tags'): string[] => {
      const a = o[field];
      if (a === undefined) throw new DataError(`no "${field}" field: ${expected}`, file, n);
      if (!Array.isArray(a)) throw new DataError(`"${field}" is not an array: ${expected}`, file, n);
      return a.map((x, i) => {
        if (typeof x === 'string') return x;
        if (field === 'tags' && typeof x === 'number') return String(x);
        throw new DataError(`"${field}"[${i}] is ${JSON.stringify(x)}, not a string: ${expected}`, file, n);
      });
    };
    const tokens = strings('tokens');
    const tags = strings('tags');
    if (tokens.length !== tags.length) throw new DataError(`${tokens.length} tokens but ${tags.length} tags: ${expected}`, file, n);
    if (tokens.length) out.push({ tokens, tags });
  }
  if (!out.length) throw new DataError('no tagged sentences: expected JSONL lines {"tokens": [...], "tags": [...]}', file);
  return out;
}

/** One sentence encoded for token classification. */
export interface AlignedSentence {
  /** Token ids with the tokenizer's special tokens, at most maxLen. */
  ids: number[];
  /** Per token: the word's tag id on the first piece of each word, IGNORE_INDEX elsewhere (all IGNORE_INDEX without tags). */
  labels: number[];
  /** Per token: the index of its word, -1 for special tokens. */
  wordIndex: number[];
  /** Per word: the index of its first piece, -1 when the word has no piece (truncated away, or empty after normalisation). */
  firstToken: number[];
}

/** Index of the word whose [start, end) character span holds `p`, -1 if none. */
function wordAt(starts: number[], ends: number[], p: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (p < starts[mid]!) hi = mid - 1;
    else if (p >= ends[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Texts through the tokenizer's whole pipeline with its special tokens ([CLS] text [SEP], <s> text </s>). A
 * tokenizer whose post-processor adds none (a byte-level BPE saved without a template) gets them explicitly:
 * cls/sep, else bos/eos, where it defines them.
 */
export async function encodeWithSpecials(tok: Tokenizer, texts: readonly string[]): Promise<Encoding[]> {
  if (!texts.length) return [];
  const encs = await tok.encodeBatch([...texts]);
  const s = tok.specialIds;
  const start = s.cls ?? s.bos;
  const end = s.sep ?? s.eos;
  return encs.map((e) => {
    if (e.specialTokensMask.some((m) => m === 1)) return e;
    const pre = start === undefined ? [] : [start];
    const post = end === undefined ? [] : [end];
    const wrap = <T>(xs: T[], special: T): T[] => [...pre.map(() => special), ...xs, ...post.map(() => special)];
    return {
      ids: [...pre, ...e.ids, ...post],
      tokens: wrap(e.tokens, ''),
      offsets: wrap(e.offsets, [0, 0] as [number, number]),
      wordIds: wrap(e.wordIds, null),
      typeIds: wrap(e.typeIds, 0),
      specialTokensMask: wrap(e.specialTokensMask, 1),
    };
  });
}

/** The positions of `e` that fit maxLen: the leading and trailing special tokens, and the text's first pieces. */
export function keptPositions(e: Encoding, maxLen: number): number[] {
  const n = e.ids.length;
  let prefix = 0;
  while (prefix < n && e.specialTokensMask[prefix] === 1) prefix++;
  let suffix = 0;
  while (suffix < n - prefix && e.specialTokensMask[n - 1 - suffix] === 1) suffix++;
  const room = maxLen - prefix - suffix;
  if (room < 1) throw new Error(`maxLen ${maxLen} leaves no room for text beside ${prefix + suffix} special tokens`);
  return [
    ...Array(prefix).keys(),
    ...Array.from({ length: Math.min(room, n - prefix - suffix) }, (_, k) => prefix + k),
    ...Array.from({ length: suffix }, (_, k) => n - suffix + k),
  ];
}

/**
 * Encode pre-split sentences (`is_split_into_words`) and align word tags with the pieces. The words of a sentence
 * are joined by single spaces and encoded through the tokenizer's whole pipeline (its post-processor adds
 * [CLS] ... [SEP] or <s> ... </s>, and a byte-level BPE word after the first carries its leading space, as in
 * running text; a tokenizer without a template gets its specials as in `encodeWithSpecials`); each piece is assigned to the word its character offsets fall in. Longer encodings lose pieces
 * from the end of the text, keeping the special tokens, so that the result fits maxLen.
 */
export async function alignWordLabels(tok: Tokenizer, sentences: readonly (readonly string[])[], maxLen: number, tagIds?: readonly (readonly number[])[]): Promise<AlignedSentence[]> {
  if (tagIds && tagIds.length !== sentences.length) throw new Error(`alignWordLabels: ${sentences.length} sentences but ${tagIds.length} tag rows`);
  const joined = sentences.map((ws) => ws.join(' '));
  const encs = await encodeWithSpecials(tok, joined);
  return encs.map((e, s) => {
    const words = sentences[s]!;
    const text = joined[s]!;
    const tags = tagIds?.[s];
    if (tags && tags.length !== words.length) throw new Error(`alignWordLabels: sentence ${s} has ${words.length} words but ${tags.length} tags`);
    const starts: number[] = [];
    const ends: number[] = [];
    let at = 0;
    for (const w of words) {
      starts.push(at);
      ends.push(at + w.length);
      at += w.length + 1;
    }
    const keep = keptPositions(e, maxLen);
    const ids: number[] = [];
    const labels: number[] = [];
    const wordIndex: number[] = [];
    const firstToken = new Array<number>(words.length).fill(-1);
    let prev = -1;
    for (const j of keep) {
      ids.push(e.ids[j]!);
      let w = -1;
      if (e.specialTokensMask[j] !== 1) {
        const [a, b] = e.offsets[j]!;
        let p = a;
        while (p < b - 1 && /\s/.test(text[p]!)) p++;
        w = wordAt(starts, ends, p);
        // A piece outside every span (e.g. an offset on the joining space): it belongs to the word before.
        if (w < 0) w = prev;
      }
      const first = w >= 0 && firstToken[w] === -1;
      if (first) firstToken[w] = ids.length - 1;
      wordIndex.push(w);
      labels.push(first && tags ? tags[w]! : IGNORE_INDEX);
      if (w >= 0) prev = w;
    }
    return { ids, labels, wordIndex, firstToken };
  });
}

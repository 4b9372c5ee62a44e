/**
 * TypeScript versions of the normalisers and pre-tokenisers that our
 * tokenizer.json files declare, used to count words while training. They
 * follow the Rust `tokenizers` implementations (tests compare them with the
 * native package). Pure: no Node imports.
 */

// ---------------------------------------------------------------- BERT

const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

function isCjk(cp: number): boolean {
  for (const [a, b] of CJK_RANGES) if (cp >= a && cp <= b) return true;
  return false;
}

const RE_OTHER = /\p{C}/u;
const RE_ZS = /\p{Zs}/u;
const RE_MN = /\p{Mn}/gu;
const RE_PUNCT = /\p{P}/u;

export interface BertNormalizerOptions {
  cleanText?: boolean;
  handleChineseChars?: boolean;
  /** Defaults to the value of `lowercase`, as in BERT. */
  stripAccents?: boolean | null;
  lowercase?: boolean;
}

/** BertNormalizer: clean control chars, space CJK, strip accents, lowercase. */
const RE_PRINTABLE_ASCII = /^[\x20-\x7e\t\n\r]*$/;

export function bertNormalize(text: string, opts: BertNormalizerOptions = {}): string {
  const lowercase = opts.lowercase ?? true;
  const stripAccents = opts.stripAccents ?? lowercase;
  // Fast path: printable ASCII has no control chars, CJK or accents to handle.
  if (RE_PRINTABLE_ASCII.test(text)) {
    const t = (opts.cleanText ?? true) ? text.replace(/[\t\n\r]/g, ' ') : text;
    return lowercase ? t.toLowerCase() : t;
  }
  let out = text;
  if (opts.cleanText ?? true) {
    let s = '';
    for (const ch of out) {
      const cp = ch.codePointAt(0)!;
      if (ch === '\t' || ch === '\n' || ch === '\r' || RE_ZS.test(ch)) s += ' ';
      else if (cp === 0 || cp === 0xfffd || RE_OTHER.test(ch)) continue;
      else s += ch;
    }
    out = s;
  }
  if (opts.handleChineseChars ?? true) {
    // Fast path: most text has no CJK ideographs.
    if (/[\u3400-\u9fff\uf900-\ufaff\ud840-\ud87e]/.test(out)) {
      let s = '';
      for (const ch of out) s += isCjk(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
      out = s;
    }
  }
  if (stripAccents) out = out.normalize('NFD').replace(RE_MN, '');
  if (lowercase) out = out.toLowerCase();
  return out;
}

function isBertPunct(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return c > 127 && RE_PUNCT.test(ch);
}

const RE_WS = /\s/u;

const RE_ASCII_WORDS = /[^\s!-/:-@[-`{-~]+|[!-/:-@[-`{-~]/g;

/** BertPreTokenizer: split on whitespace, isolate each punctuation character. */
export function bertPreTokenize(text: string): string[] {
  if (RE_PRINTABLE_ASCII.test(text)) return text.match(RE_ASCII_WORDS) ?? [];
  const words: string[] = [];
  let cur = '';
  for (const ch of text) {
    if (RE_WS.test(ch) || ch === '\u0085') {
      if (cur) words.push(cur), (cur = '');
    } else if (isBertPunct(ch)) {
      if (cur) words.push(cur), (cur = '');
      words.push(ch);
    } else cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}

// ---------------------------------------------------------------- byte level (GPT-2)

/**
 * GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to
 * U+0100 upwards, so every byte string is a printable string. Index = byte.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array(256);
  for (let i = 0; i < 256; i++) table[bs[i]!] = String.fromCharCode(cs[i]!);
  return table;
})();

/** The 256 byte-level symbols in GPT-2's vocabulary order (ids 0..255). */
export const BYTE_LEVEL_ALPHABET: readonly string[] = (() => {
  const order: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) order.push(b);
  for (let b = 0xa1; b <= 0xac; b++) order.push(b);
  for (let b = 0xae; b <= 0xff; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  return order.map((b) => BYTE_TO_UNICODE[b]!);
})();

/** The GPT-2 pre-tokenisation pattern (same string as in tokenizers' ByteLevel). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const RE_GPT2 = new RegExp(GPT2_PATTERN, 'gu');

const utf8 = new TextEncoder();

/** Map a string's UTF-8 bytes to byte-level symbols. */
export function toByteLevel(s: string): string {
  let out = '';
  // ASCII fast path avoids an encoder call per word.
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) { ascii = false; break; }
  if (ascii) {
    for (let i = 0; i < s.length; i++) out += BYTE_TO_UNICODE[s.charCodeAt(i)]!;
    return out;
  }
  for (const b of utf8.encode(s)) out += BYTE_TO_UNICODE[b]!;
  return out;
}

/** ByteLevel pre-tokenizer (add_prefix_space=false, use_regex=true): words in byte-level symbols. */
export function byteLevelPreTokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(RE_GPT2)) out.push(toByteLevel(m[0]));
  return out;
}

// ---------------------------------------------------------------- Metaspace (SentencePiece / T5)

export const METASPACE = '\u2581';

/** Our Unigram normaliser: NFKC, whitespace runs to one space, strip both ends. */
export function unigramNormalize(text: string): string {
  // NFKC leaves ASCII unchanged.
  const t = /^[\x00-\x7f]*$/.test(text) ? text : text.normalize('NFKC');
  return t.replace(/\s+/gu, ' ').trim();
}

/** Metaspace (prepend_scheme=always, split=true): "a b" -> ["▁a", "▁b"]. */
export function metaspacePreTokenize(normalized: string): string[] {
  if (!normalized) return [];
  const out: string[] = [];
  for (const w of normalized.split(' ')) if (w) out.push(METASPACE + w);
  return out;
}

/**
 * Rule-based sentence splitting for plain text without a sentence-per-line
 * layout (NSP and RoBERTa-style packing need sentences). A boundary is
 * [.!?]+ with optional closing quotes/brackets, then whitespace, then
 * something that can start a sentence (capital, digit, opening quote or
 * bracket); a single '.' after a known abbreviation or an initial is not a
 * boundary. Pure: no Node imports.
 */

export const DEFAULT_ABBREVIATIONS: ReadonlySet<string> = new Set(
  [
    'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'etc', 'e.g', 'i.e', 'inc', 'ltd', 'co', 'corp',
    'gen', 'col', 'lt', 'sgt', 'capt', 'cmdr', 'adm', 'rev', 'gov', 'sen', 'rep', 'pres', 'supt', 'messrs',
    'no', 'nos', 'fig', 'figs', 'vol', 'pp', 'ed', 'eds', 'approx', 'dept', 'univ', 'ave', 'blvd', 'mt', 'ft',
    'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
    'u.s', 'u.n', 'u.k', 'a.m', 'p.m', 'ph.d', 'cf', 'al',
  ],
);

const BOUNDARY = /([.!?]+)(["'\u201d\u2019)\]]*)(\s+)/gu;
const STARTER = /[\p{Lu}\p{N}"'\u201c\u2018(\[]/u;

export interface SplitOptions {
  abbreviations?: ReadonlySet<string>;
}

export function splitSentences(text: string, options: SplitOptions = {}): string[] {
  const abbr = options.abbreviations ?? DEFAULT_ABBREVIATIONS;
  const out: string[] = [];
  let start = 0;
  BOUNDARY.lastIndex = 0;
  for (let m = BOUNDARY.exec(text); m; m = BOUNDARY.exec(text)) {
    const punct = m[1]!;
    const endOfSentence = m.index + punct.length + m[2]!.length;
    const next = text.slice(m.index + m[0].length, m.index + m[0].length + 1);
    if (!next || !STARTER.test(next)) continue;
    if (punct === '.') {
      // The word before the period: letters and inner periods (U.S, e.g).
      const before = /([\p{L}.]+)$/u.exec(text.slice(Math.max(start, m.index - 20), m.index));
      const word = before ? before[1]!.toLowerCase() : '';
      if (abbr.has(word)) continue;
      if (/^\p{L}$/u.test(word)) continue; // an initial: "J. Smith"
    }
    const s = text.slice(start, endOfSentence).trim();
    if (s) out.push(s);
    start = m.index + m[0].length;
  }
  const tail = text.slice(start).trim();
  if (tail) out.push(tail);
  return out;
}

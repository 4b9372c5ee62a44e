/**
 * Part-of-speech tagging data from the bundled Brown Corpus: the Brown tags mapped to the 12 universal tags of
 * Petrov, Das & McDonald (2012, "A Universal Part-of-Speech Tagset"), as NLTK maps them
 * (`universal_tagset/en-brown.map`, used by `brown.tagged_sents(tagset='universal')`).
 *
 * NLTK's map is a table of ~470 full tags; it follows these rules, which reproduce it for every tag in the corpus:
 *
 * - `fw-...` (foreign word) -> X, whatever follows; `nil` -> X.
 * - The suffixes `-tl` (title), `-hl` (headline) and `-nc` (cited word) do not change the tag; they are stripped,
 *   repeatedly (`nn-tl-hl`), as are the truncated `-t` / `-n` of two damaged tags in the corpus (`fw-in+at-t`,
 *   `ppss+ber-n`).
 * - `*` marks negation: `*` alone (not, n't) -> ADV; a negated verb (`bez*`, `md*`, `do*`) is a VERB.
 * - `$` marks the genitive: nouns and numerals in the genitive are NOUN (`np$`, `cd$`), determiners stay DET
 *   (`dt$`), the other genitives (`ap$`, `rb$`, `jj$`) are PRT; `pp$` (my, your) -> DET and `pp$$` (mine) -> PRON
 *   are base tags.
 * - `+` joins the tags of a contraction. A verb first (`vb+ppo` gimme, `md+hv` shoulda) -> VERB; a verb, modal or
 *   form of be/have/do second after a non-verb (`ppss+md` I'd, `nn+bez`, `wrb+dod`) -> PRT; three parts (`wdt+ber+pp`) -> X;
 *   otherwise the first part (`in+ppo` -> ADP, `jjr+cs` -> ADJ). NLTK's two other choices are listed as
 *   exceptions: `do+ppss` (d'you) -> X, `wrb+in` -> PRT.
 * - Base tags: nouns (`nn`, `nns`, `np`, `nps`, `nr`, `nrs`, `pn`) NOUN; verbs (`vb*`, `be*`, `hv*`, `do*`, `md`)
 *   VERB; `jj*`, `ap`, `od` ADJ; `rb`, `rbr`, `rbt`, `rn`, `ql`, `qlp`, `wql`, `wrb` ADV; personal and wh-
 *   pronouns (`pps`, `ppss`, `ppo`, `ppl`, `ppls`, `pp$$`, `wps`, `wpo`) PRON; `at`, `abx`, `dt`, `dti`, `dts`,
 *   `dtx`, `wdt`, `pp$`, `wp$` DET; `in`, `cs` ADP; `cc` CONJ; `cd` NUM; `rp`, `to`, `ex`, `uh`, `abl`, `abn` PRT;
 *   punctuation `.` `,` `:` `(` `)` `--` `` ` `` `'` `` `` `` `''` -> `.`.
 *
 * Node only (reads the corpus through brown.ts).
 */
import { brownDocuments } from './brown.js';
import type { Split } from './types.js';

export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'] as const;
export type UniversalTag = (typeof UNIVERSAL_TAGS)[number];

/** A sentence of words with one tag per word (the `{"tokens", "tags"}` JSONL format). */
export interface TaggedSentence {
  tokens: string[];
  tags: string[];
}

const BASE: Readonly<Record<string, UniversalTag>> = (() => {
  const m: Record<string, UniversalTag> = {};
  const put = (tag: UniversalTag, tags: string) => {
    for (const t of tags.split(' ')) m[t] = tag;
  };
  put('NOUN', 'nn nns np nps nr nrs pn');
  put('VERB', 'vb vbd vbg vbn vbz be bed bedz beg bem ben ber bez hv hvd hvg hvn hvz do dod doz md');
  put('ADJ', 'jj jjr jjs jjt ap od');
  put('ADV', 'rb rbr rbt rn ql qlp wql wrb *');
  put('PRON', 'pps ppss ppo ppl ppls pp$$ wps wpo');
  put('DET', 'at abx dt dti dts dtx wdt pp$ wp$');
  put('ADP', 'in cs');
  put('CONJ', 'cc');
  put('NUM', 'cd');
  put('PRT', 'rp to ex uh abl abn');
  put('.', '. , : ( ) -- ` \' `` \'\'');
  put('X', 'nil');
  return m;
})();

const EXCEPTIONS: Readonly<Record<string, UniversalTag>> = { 'do+ppss': 'X', 'wrb+in': 'PRT' };

/** One simple tag (no `+`, suffixes stripped) -> its universal tag, or undefined when unknown. */
function simple(tag: string): UniversalTag | undefined {
  const base = BASE[tag];
  if (base) return base;
  if (tag.length > 1 && tag.endsWith('*')) {
    const u = simple(tag.slice(0, -1));
    return u === 'VERB' ? u : undefined;
  }
  if (tag.length > 1 && tag.endsWith('$')) {
    const u = simple(tag.slice(0, -1));
    if (u === undefined) return undefined;
    return u === 'NOUN' || u === 'NUM' ? 'NOUN' : u === 'DET' ? 'DET' : 'PRT';
  }
  return undefined;
}

/** The Brown tag without its `-tl`, `-hl`, `-nc` suffixes (and the corpus's two truncated ones). */
export function brownTagBase(tag: string): string {
  let t = tag.toLowerCase();
  for (;;) {
    const s = t.replace(/-(tl|hl|nc)$/, '');
    if (s === t) break;
    t = s;
  }
  // Two damaged tags: fw-in+at-t (for -tl), ppss+ber-n (for -nc).
  if (/[a-z*$]-[tn]$/.test(t)) t = t.slice(0, -2);
  return t;
}

/** A Brown tag (any case) -> its universal tag; undefined for a tag outside the Brown tag set. */
export function brownToUniversal(tag: string): UniversalTag | undefined {
  const lower = tag.toLowerCase();
  if (lower.startsWith('fw-')) return 'X';
  const t = brownTagBase(lower);
  const exception = EXCEPTIONS[t];
  if (exception) return exception;
  if (!t.includes('+') || t === '+') return simple(t);
  const split = t.split('+');
  if (split.length > 2) return 'X';
  const parts = split.map(simple);
  if (parts.some((p) => p === undefined)) return undefined;
  const [first, second] = parts as [UniversalTag, UniversalTag];
  if (first === 'VERB') return 'VERB';
  if (second === 'VERB') return 'PRT';
  return first;
}

/**
 * The Brown part-of-speech task: every sentence of the documents of `split` (whole documents are held out, as
 * for the genre task), with the original Brown tokens and their universal tags.
 */
export function brownPosData(split: Split | 'all' = 'train'): TaggedSentence[] {
  const out: TaggedSentence[] = [];
  for (const d of brownDocuments(split)) {
    d.words.forEach((words, i) => {
      const tags = d.tags[i]!.map((t, k) => {
        const u = brownToUniversal(t);
        if (u === undefined) throw new Error(`${d.id}: Brown tag "${t}" of "${words[k]}" has no universal tag`);
        return u;
      });
      if (words.length) out.push({ tokens: [...words], tags });
    });
  }
  return out;
}

/** Documents as every corpus reader yields them. Pure: no Node imports. */

export interface CorpusDocument {
  /** Stable id: Brown file id (`ca01`), or `file:line` / `file#n` for user corpora. */
  id: string;
  /** Sentences in order; joined with single spaces they give `text`. */
  sentences: string[];
  text: string;
  /** Optional label (JSONL `label`, Brown genre). */
  label?: string | number;
}

/** A Brown document: the tagged tokens are kept for part-of-speech tagging. */
export interface BrownDocument extends CorpusDocument {
  genre: BrownGenre;
  label: BrownGenre;
  split: Split;
  /** Original Brown tokens per sentence. */
  words: string[][];
  /** Part-of-speech tags aligned with `words` (Brown tag set, lowercase, e.g. `nn-tl`, `np$`). */
  tags: string[][];
}

export type Split = 'train' | 'validation' | 'test';

export const BROWN_GENRES = [
  'news',
  'editorial',
  'reviews',
  'religion',
  'hobbies',
  'lore',
  'belles_lettres',
  'government',
  'learned',
  'fiction',
  'mystery',
  'science_fiction',
  'adventure',
  'romance',
  'humor',
] as const;
export type BrownGenre = (typeof BROWN_GENRES)[number];

/** The Brown manual's four broad categories: press (A-C), general prose (D-H), learned (J), fiction (K-R). */
export const BROWN_CATEGORY: Readonly<Record<BrownGenre, 'press' | 'general' | 'learned' | 'fiction'>> = {
  news: 'press', editorial: 'press', reviews: 'press',
  religion: 'general', hobbies: 'general', lore: 'general', belles_lettres: 'general', government: 'general',
  learned: 'learned',
  fiction: 'fiction', mystery: 'fiction', science_fiction: 'fiction', adventure: 'fiction', romance: 'fiction', humor: 'fiction',
};

/** A tokenised document: ids plus sentence boundaries (offsets into `tokens`, first 0, last tokens.length). */
export interface TokenDocument {
  tokens: Uint32Array;
  sentenceBounds: Uint32Array;
}

/** Random access to tokenised documents; token shards implement it, tests can use arrays. */
export interface DocumentSource {
  readonly documentCount: number;
  readonly tokenCount: number;
  document(index: number): TokenDocument;
}

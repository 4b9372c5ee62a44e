// Documents from lines of text (.txt: a blank line ends a document) and of JSONL. Pure: no Node imports; corpus.ts
// feeds it a file's lines, the browser playground a pasted or dropped text (textLines).
import { DataError } from './errors.js';
import { splitSentences } from './sentences.js';
import type { CorpusDocument } from './types.js';

/** Lines with their 1-based numbers, as readLines yields them. */
export type Lines = Iterable<[string, number]> | AsyncIterable<[string, number]>;

/** The lines of a string (a trailing \r is dropped, as readLines does; a leading BOM too). */
export function* textLines(text: string): Generator<[string, number]> {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) yield [lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!, i + 1];
}

function makeDoc(id: string, sentences: string[], label?: string | number): CorpusDocument {
  const d: CorpusDocument = { id, sentences, text: sentences.join(' ') };
  if (label !== undefined) d.label = label;
  return d;
}

/** Documents of plain text: a blank line ends a document; ids are `idBase:line`. */
export async function* textDocuments(source: Lines, sentencePerLine = false, idBase = 'text'): AsyncGenerator<CorpusDocument> {
  let lines: string[] = [];
  let startLine = 0;
  const flush = (): CorpusDocument | undefined => {
    if (lines.length === 0) return undefined;
    const sentences = sentencePerLine ? lines : splitSentences(lines.join(' '));
    const d = makeDoc(`${idBase}:${startLine}`, sentences);
    lines = [];
    return d;
  };
  for await (const [raw, n] of source) {
    const line = raw.trim();
    if (!line) {
      const d = flush();
      if (d) yield d;
      continue;
    }
    if (lines.length === 0) startLine = n;
    lines.push(line.replace(/\s+/g, ' '));
  }
  const d = flush();
  if (d) yield d;
}

/**
 * The objects of JSONL lines with their line numbers; blank lines are skipped. A line that is not JSON, or not an
 * object, is a DataError naming the file and line and ending in `expected` (what a line should hold).
 */
export async function* jsonlObjects(lines: Lines, file: string, expected: string): AsyncGenerator<[Record<string, unknown>, number]> {
  for await (const [raw, n] of lines) {
    const line = raw.trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DataError(`invalid JSON (${(e as Error).message}): ${expected}`, file, n);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DataError(expected, file, n);
    yield [v as Record<string, unknown>, n];
  }
}

/** Documents of a .jsonl file: one object per line with a string "text", optional "label" and "id". */
export async function* jsonlDocuments(lines: Lines, file: string, sentencePerLine = false, idBase = file): AsyncGenerator<CorpusDocument> {
  for await (const [o, n] of jsonlObjects(lines, file, 'expected a JSON object with a string field "text"')) {
    if (typeof o['text'] !== 'string') {
      throw new DataError(`${'text' in o ? '"text" is not a string' : 'no "text" field'}: expected a JSON object with a string field "text"`, file, n);
    }
    const label = o['label'];
    if (label !== undefined && label !== null && typeof label !== 'string' && typeof label !== 'number') {
      throw new DataError('"label" must be a string or a number', file, n);
    }
    const text = o['text'].trim();
    if (!text) continue;
    const sentences = sentencePerLine
      ? text.split('\n').map((s) => s.trim().replace(/\s+/g, ' ')).filter(Boolean)
      : splitSentences(text.replace(/\s+/g, ' '));
    const id = typeof o['id'] === 'string' || typeof o['id'] === 'number' ? String(o['id']) : `${idBase}:${n}`;
    yield makeDoc(id, sentences, label ?? undefined);
  }
}


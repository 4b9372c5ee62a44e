/**
 * Corpus specs and readers. A spec is one of:
 *   brown | brown:train | brown:validation | brown:test | brown:all   the bundled Brown corpus
 *   path/to/file.txt      blank line ends a document
 *   path/to/file.jsonl    one JSON object per line with "text" (and optional "label", "id")
 *   path/to/dir           every .txt and .jsonl below it, sorted
 *   'data/**\/*.txt'      a glob (* ? ** within path segments)
 * Node only (fs). Reading is streaming: files are read in chunks, one
 * document at a time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { brownDocuments } from './brown.js';
import { DataError } from './errors.js';
import { jsonlDocuments, jsonlObjects, textDocuments } from './text.js';
import type { CorpusDocument, Split } from './types.js';

export interface CorpusOptions {
  /** Plain text: each line is one sentence (else lines are joined and split by rule). Default false. */
  sentencePerLine?: boolean;
  /** Brown split when the spec is plain `brown`. Default 'all'. */
  split?: Split | 'all';
}

export interface ResolvedCorpus {
  spec: string;
  kind: 'brown' | 'files';
  /** Brown split; undefined for files. */
  split?: Split | 'all';
  files: string[];
  sentencePerLine: boolean;
  /** Changes when a file, its size or mtime, or a reading option changes: the shard cache key. */
  fingerprint: string;
}

const SPLITS = new Set(['train', 'validation', 'test', 'all']);
const CORPUS_HELP = 'a corpus is "brown", "brown:<train|validation|test>", a .txt or .jsonl file, a directory of them, or a glob';

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

function walk(dir: string, out: string[]): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.name.startsWith('.')) continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else if (ent.isFile()) out.push(p);
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // "**/" matches zero or more directories.
        if (pattern[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i++;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files matching a glob, sorted. Only * ? and ** are special. */
export function expandGlob(pattern: string): string[] {
  const abs = (isAbsolute(pattern) ? pattern : resolve(pattern)).split(sep).join('/');
  const segs = abs.split('/');
  const firstWild = segs.findIndex(hasGlob);
  const base = segs.slice(0, firstWild).join('/') || '/';
  if (!existsSync(base)) return [];
  const files: string[] = [];
  walk(base, files);
  const re = globToRegExp(abs);
  return files.filter((f) => re.test(f.split(sep).join('/'))).sort();
}

const isCorpusFile = (f: string): boolean => ['.txt', '.jsonl'].includes(extname(f).toLowerCase());

/** Check a spec and list its files; throws DataError naming what is missing. */
export function resolveCorpus(spec: string, options: CorpusOptions = {}): ResolvedCorpus {
  const sentencePerLine = options.sentencePerLine ?? false;
  const s = spec.trim();
  if (!s) throw new DataError(`empty corpus spec: ${CORPUS_HELP}`);
  const m = /^brown(?::(\w+))?$/.exec(s);
  if (m && !existsSync(s)) {
    const split = (m[1] ?? options.split ?? 'all') as Split | 'all';
    if (!SPLITS.has(split)) throw new DataError(`unknown Brown split "${m[1]}": expected train, validation, test or all`);
    return { spec: s, kind: 'brown', split, files: [], sentencePerLine: true, fingerprint: `brown:${split}:v1` };
  }
  let files: string[];
  if (hasGlob(s) && !existsSync(s)) {
    files = expandGlob(s);
    if (files.length === 0) throw new DataError(`no files match the glob ${s}: ${CORPUS_HELP}`);
  } else {
    const p = resolve(s);
    if (!existsSync(p)) throw new DataError(`no such file or directory: ${CORPUS_HELP}`, p);
    const st = statSync(p);
    if (st.isDirectory()) {
      const all: string[] = [];
      walk(p, all);
      files = all.filter(isCorpusFile).sort();
      if (files.length === 0) throw new DataError('directory has no .txt or .jsonl files: expected a corpus directory', p);
    } else files = [p];
  }
  const h = createHash('sha256');
  h.update(`files:v1:${sentencePerLine}\n`);
  for (const f of files) {
    const st = statSync(f);
    h.update(`${f}\t${st.size}\t${st.mtimeMs}\n`);
  }
  return { spec: s, kind: 'files', files, sentencePerLine, fingerprint: h.digest('hex') };
}

/**
 * Lines of a UTF-8 file with 1-based line numbers, read in 1 MiB chunks.
 * Throws DataError for a binary file (NUL bytes) or invalid UTF-8, naming the line.
 */
export async function* readLines(file: string): AsyncGenerator<[string, number]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    throw new DataError('cannot open file: expected a readable text file', file);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let first = true;
  const decodeLines = (bytes: Buffer): string[] => {
    try {
      return decoder.decode(bytes).split('\n');
    } catch {
      // Find the offending line for the message.
      const parts: Buffer[] = [];
      let start = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i === bytes.length || bytes[i] === 0x0a) {
          parts.push(bytes.subarray(start, i));
          start = i + 1;
        }
      }
      for (let k = 0; k < parts.length; k++) {
        try {
          decoder.decode(parts[k]!);
        } catch {
          throw new DataError('invalid UTF-8: expected UTF-8 text', file, lineNo + k + 1);
        }
      }
      throw new DataError('invalid UTF-8: expected UTF-8 text', file, lineNo + 1);
    }
  };
  try {
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      let data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      if (first) {
        first = false;
        if (data.subarray(0, 8192).includes(0)) throw new DataError('binary file (contains NUL bytes): expected UTF-8 text', file);
        if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
      } else if (data.includes(0)) {
        throw new DataError('binary data (NUL bytes): expected UTF-8 text', file, lineNo + 1 + countNewlines(data, data.indexOf(0)));
      }
      const lastNl = data.lastIndexOf(0x0a);
      if (lastNl < 0) {
        carry = data;
        continue;
      }
      carry = Buffer.from(data.subarray(lastNl + 1));
      const lines = decodeLines(data.subarray(0, lastNl));
      for (const l of lines) yield [l.endsWith('\r') ? l.slice(0, -1) : l, ++lineNo];
    }
    if (carry.length > 0) {
      const [l] = decodeLines(carry);
      yield [l!.endsWith('\r') ? l!.slice(0, -1) : l!, ++lineNo];
    }
  } finally {
    await fh.close();
  }
}

function countNewlines(b: Buffer, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (b[i] === 0x0a) n++;
  return n;
}

/** Documents of a .txt file: a blank line ends a document. */
export function readTextFile(file: string, sentencePerLine = false, idBase = file): AsyncGenerator<CorpusDocument> {
  return textDocuments(readLines(file), sentencePerLine, idBase);
}

/**
 * The objects of a JSONL file with their line numbers; blank lines are skipped. A line that is not JSON, or not an
 * object, is a DataError naming the file and line and ending in `expected` (what a line should hold).
 */
export function readJsonlObjects(file: string, expected: string): AsyncGenerator<[Record<string, unknown>, number]> {
  return jsonlObjects(readLines(file), file, expected);
}

/** Documents of a .jsonl file: one object per line with a string "text", optional "label" and "id". */
export function readJsonlFile(file: string, sentencePerLine = false, idBase = file): AsyncGenerator<CorpusDocument> {
  return jsonlDocuments(readLines(file), file, sentencePerLine, idBase);
}

/**
 * Stream the documents of a corpus. Throws DataError when the corpus holds
 * no text at all (after reading it).
 */
export async function* readCorpus(spec: string | ResolvedCorpus, options: CorpusOptions = {}): AsyncGenerator<CorpusDocument> {
  const c = typeof spec === 'string' ? resolveCorpus(spec, options) : spec;
  let n = 0;
  if (c.kind === 'brown') {
    for (const d of brownDocuments(c.split ?? 'all')) {
      n++;
      yield d;
    }
  } else {
    const cwd = process.cwd();
    for (const f of c.files) {
      const rel = relative(cwd, f);
      const idBase = rel.startsWith('..') ? f : rel;
      const gen = extname(f).toLowerCase() === '.jsonl' ? readJsonlFile(f, c.sentencePerLine, idBase) : readTextFile(f, c.sentencePerLine, idBase);
      for await (const d of gen) {
        if (d.sentences.length === 0) continue;
        n++;
        yield d;
      }
    }
  }
  if (n === 0) {
    const where = c.files.length === 1 ? c.files[0] : undefined;
    throw new DataError(`empty corpus "${c.spec}": expected at least one document with text`, where);
  }
}

/** Sentences of a corpus, one string each: what tokenizer trainers read. */
export async function* corpusSentences(spec: string | ResolvedCorpus, options: CorpusOptions = {}): AsyncGenerator<string> {
  for await (const d of readCorpus(spec, options)) yield* d.sentences;
}

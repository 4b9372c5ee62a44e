/**
 * Extractive question answering data in the SQuAD v1.1 JSON format, read as Hugging Face's `run_qa.py` reads it
 * through the `datasets` squad loader: `data[].paragraphs[].context` and `qas[].{id, question, answers[{text,
 * answer_start}]}`, one example per question (its article's `title`, its paragraph's `context`). Errors name the
 * file and the JSON path of the bad field. An answer whose text is not at `answer_start` in the context is an
 * error (run_qa.py trusts `answer_start` to label the span).
 *
 * Also the bundled cloze-style QA set built from the Brown Corpus (`brown-qa`): see `brownQa`.
 */
import { readFile } from 'node:fs/promises';
import { brownDocuments } from './brown.js';
import { brownToUniversal } from './brown-pos.js';
import { detokenizeSpans } from './detok.js';
import { DataError } from './errors.js';
import { Rng } from './rng.js';
import type { BrownDocument, Split } from './types.js';

export interface SquadAnswer {
  text: string;
  /** Character offset of `text` in the context (UTF-16 units, as JS strings and Python's str index BMP text). */
  answerStart: number;
}

/** One question: datasets' squad features (id, title, context, question, answers). */
export interface SquadExample {
  id: string;
  title: string;
  context: string;
  question: string;
  /** Gold answers: training uses the first, evaluation scores against all of them. */
  answers: SquadAnswer[];
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The examples of a parsed SQuAD v1.1 JSON value; `file` names the source in errors. */
export function parseSquad(json: unknown, file: string): SquadExample[] {
  const fail = (at: string, what: string): never => {
    throw new DataError(`${at}: ${what} (SQuAD v1.1: {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]})`, file);
  };
  const field = (o: Json, at: string, key: string): unknown => (key in o ? o[key] : fail(`${at}.${key}`, 'missing'));
  const array = (o: Json, at: string, key: string): unknown[] => {
    const v = field(o, at, key);
    return Array.isArray(v) ? v : fail(`${at}.${key}`, `expected an array, got ${JSON.stringify(v)?.slice(0, 40)}`);
  };
  const string = (o: Json, at: string, key: string): string => {
    const v = field(o, at, key);
    return typeof v === 'string' ? v : fail(`${at}.${key}`, `expected a string, got ${JSON.stringify(v)?.slice(0, 40)}`);
  };
  const object = (x: unknown, at: string): Json => (isObject(x) ? x : fail(at, 'expected an object'));

  const root = object(json, '(root)');
  const out: SquadExample[] = [];
  const ids = new Map<string, string>();
  array(root, '', 'data').forEach((a, i) => {
    const art = object(a, `data[${i}]`);
    // datasets: title = article.get("title", "")
    const title = 'title' in art ? string(art, `data[${i}]`, 'title') : '';
    array(art, `data[${i}]`, 'paragraphs').forEach((p, j) => {
      const pat = `data[${i}].paragraphs[${j}]`;
      const par = object(p, pat);
      const context = string(par, pat, 'context');
      array(par, pat, 'qas').forEach((q, k) => {
        const qat = `${pat}.qas[${k}]`;
        const qa = object(q, qat);
        const idv = field(qa, qat, 'id');
        if (typeof idv !== 'string' && typeof idv !== 'number') fail(`${qat}.id`, 'expected a string');
        const id = String(idv);
        const seen = ids.get(id);
        if (seen !== undefined) fail(`${qat}.id`, `"${id}" is also the id of ${seen}`);
        ids.set(id, qat);
        const question = string(qa, qat, 'question');
        if (!question.trim()) fail(`${qat}.question`, 'empty question');
        if (qa['is_impossible'] === true) fail(`${qat}.is_impossible`, 'unanswerable questions are SQuAD v2.0; only v1.1 (every question answerable) is supported');
        const raw = array(qa, qat, 'answers');
        if (!raw.length) fail(`${qat}.answers`, 'no answer (SQuAD v1.1 questions have at least one)');
        const answers = raw.map((x, m) => {
          const aat = `${qat}.answers[${m}]`;
          const ans = object(x, aat);
          const text = string(ans, aat, 'text');
          const start = field(ans, aat, 'answer_start');
          if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) fail(`${aat}.answer_start`, `expected a non-negative integer, got ${JSON.stringify(start)}`);
          const answerStart = start as number;
          if (!text) fail(`${aat}.text`, 'empty answer');
          if (context.slice(answerStart, answerStart + text.length) !== text)
            fail(`${aat}.answer_start`, `the context at ${answerStart} reads ${JSON.stringify(context.slice(answerStart, answerStart + text.length))}, not the answer ${JSON.stringify(text)}`);
          return { text, answerStart };
        });
        out.push({ id, title, context, question, answers });
      });
    });
  });
  if (!out.length) throw new DataError('no questions in data[].paragraphs[].qas[]', file);
  return out;
}

/** The questions of a SQuAD v1.1 JSON file. */
export async function readSquad(file: string): Promise<SquadExample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read: ${(e as Error).message}`, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(`not JSON: ${(e as Error).message}`, file);
  }
  return parseSquad(json, file);
}

/** SQuAD v1.1 JSON for examples: articles by title, paragraphs by context (in first-seen order). */
export function squadJson(examples: readonly SquadExample[], version = '1.1'): { version: string; data: Json[] } {
  const articles = new Map<string, Map<string, Json[]>>();
  for (const x of examples) {
    const paras = articles.get(x.title) ?? new Map<string, Json[]>();
    articles.set(x.title, paras);
    const qas = paras.get(x.context) ?? [];
    paras.set(x.context, qas);
    qas.push({ id: x.id, question: x.question, answers: x.answers.map((a) => ({ text: a.text, answer_start: a.answerStart })) });
  }
  return {
    version,
    data: [...articles].map(([title, paras]) => ({ title, paragraphs: [...paras].map(([context, qas]) => ({ context, qas })) })),
  };
}

// ---- brown-qa: cloze questions from the Brown Corpus ----

export interface BrownQaOptions {
  /** Consecutive sentences per context (default 3). */
  sentences?: number;
  /** At most this many questions, chosen by a seeded shuffle (0 = all). */
  n?: number;
  seed?: number;
}

/** Longest answer span, in Brown words. */
const MAX_SPAN_WORDS = 4;
/** Question sentences of this many words (shorter ones say too little, longer ones crowd the context out). */
const QUESTION_WORDS: readonly [number, number] = [6, 25];

/**
 * Candidate answer spans of a sentence: maximal runs of words tagged NOUN or NUM (universal tags; Brown's `np`
 * proper nouns are NOUNs) of at most MAX_SPAN_WORDS words, as [first, last] word indices and the wh-word that
 * replaces them ("how many" for a run of numbers, else "what").
 */
function answerRuns(tags: readonly string[]): Array<{ from: number; to: number; wh: string }> {
  const u = tags.map((t) => brownToUniversal(t));
  const out: Array<{ from: number; to: number; wh: string }> = [];
  for (let i = 0; i < u.length; ) {
    if (u[i] !== 'NOUN' && u[i] !== 'NUM') {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < u.length && (u[j + 1] === 'NOUN' || u[j + 1] === 'NUM')) j++;
    if (j - i + 1 <= MAX_SPAN_WORDS) out.push({ from: i, to: j, wh: u.slice(i, j + 1).every((t) => t === 'NUM') ? 'how many' : 'what' });
    i = j + 1;
  }
  return out;
}

/** One cloze question per context of `k` sentences of a document: null when no sentence offers a span. */
function documentQuestions(d: BrownDocument, k: number, rng: Rng): SquadExample[] {
  const out: SquadExample[] = [];
  for (let c = 0; c + k <= d.words.length; c += k) {
    const sents = Array.from({ length: k }, (_, i) => detokenizeSpans(d.words[c + i]!));
    const context = sents.map((s) => s.text).join(' ');
    const candidates: Array<{ s: number; from: number; to: number; wh: string }> = [];
    for (let s = 0; s < k; s++) {
      const n = d.words[c + s]!.length;
      if (n < QUESTION_WORDS[0] || n > QUESTION_WORDS[1]) continue;
      for (const r of answerRuns(d.tags[c + s]!)) candidates.push({ s, ...r });
    }
    if (!candidates.length) continue;
    const pick = candidates[rng.int(candidates.length)]!;
    const { text, spans } = sents[pick.s]!;
    let offset = 0;
    for (let s = 0; s < pick.s; s++) offset += sents[s]!.text.length + 1;
    const start = spans[pick.from]![0];
    const end = spans[pick.to]![1];
    const before = text.slice(0, start).trimEnd();
    const after = text.slice(end).trimStart();
    // The sentence with the span replaced by the wh-word, ending in a question mark.
    const question = `${before}${before ? ' ' : ''}${before ? pick.wh : pick.wh[0]!.toUpperCase() + pick.wh.slice(1)}${after && !/^[.,;:!?'")]/.test(after) ? ' ' : ''}${after}`.replace(/[.!?;:,]*\s*$/, '?');
    out.push({
      id: `${d.id}-${c / k}`, title: d.id, context, question,
      answers: [{ text: context.slice(offset + start, offset + end), answerStart: offset + start }],
    });
  }
  return out;
}

/**
 * The bundled QA set (`--data brown-qa`): for each run of `sentences` consecutive sentences of a Brown document
 * (the context), one question: one of those sentences with a noun or number run (universal tags) replaced by
 * "what" / "how many", the run being the answer. Questions of `split`'s documents only (training questions from
 * training documents, evaluation ones from validation documents); deterministic for a seed.
 */
export function brownQa(split: Split, opts: BrownQaOptions = {}): SquadExample[] {
  const k = opts.sentences ?? 3;
  if (!(k >= 1)) throw new Error(`brown-qa: sentences per context must be at least 1, got ${k}`);
  const rng = new Rng(`brown-qa:${split}:${opts.seed ?? 0}`);
  const all = brownDocuments(split).flatMap((d) => documentQuestions(d, k, rng));
  const n = opts.n ?? 0;
  if (!(n > 0) || n >= all.length) return all;
  return rng.sampleIndices(all.length, n).sort((a, b) => a - b).map((i) => all[i]!);
}

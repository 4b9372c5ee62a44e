// `predict --input file.jsonl`: a fine-tuned model over a whole file, one JSON line out per input line, as HF
// pipelines name the fields: classify {"text"[, "text_pair"]} -> {text[, text_pair], label, probabilities};
// tag {"tokens"} -> {tokens, tags}; text2text {"input"} -> {input, output}. Lines that carry the gold answer
// ("label", "tags", "target") are scored: accuracy, token accuracy, exact match. qa {"question", "context"} ->
// {question, answer, score, start, end}, scored by SQuAD F1 against "answers" (strings, or SQuAD {text} objects).
import { DataError, readJsonlObjects } from '../data/index.js';
import { normalise, type Finetuned } from './finetune.js';
import { squadF1 } from './metrics.js';

export interface PredictFileResult {
  /** Lines predicted. */
  count: number;
  /** Over the lines with a gold answer: accuracy (classify), token accuracy (tag) or exact match (text2text). */
  gold?: { metric: 'accuracy' | 'token_accuracy' | 'exact_match' | 'f1'; value: number; count: number };
}

const EXPECTED = {
  classify: 'a classify input line needs a string "text" (optionally "text_pair", and "label" to score)',
  tag: 'a tag input line needs "tokens", an array of strings (and "tags" to score)',
  text2text: 'a text2text input line needs a string "input" (and "target" to score)',
  qa: 'a qa input line needs strings "question" and "context" (and "answers", strings or {"text"} objects, to score)',
} as const;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Predicts every line of `file` in order, handing each output line (JSON, no newline) to `write`. */
export async function predictFile(m: Finetuned, file: string, write: (line: string) => void | Promise<void>, opts: { maxNewTokens?: number } = {}): Promise<PredictFileResult> {
  const expected = EXPECTED[m.task];
  let count = 0;
  let scored = 0;
  let right = 0;
  for await (const [r, n] of readJsonlObjects(file, expected)) {
    count++;
    if (m.task === 'classify') {
      const { text, text_pair: pair, label: gold } = r;
      if (typeof text !== 'string' || (pair !== undefined && typeof pair !== 'string')) throw new DataError(expected, file, n);
      const { label, probabilities } = await m.classify(text, pair);
      await write(JSON.stringify({ text, ...(pair !== undefined ? { text_pair: pair } : {}), label, probabilities }));
      if (gold !== undefined && gold !== null) {
        scored++;
        if (String(gold) === label) right++;
      }
    } else if (m.task === 'tag') {
      const { tokens, tags: gold } = r;
      if (!isStrings(tokens) || !tokens.length) throw new DataError(expected, file, n);
      const tags = await m.tag(tokens);
      await write(JSON.stringify({ tokens, tags }));
      if (gold !== undefined) {
        if (!isStrings(gold) || gold.length !== tokens.length) throw new DataError(`"tags" must be an array of ${tokens.length} strings, one per token`, file, n);
        scored += gold.length;
        right += gold.filter((t, i) => t === tags[i]).length;
      }
    } else if (m.task === 'qa') {
      const { question, context, answers } = r;
      if (typeof question !== 'string' || typeof context !== 'string') throw new DataError(expected, file, n);
      const [best] = await m.answer(question, context);
      await write(JSON.stringify({ question, answer: best!.text, score: best!.score, start: best!.start, end: best!.end }));
      if (answers !== undefined) {
        const golds = Array.isArray(answers) ? answers.map((a: unknown) => (typeof a === 'string' ? a : typeof a === 'object' && a !== null && typeof (a as Record<string, unknown>)['text'] === 'string' ? ((a as Record<string, unknown>)['text'] as string) : undefined)) : [];
        if (!golds.length || golds.some((g) => g === undefined)) throw new DataError('"answers" must be a non-empty array of strings or {"text"} objects', file, n);
        scored++;
        right += Math.max(...(golds as string[]).map((g) => squadF1(best!.text, g)));
      }
    } else {
      const { input, target } = r;
      if (typeof input !== 'string') throw new DataError(expected, file, n);
      const output = await m.generate(input, opts);
      await write(JSON.stringify({ input, output }));
      if (target !== undefined && target !== null) {
        scored++;
        if (normalise(String(target)) === normalise(output)) right++;
      }
    }
  }
  if (!count) throw new DataError(`no input lines: ${expected}`, file);
  const metric = m.task === 'classify' ? 'accuracy' : m.task === 'tag' ? 'token_accuracy' : m.task === 'qa' ? 'f1' : 'exact_match';
  return { count, ...(scored ? { gold: { metric, value: right / scored, count: scored } } : {}) };
}

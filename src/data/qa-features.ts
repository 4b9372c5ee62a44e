/**
 * Extractive QA features and answers, as Hugging Face's `run_qa.py` makes them:
 * - `prepareQaFeatures` (prepare_train_features / prepare_validation_features): the question and the context as a
 *   pair through the tokenizer's pair template ([CLS] q [SEP] c [SEP] for BERT, <s> q </s></s> c </s> for
 *   RoBERTa), the context alone truncated ("only_second"); a context too long for `maxLen` becomes several
 *   windows overlapping by `docStride` tokens (the tokenizer's `stride`, return_overflowing_tokens); each window's
 *   answer start/end token found through the offset mapping, or the CLS index (0) when the answer is not wholly
 *   inside it.
 * - `bestAnswers` (postprocess_qa_predictions): the `nBestSize` best start and end logits of every window of an
 *   example, spans inside the context with end >= start and at most `maxAnswerLength` tokens, scored by start +
 *   end logit, and the answer text cut from the original context through the offsets.
 * Node only (the native tokenizer).
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** A question about a context (SquadExample is one). */
export interface QaInput {
  question: string;
  context: string;
  /** Training: the answer to label (run_qa.py uses the first gold answer); character offsets into the context. */
  answer?: { answerStart: number; text: string };
}

/** The special tokens around a question/context pair, as the tokenizer's pair template places them. */
export interface PairTemplate {
  prefix: number[];
  middle: number[];
  suffix: number[];
  /** Segment ids: of the prefix and question, and of the middle, context and suffix (BERT: 0 and 1). */
  typeA: number;
  typeB: number;
}

/**
 * The pair template of a tokenizer, read off its post-processor on a sample pair. A tokenizer whose
 * post-processor adds nothing gets `[cls] q [sep] c [sep]` (else bos/eos), one segment.
 */
export async function pairTemplate(tok: Tokenizer): Promise<PairTemplate> {
  const [a, b] = ['a', 'b'];
  const [ea, eb] = await tok.encodeBatch([a, b], { addSpecialTokens: false });
  const p = await tok.encode(a, { pair: b });
  const runs: number[][] = [[]];
  const types: number[] = [];
  let inText = false;
  p.ids.forEach((id, i) => {
    const special = p.specialTokensMask[i] === 1;
    if (!special) types.push(p.typeIds[i]!);
    if (special && inText) runs.push([]);
    if (special) runs[runs.length - 1]!.push(id);
    inText = !special;
  });
  const textLen = p.ids.length - p.specialTokensMask.reduce((x, y) => x + y, 0);
  if (runs.length === 3 && textLen === ea!.ids.length + eb!.ids.length)
    return { prefix: runs[0]!, middle: runs[1]!, suffix: runs[2]!, typeA: types[0] ?? 0, typeB: types[types.length - 1] ?? 0 };
  if (p.specialTokensMask.some((m) => m === 1)) throw new Error(`the tokenizer's pair template is not <specials> A <specials> B <specials> (got ${JSON.stringify(p.tokens)})`);
  const s = tok.specialIds;
  const start = s.cls ?? s.bos;
  const end = s.sep ?? s.eos;
  const opt = (x: number | undefined) => (x === undefined ? [] : [x]);
  return { prefix: opt(start), middle: opt(end), suffix: opt(end), typeA: 0, typeB: 0 };
}

/** One window of one example, ready for the model. */
export interface QaFeature {
  /** Index of its example in the input list. */
  example: number;
  ids: number[];
  typeIds: number[];
  /** Per token: its [start, end) characters in the context for context tokens, null for the question and specials. */
  offsets: Array<[number, number] | null>;
  /** The answer's first and last token, or both the CLS index 0 when the window does not hold the whole answer. */
  startPosition: number;
  endPosition: number;
}

export interface QaFeatureOptions {
  /** Tokens per window, specials included (run_qa.py's max_seq_length). */
  maxLen: number;
  /** Tokens shared by consecutive windows of a long context (run_qa.py's doc_stride). */
  docStride: number;
  /** The tokens around question and context (default: the tokenizer's pair template; decoders: `decoderTemplate`). */
  template?: PairTemplate;
}

/** A decoder's framing: the question, EOS, then the context; no other special token, one segment. */
export function decoderTemplate(eos: number): PairTemplate {
  return { prefix: [], middle: [eos], suffix: [], typeA: 0, typeB: 0 };
}

/** The CLS index: where a window without the answer points its start and end (a decoder's first question token). */
export const QA_NO_ANSWER = 0;

/** Leading whitespace off each offset (a byte-level BPE token carries the space before its word). */
function trimmedOffsets(text: string, offsets: ReadonlyArray<[number, number]>): Array<[number, number]> {
  return offsets.map(([a, b]) => {
    while (a < b - 1 && /\s/.test(text[a]!)) a++;
    return [a, b];
  });
}

/**
 * The token windows [from, to) of a context of `n` tokens, `room` tokens each, overlapping by `stride` (a stride
 * that does not fit a window is an error only when the context needs more than one, as in the tokenizer).
 */
export function contextWindows(n: number, room: number, stride: number): Array<[number, number]> {
  if (n <= room) return [[0, n]];
  if (stride >= room) throw new Error(`--doc-stride ${stride} must be smaller than the ${room} context tokens a window holds (raise --max-len or lower --doc-stride)`);
  const out: Array<[number, number]> = [];
  for (let from = 0; ; from += room - stride) {
    const to = Math.min(from + room, n);
    out.push([from, to]);
    if (to >= n) return out;
  }
}

/** The features of QA examples: one or more windows each, labelled with the answer's tokens where given. */
export async function prepareQaFeatures(tok: Tokenizer, examples: readonly QaInput[], o: QaFeatureOptions): Promise<QaFeature[]> {
  const tpl = o.template ?? (await pairTemplate(tok));
  // run_qa.py strips the question's leading whitespace (some SQuAD questions start with many spaces).
  const questions = await tok.encodeBatch(examples.map((x) => x.question.trimStart()), { addSpecialTokens: false });
  const contexts = await tok.encodeBatch(examples.map((x) => x.context), { addSpecialTokens: false });
  const specials = tpl.prefix.length + tpl.middle.length + tpl.suffix.length;
  const out: QaFeature[] = [];
  examples.forEach((x, e) => {
    const q = questions[e]!.ids;
    const c = contexts[e]!;
    const room = o.maxLen - specials - q.length;
    if (room < 1) throw new Error(`question ${JSON.stringify(x.question.slice(0, 60))} is ${q.length} tokens: with ${specials} special tokens it leaves no room for the context in --max-len ${o.maxLen}`);
    if (!c.ids.length) throw new Error(`question ${JSON.stringify(x.question.slice(0, 60))}: the context has no tokens`);
    const offs = trimmedOffsets(x.context, c.offsets);
    const head = [...tpl.prefix, ...q, ...tpl.middle];
    for (const [from, to] of contextWindows(c.ids.length, room, o.docStride)) {
      const ids = [...head, ...c.ids.slice(from, to), ...tpl.suffix];
      const typeIds = ids.map((_, i) => (i < tpl.prefix.length + q.length ? tpl.typeA : tpl.typeB));
      const offsets: Array<[number, number] | null> = ids.map((_, i) => (i >= head.length && i < head.length + to - from ? offs[from + i - head.length]! : null));
      let startPosition = QA_NO_ANSWER;
      let endPosition = QA_NO_ANSWER;
      if (x.answer) {
        const startChar = x.answer.answerStart;
        const endChar = startChar + x.answer.text.length;
        const first = head.length;
        const last = head.length + to - from - 1;
        if (offsets[first]![0] <= startChar && offsets[last]![1] >= endChar) {
          // prepare_train_features: the last token starting at or before the answer, the first ending at or after
          // it (kept inside the context, where run_qa.py's loop could run on into the [SEP] and padding).
          let s = first;
          while (s < last && offsets[s + 1]![0] <= startChar) s++;
          let t = last;
          while (t > first && offsets[t - 1]![1] >= endChar) t--;
          startPosition = s;
          endPosition = t;
        }
      }
      out.push({ example: e, ids, typeIds, offsets, startPosition, endPosition });
    }
  });
  return out;
}

export interface QaAnswerOptions {
  /** Best start and end logits considered per window (run_qa.py's n_best_size, 20). */
  nBestSize: number;
  /** Longest answer in tokens (run_qa.py's max_answer_length, 30). */
  maxAnswerLength: number;
}

/** An answer to a question: its text in the context, where, and how the model scored it. */
export interface QaAnswer {
  text: string;
  /** [start, end) characters in the context. */
  start: number;
  end: number;
  /** Start logit + end logit. */
  score: number;
  /** Softmax of the score over the n best answers. */
  probability: number;
}

/** Indices of the k largest values, largest first. */
function topK(xs: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[b]! - xs[a]! || a - b).slice(0, k);
}

/**
 * The n best answers of one example from its windows' start and end logits (one per token of each feature),
 * best first; an empty answer ("" at 0, probability 0) when no span is valid (run_qa.py writes "empty").
 */
export function bestAnswers(context: string, windows: ReadonlyArray<{ feature: QaFeature; startLogits: ArrayLike<number>; endLogits: ArrayLike<number> }>, o: QaAnswerOptions): QaAnswer[] {
  const spans: Omit<QaAnswer, 'probability'>[] = [];
  for (const { feature, startLogits, endLogits } of windows) {
    const n = feature.offsets.length;
    for (const s of topK(Array.prototype.slice.call(startLogits, 0, n) as number[], o.nBestSize))
      for (const e of topK(Array.prototype.slice.call(endLogits, 0, n) as number[], o.nBestSize)) {
        const a = feature.offsets[s];
        const b = feature.offsets[e];
        if (!a || !b || e < s || e - s + 1 > o.maxAnswerLength) continue;
        spans.push({ text: context.slice(a[0], b[1]), start: a[0], end: b[1], score: startLogits[s]! + endLogits[e]! });
      }
  }
  if (!spans.length) return [{ text: '', start: 0, end: 0, score: 0, probability: 0 }];
  const best = spans.sort((x, y) => y.score - x.score).slice(0, o.nBestSize);
  const m = best[0]!.score;
  const z = best.reduce((acc, x) => acc + Math.exp(x.score - m), 0);
  return best.map((x) => ({ ...x, probability: Math.exp(x.score - m) / z }));
}

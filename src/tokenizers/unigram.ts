/**
 * Unigram LM trainer (SentencePiece / T5). Hand-written because the Node
 * binding of Hugging Face `tokenizers` exposes no trainer options
 * (vocabulary size, special tokens, sentinels). Follows SentencePiece's
 * unigram trainer: seed pieces from frequent substrings of the words, EM
 * rounds (forward-backward over the word-count dictionary, Bayesian M-step
 * with digamma), then prune by the likelihood loss of removing each piece,
 * shrinking by 0.75 per round until the target size. Pure: no Node imports.
 */
import { METASPACE, metaspacePreTokenize, unigramNormalize } from './pretokenize.js';
// Engine-independent log/exp: the CLI (Node) and the playground (a browser) train the same tokenizer.
import { detExp, detLog } from './det-math.js';
import { addedToken, bump, type JsonObject, type JsonValue, type TokenizerTrainer, type TrainedTokenizer } from './json.js';
import { stripUndefined } from './wordpiece.js';

export interface UnigramTrainOptions {
  vocabSize?: number;
  /** Number of `<extra_id_N>` sentinels at the top of the vocabulary. Default 100 (T5). */
  extraIds?: number;
  /** Longest piece in characters. Default 16. */
  maxPieceLength?: number;
  /** Seed vocabulary size as a multiple of the target size. Default 10. */
  seedFactor?: number;
  /** Fraction of pieces kept per pruning round. Default 0.75. */
  shrinkingFactor?: number;
  /** EM iterations per round. Default 2. */
  emIterations?: number;
  /** Fraction of character occurrences the kept characters must cover; the rest become <unk>. Default 1 (keep every character; SentencePiece uses 0.9995 for large alphabets). */
  characterCoverage?: number;
  modelMaxLength?: number;
}

export const UNIGRAM_DEFAULTS = {
  vocabSize: 8000,
  extraIds: 100,
  maxPieceLength: 16,
  seedFactor: 10,
  shrinkingFactor: 0.75,
  emIterations: 2,
  characterCoverage: 1,
  modelMaxLength: 512,
} as const;

/** NFKC, whitespace runs to one space, strip: what unigramNormalize does in TypeScript. */
export const UNIGRAM_NORMALIZER: JsonObject = {
  type: 'Sequence',
  normalizers: [
    { type: 'NFKC' },
    { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
    { type: 'Strip', strip_left: true, strip_right: true },
  ],
};

export const T5_SPECIALS = { pad: '<pad>', eos: '</s>', unk: '<unk>' } as const;

function digamma(x0: number): number {
  let x = x0;
  let r = 0;
  while (x < 7) {
    r -= 1 / x;
    x += 1;
  }
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  return r + detLog(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}

const RE_LETTER = /[\p{L}\p{M}]/u;
const RE_NUMBER = /\p{N}/u;
/** 1 letters, 2 digits, 3 everything else (punctuation, symbols). */
function charClass(ch: string): number {
  return RE_LETTER.test(ch) ? 1 : RE_NUMBER.test(ch) ? 2 : 3;
}

function lse(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + detLog(1 + detExp(b - a)) : b + detLog(1 + detExp(a - b));
}

export function createUnigramTrainer(options: UnigramTrainOptions = {}): TokenizerTrainer {
  const o = { ...UNIGRAM_DEFAULTS, ...stripUndefined(options) };
  const counts = new Map<string, number>();
  let totalWords = 0;
  return {
    addText(text: string): void {
      for (const w of metaspacePreTokenize(unigramNormalize(text))) {
        bump(counts, w);
        totalWords++;
      }
    },
    finish(): TrainedTokenizer {
      const t0 = Date.now();
      const specials = [T5_SPECIALS.pad, T5_SPECIALS.eos, T5_SPECIALS.unk];
      const desired = o.vocabSize - specials.length - o.extraIds;
      if (desired < 1) throw new Error(`unigram: vocab size ${o.vocabSize} leaves no room after ${specials.length} special tokens and ${o.extraIds} sentinels`);
      const pieces = learnUnigram(counts, desired, o);
      const vocab: JsonValue[] = specials.map((s) => [s, 0]);
      for (const [p, s] of pieces) vocab.push([p, s]);
      const size = vocab.length + o.extraIds;
      const extra: string[] = [];
      for (let k = o.extraIds - 1; k >= 0; k--) {
        extra.push(`<extra_id_${k}>`);
        vocab.push([`<extra_id_${k}>`, 0]);
      }
      const added = specials.map((s, i) => addedToken(i, s));
      extra.forEach((s, i) => added.push(addedToken(specials.length + pieces.length + i, s)));
      const metaspace: JsonObject = { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true };
      const sp = (id: string): JsonObject => ({ SpecialToken: { id, type_id: 0 } });
      const seq = (id: 'A' | 'B'): JsonObject => ({ Sequence: { id, type_id: 0 } });
      const normalizer = UNIGRAM_NORMALIZER;
      const tokenizerJson = {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: added,
        normalizer,
        pre_tokenizer: metaspace,
        post_processor: {
          type: 'TemplateProcessing',
          single: [seq('A'), sp(T5_SPECIALS.eos)],
          pair: [seq('A'), sp(T5_SPECIALS.eos), seq('B'), sp(T5_SPECIALS.eos)],
          special_tokens: { [T5_SPECIALS.eos]: { id: T5_SPECIALS.eos, ids: [1], tokens: [T5_SPECIALS.eos] } },
        },
        decoder: metaspace,
        model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
      };
      return {
        kind: 'unigram',
        tokenizerJson,
        tokenizerConfig: {
          tokenizer_class: 'T5Tokenizer',
          pad_token: T5_SPECIALS.pad,
          eos_token: T5_SPECIALS.eos,
          unk_token: T5_SPECIALS.unk,
          extra_ids: o.extraIds,
          additional_special_tokens: extra.slice().reverse(),
          clean_up_tokenization_spaces: false,
          model_max_length: o.modelMaxLength,
        },
        stats: { uniqueWords: counts.size, totalWords, vocabSize: size, learnMs: Date.now() - t0 },
      };
    },
  };
}

type Opts = Required<UnigramTrainOptions>;

/** Returns the pieces with their log-probability scores, best first. */
export function learnUnigram(counts: Map<string, number>, desired: number, o: Opts): Array<[string, number]> {
  const maxLen = o.maxPieceLength;
  // ---- characters and coverage
  const charCount = new Map<string, number>();
  for (const [w, c] of counts) for (const ch of w) bump(charCount, ch, c);
  const chars = [...charCount.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const totalChars = chars.reduce((s, [, c]) => s + c, 0);
  const kept = new Set<string>([METASPACE]);
  let covered = 0;
  for (const [ch, c] of chars) {
    if (kept.size >= desired) break;
    if (covered / totalChars >= o.characterCoverage && ch !== METASPACE) break;
    kept.add(ch);
    covered += c;
  }

  // ---- seed: frequent substrings (length >= 2) of the words, ranked by freq * length
  const words: string[][] = [];
  const wcount: number[] = [];
  for (const [w, c] of counts) {
    words.push(Array.from(w));
    wcount.push(c);
  }
  const sub = new Map<string, number>();
  for (let wi = 0; wi < words.length; wi++) {
    const cs = words[wi]!;
    const c = wcount[wi]!;
    for (let i = 0; i < cs.length; i++) {
      let s = '';
      let cls = 0;
      for (let l = 1; l <= maxLen && i + l <= cs.length; l++) {
        const ch = cs[i + l - 1]!;
        if (!kept.has(ch) || (l > 1 && ch === METASPACE)) break;
        // Like SentencePiece's split_by_unicode_script / split_by_number: one character class per piece.
        if (ch !== METASPACE) {
          const k = charClass(ch);
          if (cls && k !== cls) break;
          cls = k;
        }
        s += ch;
        if (l >= 2) bump(sub, s, c);
      }
    }
  }
  const seedSize = Math.max(desired, Math.round(desired * o.seedFactor));
  const seedScored = [...sub.entries()]
    .map(([s, f]): [string, number] => [s, f * Array.from(s).length])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, seedSize);
  const seed = seedScored.map(([s]) => s);
  sub.clear();

  const pieceStr: string[] = [...kept, ...seed];
  const nChars = kept.size;
  const nPieces = pieceStr.length;
  const index = new Map<string, number>();
  pieceStr.forEach((p, i) => index.set(p, i));
  const alive = new Uint8Array(nPieces).fill(1);
  const score = new Float64Array(nPieces);
  {
    // Initial scores as SentencePiece: characters by count, substrings by count x length, normalised.
    let total = 0;
    const f = new Float64Array(nPieces);
    for (let i = 0; i < nPieces; i++) {
      f[i] = i < nChars ? (charCount.get(pieceStr[i]!) ?? 1) : seedScored[i - nChars]![1];
    }
    for (let i = 0; i < nPieces; i++) total += f[i]!;
    for (let i = 0; i < nPieces; i++) score[i] = detLog(f[i]!) - detLog(total);
  }

  // ---- lattices: every (start, end, piece) of every word, ordered by start
  const eFrom: number[] = [];
  const eTo: number[] = [];
  const ePiece: number[] = [];
  const wStart = new Int32Array(words.length + 1);
  let maxWordLen = 0;
  for (let wi = 0; wi < words.length; wi++) {
    wStart[wi] = eFrom.length;
    const cs = words[wi]!;
    if (cs.length > maxWordLen) maxWordLen = cs.length;
    for (let i = 0; i < cs.length; i++) {
      let s = '';
      let any = false;
      for (let l = 1; l <= maxLen && i + l <= cs.length; l++) {
        s += cs[i + l - 1]!;
        const id = index.get(s);
        if (id !== undefined) {
          eFrom.push(i);
          eTo.push(i + l);
          ePiece.push(id);
          any = true;
        } else if (l === 1) break;
      }
      if (!any) {
        eFrom.push(i);
        eTo.push(i + 1);
        ePiece.push(-1); // unknown character
      }
    }
  }
  wStart[words.length] = eFrom.length;
  const EF = Int32Array.from(eFrom);
  const ET = Int32Array.from(eTo);
  const EP = Int32Array.from(ePiece);
  const alpha = new Float64Array(maxWordLen + 1);
  const beta = new Float64Array(maxWordLen + 1);
  const unkScore = (): number => {
    let m = 0;
    for (let i = 0; i < nPieces; i++) if (alive[i] && score[i]! < m) m = score[i]!;
    return m - 10;
  };

  const emStep = (): void => {
    const freq = new Float64Array(nPieces);
    const unk = unkScore();
    for (let wi = 0; wi < words.length; wi++) {
      const n = words[wi]!.length;
      const a0 = wStart[wi]!;
      const a1 = wStart[wi + 1]!;
      alpha.fill(-Infinity, 0, n + 1);
      beta.fill(-Infinity, 0, n + 1);
      alpha[0] = 0;
      for (let e = a0; e < a1; e++) {
        const p = EP[e]!;
        if (p >= 0 && !alive[p]) continue;
        const s = p >= 0 ? score[p]! : unk;
        alpha[ET[e]!] = lse(alpha[ET[e]!]!, alpha[EF[e]!]! + s);
      }
      const z = alpha[n]!;
      if (z === -Infinity) continue;
      beta[n] = 0;
      for (let e = a1 - 1; e >= a0; e--) {
        const p = EP[e]!;
        if (p >= 0 && !alive[p]) continue;
        const s = p >= 0 ? score[p]! : unk;
        beta[EF[e]!] = lse(beta[EF[e]!]!, s + beta[ET[e]!]!);
      }
      const c = wcount[wi]!;
      for (let e = a0; e < a1; e++) {
        const p = EP[e]!;
        if (p < 0 || !alive[p]) continue;
        freq[p] += c * detExp(alpha[EF[e]!]! + score[p]! + beta[ET[e]!]! - z);
      }
    }
    // Bayesian M-step (SentencePiece): rarely used pieces are dropped; characters stay.
    let sum = 0;
    for (let i = 0; i < nPieces; i++) {
      if (!alive[i]) continue;
      if (i >= nChars && freq[i]! < 0.5) {
        alive[i] = 0;
        continue;
      }
      if (i < nChars && freq[i]! < 0.5) freq[i] = 0.5;
      sum += freq[i]!;
    }
    const logSum = digamma(sum);
    for (let i = 0; i < nPieces; i++) if (alive[i]) score[i] = digamma(freq[i]!) - logSum;
  };

  const aliveCount = (): number => {
    let n = 0;
    for (let i = 0; i < nPieces; i++) n += alive[i]!;
    return n;
  };

  // Best segmentation of a char array over alive pieces, optionally excluding one piece.
  const bestScore = new Float64Array(maxLen + 2);
  const bestPiece = new Int32Array(maxLen + 2);
  const bestPrev = new Int32Array(maxLen + 2);
  const segmentPiece = (cs: string[], exclude: number): number[] => {
    const n = cs.length;
    bestScore.fill(-Infinity, 0, n + 1);
    bestScore[0] = 0;
    for (let i = 0; i < n; i++) {
      if (bestScore[i] === -Infinity) continue;
      let s = '';
      for (let l = 1; i + l <= n; l++) {
        s += cs[i + l - 1]!;
        const id = index.get(s);
        if (id === undefined || id === exclude || !alive[id]) continue;
        const v = bestScore[i]! + score[id]!;
        if (v > bestScore[i + l]!) {
          bestScore[i + l] = v;
          bestPiece[i + l] = id;
          bestPrev[i + l] = i;
        }
      }
    }
    if (bestScore[n] === -Infinity) return [];
    const out: number[] = [];
    for (let j = n; j > 0; j = bestPrev[j]!) out.push(bestPiece[j]!);
    return out;
  };

  const prune = (target: number): void => {
    // Viterbi frequency of each piece over the corpus.
    const vfreq = new Float64Array(nPieces);
    const vScore = new Float64Array(maxWordLen + 1);
    const vEdge = new Int32Array(maxWordLen + 1);
    const unk = unkScore();
    for (let wi = 0; wi < words.length; wi++) {
      const n = words[wi]!.length;
      const a0 = wStart[wi]!;
      const a1 = wStart[wi + 1]!;
      vScore.fill(-Infinity, 0, n + 1);
      vScore[0] = 0;
      for (let e = a0; e < a1; e++) {
        const p = EP[e]!;
        if (p >= 0 && !alive[p]) continue;
        const v = vScore[EF[e]!]! + (p >= 0 ? score[p]! : unk);
        if (v > vScore[ET[e]!]!) {
          vScore[ET[e]!] = v;
          vEdge[ET[e]!] = e;
        }
      }
      if (vScore[n] === -Infinity) continue;
      const c = wcount[wi]!;
      for (let j = n; j > 0; ) {
        const e = vEdge[j]!;
        if (EP[e]! >= 0) vfreq[EP[e]!] += c;
        j = EF[e]!;
      }
    }
    let vsum = 0;
    for (let i = 0; i < nPieces; i++) vsum += vfreq[i]!;
    const candidates: Array<[number, number]> = [];
    let keep = nChars;
    for (let i = nChars; i < nPieces; i++) {
      if (!alive[i]) continue;
      if (vfreq[i] === 0) {
        alive[i] = 0; // never on a best path: safe to remove
        continue;
      }
      const alt = segmentPiece(Array.from(pieceStr[i]!), i);
      if (alt.length === 0) {
        keep++;
        continue;
      }
      const f = vfreq[i]!;
      const logSumAlt = detLog(vsum + f * (alt.length - 1));
      let logProbAlt = 0;
      for (const a of alt) logProbAlt += detLog(vfreq[a]! + f) - logSumAlt;
      const logProbSp = detLog(f) - detLog(vsum);
      candidates.push([i, f * (logProbSp - logProbAlt)]);
    }
    candidates.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const room = Math.max(0, target - keep);
    for (let k = room; k < candidates.length; k++) alive[candidates[k]![0]] = 0;
  };

  const goal = Math.floor(desired * 1.1);
  for (let round = 0; round < 100; round++) {
    for (let it = 0; it < o.emIterations; it++) emStep();
    const n = aliveCount();
    if (n <= goal) break;
    prune(Math.max(goal, Math.floor(n * o.shrinkingFactor)));
  }
  for (let it = 0; it < o.emIterations; it++) emStep();

  // Final selection: every kept character, then the best-scoring pieces.
  const chosen: number[] = [];
  for (let i = 0; i < nChars; i++) chosen.push(i);
  const rest: number[] = [];
  for (let i = nChars; i < nPieces; i++) if (alive[i]) rest.push(i);
  rest.sort((a, b) => score[b]! - score[a]! || a - b);
  for (const i of rest) {
    if (chosen.length >= desired) break;
    chosen.push(i);
  }
  chosen.sort((a, b) => score[b]! - score[a]! || a - b);
  return chosen.map((i) => [pieceStr[i]!, score[i]!]);
}

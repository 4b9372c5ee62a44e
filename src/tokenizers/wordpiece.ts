/**
 * WordPiece trainer (BERT). Hand-written because the Node binding of Hugging
 * Face `tokenizers` exposes no trainer options (vocabulary size, special
 * tokens, minimum frequency). Like Hugging Face's WordPieceTrainer it learns
 * frequency-ranked merges with a `##` continuation prefix; the resulting
 * vocabulary is used by the greedy longest-match WordPiece model.
 * Pure: no Node imports.
 */
import { bertNormalize, bertPreTokenize } from './pretokenize.js';
import { learnMerges, type MergeWord } from './merges.js';
import {
  addedToken,
  bump,
  type JsonObject,
  type TokenizerTrainer,
  type TrainedTokenizer,
} from './json.js';

export interface WordPieceTrainOptions {
  vocabSize?: number;
  /** Lowercase and strip accents (bert-base-uncased). Default true. */
  lowercase?: boolean;
  /** Pairs seen fewer times are not merged. Default 2. */
  minFrequency?: number;
  /** Keep at most this many distinct characters (most frequent). Default 1000. */
  limitAlphabet?: number;
  /** Default `[PAD] [UNK] [CLS] [SEP] [MASK]`, ids 0..4 in this order. */
  specialTokens?: string[];
  /** Longer words encode as [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  modelMaxLength?: number;
}

export const WORDPIECE_DEFAULTS = {
  vocabSize: 8000,
  lowercase: true,
  minFrequency: 2,
  limitAlphabet: 1000,
  specialTokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
  maxInputCharsPerWord: 100,
  modelMaxLength: 512,
} as const;

const PREFIX = '##';

export function createWordPieceTrainer(options: WordPieceTrainOptions = {}): TokenizerTrainer {
  const o = { ...WORDPIECE_DEFAULTS, ...stripUndefined(options) };
  const specials = [...o.specialTokens];
  const counts = new Map<string, number>();
  let totalWords = 0;
  const norm = { lowercase: o.lowercase };
  return {
    addText(text: string): void {
      for (const w of bertPreTokenize(bertNormalize(text, norm))) {
        bump(counts, w);
        totalWords++;
      }
    },
    finish(): TrainedTokenizer {
      const t0 = Date.now();
      const charCounts = new Map<string, number>();
      for (const [w, c] of counts) for (const ch of w) bump(charCounts, ch, c);
      const alphabet = [...charCounts.entries()]
        .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
        .slice(0, o.limitAlphabet)
        .map(([ch]) => ch)
        .sort();
      // Both forms of every character, so that any word over the alphabet encodes without [UNK].
      const initial = [...alphabet, ...alphabet.map((ch) => PREFIX + ch)].filter((s) => !specials.includes(s));
      const maxSymbols = o.vocabSize - specials.length;
      if (initial.length > maxSymbols) {
        throw new Error(`wordpiece: vocab size ${o.vocabSize} is smaller than the alphabet (${initial.length} symbols + ${specials.length} special tokens)`);
      }
      const id = new Map<string, number>();
      initial.forEach((s, i) => id.set(s, i));
      const words: MergeWord[] = [];
      for (const [w, c] of counts) {
        const chars = Array.from(w);
        if (chars.length < 2 || chars.length > o.maxInputCharsPerWord) continue;
        const syms: number[] = [];
        let ok = true;
        for (let i = 0; i < chars.length; i++) {
          const s = id.get(i === 0 ? chars[i]! : PREFIX + chars[i]!);
          if (s === undefined) {
            ok = false;
            break;
          }
          syms.push(s);
        }
        if (ok) words.push({ symbols: syms, count: c });
      }
      const { symbols } = learnMerges(words, initial, {
        maxSymbols,
        minFrequency: o.minFrequency,
        join: (a, b) => a + (b.startsWith(PREFIX) ? b.slice(PREFIX.length) : b),
      });
      const vocab: JsonObject = {};
      const ordered = [...specials, ...symbols];
      ordered.forEach((s, i) => (vocab[s] = i));
      const tokenizerJson = {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: specials.map((s, i) => addedToken(i, s)),
        normalizer: {
          type: 'BertNormalizer',
          clean_text: true,
          handle_chinese_chars: true,
          strip_accents: null,
          lowercase: o.lowercase,
        },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        post_processor: bertPostProcessor(specials),
        decoder: { type: 'WordPiece', prefix: PREFIX, cleanup: true },
        model: {
          type: 'WordPiece',
          unk_token: specials[1] ?? '[UNK]',
          continuing_subword_prefix: PREFIX,
          max_input_chars_per_word: o.maxInputCharsPerWord,
          vocab,
        },
      };
      const [pad, unk, cls, sep, mask] = specials;
      return {
        kind: 'wordpiece',
        tokenizerJson,
        tokenizerConfig: {
          tokenizer_class: 'BertTokenizer',
          do_lower_case: o.lowercase,
          strip_accents: null,
          tokenize_chinese_chars: true,
          clean_up_tokenization_spaces: true,
          model_max_length: o.modelMaxLength,
          ...(pad ? { pad_token: pad } : {}),
          ...(unk ? { unk_token: unk } : {}),
          ...(cls ? { cls_token: cls } : {}),
          ...(sep ? { sep_token: sep } : {}),
          ...(mask ? { mask_token: mask } : {}),
        },
        stats: { uniqueWords: counts.size, totalWords, vocabSize: ordered.length, learnMs: Date.now() - t0 },
      };
    },
  };
}

/** `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with type ids 0/1, as bert-base's tokenizer.json. */
function bertPostProcessor(specials: string[]): JsonObject {
  const cls = specials[2] ?? '[CLS]';
  const sep = specials[3] ?? '[SEP]';
  const clsId = specials.indexOf(cls);
  const sepId = specials.indexOf(sep);
  const sp = (id: string, type_id: number): JsonObject => ({ SpecialToken: { id, type_id } });
  const seq = (id: 'A' | 'B', type_id: number): JsonObject => ({ Sequence: { id, type_id } });
  return {
    type: 'TemplateProcessing',
    single: [sp(cls, 0), seq('A', 0), sp(sep, 0)],
    pair: [sp(cls, 0), seq('A', 0), sp(sep, 0), seq('B', 1), sp(sep, 1)],
    special_tokens: {
      [cls]: { id: cls, ids: [clsId], tokens: [cls] },
      [sep]: { id: sep, ids: [sepId], tokens: [sep] },
    },
  };
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

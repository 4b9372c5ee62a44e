/**
 * Byte-level BPE trainer (GPT-2). Hand-written because the Node binding of
 * Hugging Face `tokenizers` exposes no trainer options (vocabulary size,
 * special tokens, minimum frequency). Words come from the GPT-2
 * pre-tokenisation regex over the raw text, mapped to the byte-to-unicode
 * alphabet; all 256 byte symbols are in the vocabulary, so no input is ever
 * unknown. Pure: no Node imports.
 */
import { BYTE_LEVEL_ALPHABET, byteLevelPreTokenize } from './pretokenize.js';
import { learnMerges, type MergeWord } from './merges.js';
import { addedToken, bump, type JsonObject, type TokenizerTrainer, type TrainedTokenizer } from './json.js';
import { stripUndefined } from './wordpiece.js';

export interface BpeTrainOptions {
  vocabSize?: number;
  /** Pairs seen fewer times are not merged. Default 2. */
  minFrequency?: number;
  /** End-of-text token, last id of the vocabulary as in GPT-2. */
  eosToken?: string;
  modelMaxLength?: number;
  /**
   * 'gpt2': one end-of-text token, last. 'roberta': RoBERTa's `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3 first and
   * `<mask>` last, with the `<s> A </s>` / `<s> A </s></s> B </s>` template (RobertaProcessing).
   */
  style?: 'gpt2' | 'roberta';
}

export const BPE_DEFAULTS = {
  vocabSize: 8000,
  minFrequency: 2,
  eosToken: '<|endoftext|>',
  modelMaxLength: 1024,
  style: 'gpt2',
} as const;

const ROBERTA_FIRST = ['<s>', '<pad>', '</s>', '<unk>'] as const;

export function createBpeTrainer(options: BpeTrainOptions = {}): TokenizerTrainer {
  const o = { ...BPE_DEFAULTS, ...stripUndefined(options) };
  const counts = new Map<string, number>();
  let totalWords = 0;
  return {
    addText(text: string): void {
      for (const w of byteLevelPreTokenize(text)) {
        bump(counts, w);
        totalWords++;
      }
    },
    finish(): TrainedTokenizer {
      const t0 = Date.now();
      const initial = [...BYTE_LEVEL_ALPHABET];
      const roberta = o.style === 'roberta';
      const first: readonly string[] = roberta ? ROBERTA_FIRST : [];
      const maxSymbols = o.vocabSize - 1 - first.length;
      if (maxSymbols < initial.length) throw new Error(`bpe: vocab size ${o.vocabSize} is below the 256 byte symbols + 1 special token`);
      const id = new Map<string, number>();
      initial.forEach((s, i) => id.set(s, i));
      const words: MergeWord[] = [];
      for (const [w, c] of counts) {
        if (w.length < 2) continue;
        const syms = new Array<number>(w.length);
        for (let i = 0; i < w.length; i++) syms[i] = id.get(w[i]!)!;
        words.push({ symbols: syms, count: c });
      }
      const { symbols, merges } = learnMerges(words, initial, {
        maxSymbols,
        minFrequency: o.minFrequency,
        join: (a, b) => a + b,
      });
      const vocab: JsonObject = {};
      first.forEach((s, i) => (vocab[s] = i));
      symbols.forEach((s, i) => (vocab[s] = i + first.length));
      const eosId = symbols.length + first.length;
      const lastToken = roberta ? '<mask>' : o.eosToken;
      vocab[lastToken] = eosId;
      const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean): JsonObject => ({
        type: 'ByteLevel',
        add_prefix_space: addPrefixSpace,
        trim_offsets: trimOffsets,
        use_regex: true,
      });
      const tokenizerJson = {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [...first.map((t, i) => addedToken(i, t)), roberta ? { ...addedToken(eosId, lastToken), lstrip: true } : addedToken(eosId, lastToken)],
        normalizer: null,
        pre_tokenizer: byteLevel(false, true),
        post_processor: roberta
          ? { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false }
          : byteLevel(true, false),
        decoder: byteLevel(true, true),
        model: {
          type: 'BPE',
          dropout: null,
          unk_token: null,
          continuing_subword_prefix: '',
          end_of_word_suffix: '',
          fuse_unk: false,
          byte_fallback: false,
          ignore_merges: false,
          vocab,
          // Byte-level symbols never contain a space, so the "a b" form is unambiguous.
          merges: merges.map(([a, b]) => `${a} ${b}`),
        },
      };
      return {
        kind: 'bpe',
        tokenizerJson,
        tokenizerConfig: roberta
          ? {
            tokenizer_class: 'RobertaTokenizer', add_prefix_space: false, bos_token: '<s>', eos_token: '</s>', sep_token: '</s>',
            cls_token: '<s>', unk_token: '<unk>', pad_token: '<pad>', mask_token: '<mask>', clean_up_tokenization_spaces: false,
            model_max_length: o.modelMaxLength,
          }
          : {
            tokenizer_class: 'GPT2Tokenizer',
            add_prefix_space: false,
            bos_token: o.eosToken,
            eos_token: o.eosToken,
            unk_token: o.eosToken,
            clean_up_tokenization_spaces: false,
            model_max_length: o.modelMaxLength,
          },
        stats: { uniqueWords: counts.size, totalWords, vocabSize: eosId + 1, learnMs: Date.now() - t0 },
      };
    },
  };
}

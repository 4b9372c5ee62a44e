/**
 * One entry point over the three trainers. Pure: no Node imports; the file
 * and corpus side lives in tokenizer.ts / cli.ts.
 */
import { createBpeTrainer, type BpeTrainOptions } from './bpe.js';
import { createUnigramTrainer, type UnigramTrainOptions } from './unigram.js';
import { createWordPieceTrainer, type WordPieceTrainOptions } from './wordpiece.js';
import type { TokenizerKind, TokenizerTrainer, TrainedTokenizer } from './json.js';

export type TrainOptions = { vocabSize?: number } & WordPieceTrainOptions & BpeTrainOptions & UnigramTrainOptions;

export function createTrainer(kind: TokenizerKind, options: TrainOptions = {}): TokenizerTrainer {
  switch (kind) {
    case 'wordpiece':
      return createWordPieceTrainer(options);
    case 'bpe':
      return createBpeTrainer(options);
    case 'unigram':
      return createUnigramTrainer(options);
    default:
      throw new Error(`unknown tokenizer kind ${String(kind)}: expected wordpiece, bpe or unigram`);
  }
}

/** Train from an iterable of texts (documents or lines). */
export function trainTokenizer(kind: TokenizerKind, texts: Iterable<string>, options: TrainOptions = {}): TrainedTokenizer {
  const t = createTrainer(kind, options);
  for (const s of texts) t.addText(s);
  return t.finish();
}

/** Same, for an async source such as a corpus reader. */
export async function trainTokenizerAsync(
  kind: TokenizerKind,
  texts: AsyncIterable<string> | Iterable<string>,
  options: TrainOptions = {},
): Promise<TrainedTokenizer> {
  const t = createTrainer(kind, options);
  for await (const s of texts) t.addText(s);
  return t.finish();
}

// Tokenised documents held in memory: what token shards hold on disk, for a corpus small enough to keep (the
// browser playground's pasted or dropped text). Sentences are encoded as buildShards encodes them, so a text
// gives the same token stream either way. Pure: no Node imports.
import type { Tokenizer } from '../tokenizers/base.js';
import type { CorpusDocument, DocumentSource, TokenDocument } from './types.js';

/** True when the tokenizer's pre-tokenizer does not add a space before a text (GPT-2 byte level). */
export function needsSpaceBetweenSentences(tokenizer: Pick<Tokenizer, 'json'>): boolean {
  const p = tokenizer.json.pre_tokenizer;
  return !!p && typeof p === 'object' && !Array.isArray(p) && p['type'] === 'ByteLevel' && p['add_prefix_space'] !== true;
}

/** The texts a document's sentences are encoded from: after the first, with a leading space where the tokenizer needs it. */
export function sentenceTexts(doc: Pick<CorpusDocument, 'sentences'>, spaced: boolean): string[] {
  return doc.sentences.map((s, i) => (spaced && i > 0 ? ` ${s}` : s));
}

export class MemoryDocuments implements DocumentSource {
  readonly tokenCount: number;
  constructor(private readonly docs: readonly TokenDocument[]) {
    this.tokenCount = docs.reduce((n, d) => n + d.tokens.length, 0);
  }
  get documentCount(): number {
    return this.docs.length;
  }
  document(i: number): TokenDocument {
    const d = this.docs[i];
    if (!d) throw new RangeError(`document ${i} of ${this.docs.length}`);
    return d;
  }
}

/** Tokenises documents (those without sentences are skipped, as readCorpus skips them). */
export async function tokenizeDocuments(docs: Iterable<CorpusDocument> | AsyncIterable<CorpusDocument>, tokenizer: Tokenizer): Promise<MemoryDocuments> {
  const spaced = needsSpaceBetweenSentences(tokenizer);
  const out: TokenDocument[] = [];
  for await (const doc of docs) {
    if (doc.sentences.length === 0) continue;
    const ids = await tokenizer.encodeIdsBatch(sentenceTexts(doc, spaced));
    const bounds = new Uint32Array(ids.length + 1);
    ids.forEach((s, i) => (bounds[i + 1] = bounds[i]! + s.length));
    const tokens = new Uint32Array(bounds[ids.length]!);
    ids.forEach((s, i) => tokens.set(s, bounds[i]!));
    out.push({ tokens, sentenceBounds: bounds });
  }
  return new MemoryDocuments(out);
}

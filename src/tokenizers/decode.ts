// A synchronous decoder for the tokenizers our trainers write. The native package decodes asynchronously (on a
// worker pool); streaming generated text to a terminal needs an answer per token, so this reimplements the three
// decoders we emit (ByteLevel, WordPiece, Metaspace). Tested against the native decoder.
import { BYTE_TO_UNICODE, METASPACE } from './pretokenize.js';
import type { Tokenizer } from './tokenizer.js';

export function syncDecoder(tok: Tokenizer): (ids: readonly number[]) => string {
  const special = new Set(tok.allSpecialIds);
  const piece = (id: number) => (special.has(id) ? undefined : tok.idToToken(id));
  const decoder = tok.json.decoder as { type?: string } | null | undefined;
  const type = decoder?.type;
  if (type === 'ByteLevel') {
    const toByte = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));
    const utf8 = new TextDecoder('utf-8');
    return (ids) => {
      const bytes: number[] = [];
      for (const id of ids) for (const ch of piece(id) ?? '') bytes.push(toByte.get(ch) ?? 0x3f);
      return utf8.decode(Uint8Array.from(bytes));
    };
  }
  if (type === 'WordPiece')
    return (ids) =>
      ids
        .map(piece)
        .filter((p): p is string => p !== undefined)
        .map((p, i) => (p.startsWith('##') ? p.slice(2) : i === 0 ? p : ` ${p}`))
        .join('')
        .replace(/ ([.,!?;:'])/g, '$1');
  return (ids) =>
    ids
      .map(piece)
      .filter((p): p is string => p !== undefined)
      .join('')
      .split(METASPACE)
      .join(' ')
      .replace(/^ /, '');
}

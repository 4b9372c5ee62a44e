import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brownDocuments } from '../../src/data/brown.js';

/** Sentences of the first `docs` Brown training documents: small enough for fast tests. */
export function brownSlice(docs = 40): string[] {
  return brownDocuments('train')
    .slice(0, docs)
    .flatMap((d) => d.sentences);
}

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'pretrain-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Text with punctuation, digits, accents, emoji, CJK, whitespace runs and very long words. */
export const SAMPLE_TEXTS = [
  "Hello, world! The café's déjà-vu cost $1,234.56 (50% off?!) on 3/14/1961.",
  'Emoji: 😀👍🏽 and CJK 日本語 and Ünïcödé ÀÉÎÕÜ ß ﬁ',
  'Antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis ' + 'x'.repeat(150),
  '  multiple   spaces\tand\ttabs\nnewlines  ',
  "It's [MASK] time <|endoftext|> </s> <extra_id_0> -- \"quoted\" `back` done.",
];

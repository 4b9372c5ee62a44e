/**
 * Detokenisation of Penn/Brown-style token lists into natural text: no space
 * before closing punctuation, none after opening brackets, `` and '' become
 * straight double quotes. Pure: no Node imports.
 */

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', "''", '%', "n't", "'s", "'re", "'ve", "'m", "'ll", "'d", '...', "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``', '`', '$']);

/** Brown writes quotes as `` and ''; map them (and single ` ) to ASCII quotes. */
function surface(tok: string): string {
  if (tok === '``' || tok === "''") return '"';
  if (tok === '`') return "'";
  return tok;
}

export function detokenize(tokens: readonly string[]): string {
  return detokenizeSpans(tokens).text;
}

/**
 * The detokenised text and where each token landed in it: [start, end) character offsets, [at, at] for a token
 * that left no trace (empty, or a period folded into an abbreviation's).
 */
export function detokenizeSpans(tokens: readonly string[]): { text: string; spans: Array<[number, number]> } {
  let out = '';
  let noSpaceNext = true;
  const spans: Array<[number, number]> = [];
  for (const tok of tokens) {
    // "Jr./np ./." would read "Jr.." : the abbreviation's period ends the sentence.
    if (!tok || (tok === '.' && out.endsWith('.') && !out.endsWith('..'))) {
      spans.push([out.length, out.length]);
      continue;
    }
    const glue = noSpaceNext || NO_SPACE_BEFORE.has(tok) || /^[.,;:!?]+$/.test(tok);
    out += glue ? '' : ' ';
    const start = out.length;
    out += surface(tok);
    spans.push([start, out.length]);
    noSpaceNext = NO_SPACE_AFTER.has(tok);
  }
  return { text: out, spans };
}

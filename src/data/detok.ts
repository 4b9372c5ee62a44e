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
  let out = '';
  let noSpaceNext = true;
  for (const tok of tokens) {
    if (!tok) continue;
    // "Jr./np ./." would read "Jr.." : the abbreviation's period ends the sentence.
    if (tok === '.' && out.endsWith('.') && !out.endsWith('..')) continue;
    const glue = noSpaceNext || NO_SPACE_BEFORE.has(tok) || /^[.,;:!?]+$/.test(tok);
    out += (glue ? '' : ' ') + surface(tok);
    noSpaceNext = NO_SPACE_AFTER.has(tok);
  }
  return out;
}

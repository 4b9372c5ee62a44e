/**
 * The fixed Brown split: per genre, documents sorted by id; 10% (half-even
 * rounded, at least 1) go to validation and as many to test, at evenly
 * spaced positions so that every sub-genre run is sampled; the rest train.
 * Pure: no Node imports.
 */
import { roundHalfEven } from './rng.js';
import type { Split } from './types.js';

export function splitGenre(ids: readonly string[], fraction = 0.1): Map<string, Split> {
  const sorted = [...ids].sort();
  const n = sorted.length;
  const per = Math.max(1, roundHalfEven(n * fraction));
  const held = Math.min(n - 1, 2 * per);
  const out = new Map<string, Split>();
  for (const id of sorted) out.set(id, 'train');
  for (let k = 0; k < held; k++) {
    const idx = Math.floor(((k + 0.5) * n) / held);
    out.set(sorted[idx]!, k % 2 === 0 ? 'validation' : 'test');
  }
  return out;
}

/**
 * The pair-merging engine shared by the byte-level BPE and WordPiece
 * trainers (Hugging Face's WordPiece trainer is also a BPE trainer with a
 * `##` continuation prefix). Works on a word-count dictionary and updates
 * pair counts incrementally: each merge touches only the words that contain
 * the merged pair. Pure: no Node imports.
 */

export interface MergeWord {
  /** Symbol ids of the word, left to right. */
  symbols: number[];
  count: number;
}

export interface MergeOptions {
  /** Stop when the symbol table reaches this many entries. */
  maxSymbols: number;
  /** Pairs seen fewer times than this are never merged. */
  minFrequency: number;
  /** The string of the symbol made by merging a and b. */
  join(a: string, b: string): string;
}

export interface MergeResult {
  /** Symbol table: the initial symbols then the new ones, in creation order. */
  symbols: string[];
  /** Merges in order, as pairs of symbol strings. */
  merges: Array<[string, string]>;
}

// Pair key a * 2^21 + b stays exact in a double while ids < 2^21 (2 M symbols).
const SHIFT = 2097152;

/** Max-heap on (count desc, key asc) with lazy deletion. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (n > 1) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < m && this.before(l, best)) best = l;
        if (r < m && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

export function learnMerges(words: MergeWord[], initialSymbols: string[], opts: MergeOptions): MergeResult {
  const symbols = initialSymbols.slice();
  const symbolId = new Map<string, number>();
  symbols.forEach((s, i) => symbolId.set(s, i));
  const merges: Array<[string, string]> = [];

  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (let w = 0; w < words.length; w++) {
    const { symbols: syms, count } = words[w]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * SHIFT + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + count);
      let set = where.get(key);
      if (!set) where.set(key, (set = new Set()));
      set.add(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const touched = new Set<number>();
  while (symbols.length < opts.maxSymbols && heap.size > 0) {
    const [c, key] = heap.pop()!;
    const current = pairCount.get(key) ?? 0;
    if (c !== current) {
      // Stale entry: its count dropped since it was pushed.
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (current < opts.minFrequency || current <= 0) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const aStr = symbols[a]!;
    const bStr = symbols[b]!;
    const joined = opts.join(aStr, bStr);
    let nid = symbolId.get(joined);
    if (nid === undefined) {
      nid = symbols.length;
      symbols.push(joined);
      symbolId.set(joined, nid);
    }
    merges.push([aStr, bStr]);

    touched.clear();
    const ws = where.get(key);
    where.delete(key);
    if (ws) {
      for (const w of ws) {
        const word = words[w]!;
        const syms = word.symbols;
        // Find whether the pair is still present (the where-sets are not pruned).
        let found = false;
        for (let i = 0; i + 1 < syms.length; i++) {
          if (syms[i] === a && syms[i + 1] === b) {
            found = true;
            break;
          }
        }
        if (!found) continue;
        const cnt = word.count;
        for (let i = 0; i + 1 < syms.length; i++) {
          const k = syms[i]! * SHIFT + syms[i + 1]!;
          pairCount.set(k, pairCount.get(k)! - cnt);
        }
        const out: number[] = [];
        for (let i = 0; i < syms.length; i++) {
          if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
            out.push(nid);
            i++;
          } else out.push(syms[i]!);
        }
        word.symbols = out;
        for (let i = 0; i + 1 < out.length; i++) {
          const k = out[i]! * SHIFT + out[i + 1]!;
          pairCount.set(k, (pairCount.get(k) ?? 0) + cnt);
          if (out[i] === nid || out[i + 1] === nid) {
            let set = where.get(k);
            if (!set) where.set(k, (set = new Set()));
            set.add(w);
            touched.add(k);
          }
        }
      }
    }
    pairCount.delete(key);
    for (const k of touched) {
      const v = pairCount.get(k) ?? 0;
      if (v > 0) heap.push(v, k);
    }
  }
  return { symbols, merges };
}

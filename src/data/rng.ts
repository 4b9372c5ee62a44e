/**
 * Seeded, resumable randomness for data pipelines and objectives.
 *
 * xoshiro128** (Blackman & Vigna): 128-bit state held in four uint32 words, so
 * it runs on plain 32-bit integer maths (no BigInt) and its whole state fits in
 * a checkpoint as four numbers. Pure: no Node imports.
 */

/** Serialisable generator state: the four xoshiro128** words (uint32). */
export type RngState = [number, number, number, number];

/** splitmix32: expands a 32-bit seed into well-mixed words for the state. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 units of a string: turns a string seed into a number. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** A seed of any integer (taken modulo 2^32) or a string. */
  constructor(seed: number | string = 0) {
    this.seed(seed);
  }

  seed(seed: number | string): void {
    const n = typeof seed === 'string' ? hashString(seed) : Number.isFinite(seed) ? Math.trunc(seed) % 4294967296 : 0;
    const sm = splitmix32(n >>> 0);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    // An all-zero state would be a fixed point; splitmix never yields four zeros, but guard anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
      throw new Error('Rng.setState: expected four uint32 numbers');
    }
    if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) throw new Error('Rng.setState: all-zero state is invalid');
    this.s0 = state[0]! >>> 0;
    this.s1 = state[1]! >>> 0;
    this.s2 = state[2]! >>> 0;
    this.s3 = state[3]! >>> 0;
  }

  /** An independent copy with the same state. */
  clone(): Rng {
    const r = new Rng(0);
    r.setState(this.getState());
    return r;
  }

  /** Next uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling), n <= 2^32. */
  int(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) throw new Error(`Rng.int: bad range ${n}`);
    if (n === 1) return 0;
    // Largest multiple of n that fits in 2^32; values at or above it are redrawn.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi] inclusive. */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(a: T[]): T[];
  shuffle<A extends { length: number; [i: number]: number }>(a: A): A;
  shuffle<T>(a: { length: number; [i: number]: T }): { length: number; [i: number]: T } {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** k distinct indices from [0, n), in random order (partial Fisher-Yates). */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new Error(`Rng.sampleIndices: k=${k} > n=${n}`);
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    return idx.slice(0, k);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Round half to even (banker's rounding), as Python 3 `round`, NumPy and
 * tf.round do; `Math.round` rounds halves up, which changes derived counts.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Seeded randomness for the pure core. Nothing here reads a clock or Math.random: the same seed gives
 * the same stream on every machine, so a poisson run can be replayed exactly.
 */

/**
 * Murmur3's 32-bit finaliser: every input bit flips each output bit with probability ~1/2, so nearby
 * seeds (1, 2, 3 …) start generators in unrelated states.
 */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Folds any finite number into 32 bits. Integers up to 2^53 keep both halves, so seeds 1 and 2^32 + 1
 * differ; a fractional seed is truncated (a seed is a label, not a quantity).
 */
function seedBits(seed: number): number {
  const s = Number.isFinite(seed) ? Math.trunc(seed) : 0;
  const lo = s >>> 0;
  const hi = Math.floor(s / 0x1_0000_0000) >>> 0;
  return mix32(lo ^ mix32(hi ^ 0x9e3779b9));
}

/**
 * An independent seed for sub-stream `stream` of `seed` (e.g. one per phase). Adding a multiple of the
 * golden-ratio constant before mixing is splitmix's trick: consecutive streams land far apart.
 */
export function deriveSeed(seed: number, stream: number): number {
  return mix32((seedBits(seed) + Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
}

/**
 * mulberry32 (period 2^32, passes PractRand to 2^32 bytes at this size: plenty for tens of millions
 * of draws). Two 32-bit outputs are joined into one 53-bit float so the result has a double's full
 * resolution: a 32-bit float would cap -ln(1 - u) at ~22 and quantise exponential gaps.
 *
 * Returns a function giving uniforms in [0, 1).
 */
export function createRng(seed: number): () => number {
  let state = seedBits(seed);
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  return () => {
    const hi = next32() >>> 5; // 27 bits
    const lo = next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992; // (hi·2^26 + lo) / 2^53
  };
}

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

/**
 * Standard normals by Box–Muller: with U₁ in (0, 1] and U₂ in [0, 1),
 *
 *   R = √(−2 ln U₁),  Z₀ = R·cos(2πU₂),  Z₁ = R·sin(2πU₂)
 *
 * are two independent N(0, 1). The second is kept for the next call, so a normal costs one uniform
 * on average; the spare makes the sampler stateful, but deterministically so for a given rng.
 */
export function normalSampler(rng: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    // 1 − rng() is in (0, 1]: ln never sees 0
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const theta = 2 * Math.PI * rng();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/**
 * Gamma(shape, scale 1) draws, mean = variance = shape.
 *
 * shape ≥ 1: Marsaglia & Tsang (2000). With d = shape − 1/3, c = 1/√(9d), draw Z ~ N(0, 1) and
 * U ~ U(0, 1); v = (1 + cZ)³; accept d·v when v > 0 and
 *
 *   ln U < Z²/2 + d − d·v + d·ln v
 *
 * (the cheap squeeze U < 1 − 0.0331·Z⁴ accepts ~98% of draws before any log). Acceptance is > 95% for
 * every shape ≥ 1, so the loop is short.
 *
 * shape < 1: the boost Gamma(a) = Gamma(a + 1)·U^(1/a) (Marsaglia & Tsang again), since their method
 * needs a ≥ 1. U is taken in (0, 1]; for very small shapes U^(1/a) can still underflow to 0, a gap of
 * exactly 0 (two sends at the same instant), which the callers tolerate.
 */
export function gammaSampler(shape: number, rng: () => number): () => number {
  if (!(shape > 0 && Number.isFinite(shape))) throw new RangeError(`gamma shape must be a finite number > 0, got ${shape}`);
  const normal = normalSampler(rng);
  const boosted = shape < 1;
  const d = (boosted ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const inv = 1 / shape;
  const atLeastOne = (): number => {
    for (;;) {
      const z = normal();
      const base = 1 + c * z;
      if (base <= 0) continue;
      const v = base * base * base;
      const u = rng();
      const z2 = z * z;
      if (u < 1 - 0.0331 * z2 * z2) return d * v;
      if (Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return boosted ? () => atLeastOne() * Math.pow(1 - rng(), inv) : atLeastOne;
}

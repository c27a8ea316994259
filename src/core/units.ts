/**
 * Durations and percentages as people write them in profiles, and back again for messages and plans.
 * Durations are milliseconds throughout the codebase.
 */

const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
};

// Longer unit names first so "ms" is not read as "m" followed by a stray "s".
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|us|µs|h|m|s)/y;

/**
 * "30s", "250ms", "1.5s", "2m", "1h", "500us", and compounds such as "1m30s" (what `formatDuration`
 * prints) → milliseconds. A bare number is refused: "30" could mean seconds or milliseconds, and a
 * budget read in the wrong unit passes or fails silently.
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m || m.index !== at) return undefined;
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * "1%", "0.5%" → 0.01, 0.005; a bare number in [0, 1] is already a fraction. Anything outside
 * 0..100% is refused here so callers need no second range check.
 */
export function parsePercent(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 && v <= 1 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(v);
  if (!m) return undefined;
  const pct = Number(m[1]);
  return pct <= 100 ? pct / 100 : undefined;
}

/** Drops float noise (1.2340000000000002) without ever printing an exponent for sane inputs. */
function trimNumber(x: number, decimals: number): string {
  return String(Number(x.toFixed(decimals)));
}

/** 800 → "800ms", 2000 → "2s", 90000 → "1m30s", 0.5 → "0.5ms". Output is accepted by `parseDuration`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms}ms`;
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${trimNumber(ms, 3)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms - h * 3_600_000) / 60_000);
  const sec = (ms - h * 3_600_000 - m * 60_000) / 1000;
  let out = '';
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  const secText = trimNumber(sec, 6);
  if (secText !== '0') out += `${secText}s`;
  return out === '' ? '0ms' : out;
}

/** 0.01 → "1%", 0.005 → "0.5%". */
export function formatPercent(fraction: number): string {
  return `${trimNumber(fraction * 100, 4)}%`;
}

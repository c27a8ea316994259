/**
 * The live side of recovery budgets (recovery.ts): per stage × path, one histogram per bin of
 * intended send time. The hot path is one map lookup and one integer; completions arrive out of
 * intended-time order (a stalled request finishes late), so bins cannot simply roll forward.
 * Memory stays bounded: past MAX_LIVE_BINS open histograms per track, the oldest-opened is encoded
 * (a late sample reopens it by decoding, exact by HDR addition).
 */
import { createHistogram, decodeHistogram, encodeHistogram, recordMs, type Histogram } from './histograms.js';
import type { PathName } from './profile-types.js';
import { RECOVERY_BIN_MS, type RecoveryTrackReport } from './recovery.js';

const MAX_LIVE_BINS = 64;

interface Track {
  stage: string;
  path: PathName;
  live: Map<number, Histogram>;
  encoded: Map<number, string>;
  errors: Map<number, number>;
  unmeasured: Map<number, number>;
}

const binOf = (intendedMs: number): number => Math.floor(Math.max(0, intendedMs) / RECOVERY_BIN_MS);
const bump = (m: Map<number, number>, k: number): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

export class RecoveryTracker {
  private readonly tracks = new Map<string, Track>();

  /** @param stages the stages recovery budgets name; nothing is kept for others */
  constructor(private readonly stages: readonly string[]) {}

  get active(): boolean {
    return this.stages.length > 0;
  }

  private track(stage: string, path: PathName): Track {
    const key = `${stage}|${path}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = { stage, path, live: new Map(), encoded: new Map(), errors: new Map(), unmeasured: new Map() };
      this.tracks.set(key, t);
    }
    return t;
  }

  private hist(t: Track, bin: number): Histogram {
    let h = t.live.get(bin);
    if (h) return h;
    const back = t.encoded.get(bin);
    h = back === undefined ? createHistogram() : decodeHistogram(back);
    t.encoded.delete(bin);
    t.live.set(bin, h);
    if (t.live.size > MAX_LIVE_BINS) {
      const [oldest, oh] = t.live.entries().next().value as [number, Histogram];
      t.encoded.set(oldest, encodeHistogram(oh));
      t.live.delete(oldest);
    }
    return h;
  }

  /** A completed request: each tracked stage it reported (`value` gives it, undefined: lacked). */
  completed(path: PathName, intendedMs: number, value: (stage: string) => number | undefined): void {
    const bin = binOf(intendedMs);
    for (const stage of this.stages) {
      const t = this.track(stage, path);
      const v = value(stage);
      if (v === undefined) bump(t.unmeasured, bin);
      else recordMs(this.hist(t, bin), v);
    }
  }

  failed(path: PathName, intendedMs: number): void {
    const bin = binOf(intendedMs);
    for (const stage of this.stages) bump(this.track(stage, path).errors, bin);
  }

  /** every track's bins, encoded, without disturbing live state */
  report(): RecoveryTrackReport[] {
    return [...this.tracks.values()].map((t) => {
      const at = [...new Set([...t.live.keys(), ...t.encoded.keys(), ...t.errors.keys(), ...t.unmeasured.keys()])].sort((a, b) => a - b);
      return {
        stage: t.stage,
        path: t.path,
        binMs: RECOVERY_BIN_MS,
        at,
        hdr: at.map((i) => {
          const h = t.live.get(i);
          if (h) return h.totalCount > 0 ? encodeHistogram(h) : '';
          return t.encoded.get(i) ?? '';
        }),
        errors: at.map((i) => t.errors.get(i) ?? 0),
        unmeasured: at.map((i) => t.unmeasured.get(i) ?? 0),
      };
    });
  }
}

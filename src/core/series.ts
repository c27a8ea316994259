/**
 * A report's series merged per stage: the histograms of every series a filter keeps, added by stage
 * (HDR histograms add exactly), decoded with the exact maximum kept beside each. The HTML report's
 * percentile curves and capacity's per-step p99 both read these.
 */
import { decodeHistogram, mergeHistograms, type Histogram } from './histograms.js';
import type { SeriesReport } from './report.js';

export interface StageHistogram {
  stage: string;
  hist: Histogram;
}

/** Stages in the order they first appear; a stage with one series is decoded, not copied. */
export function mergeStages(series: readonly SeriesReport[], keep: (s: SeriesReport) => boolean = () => true): StageHistogram[] {
  const byStage = new Map<string, Histogram[]>();
  for (const s of series) {
    if (!keep(s)) continue;
    const list = byStage.get(s.stage) ?? [];
    list.push(decodeHistogram(s.hdr, s.max));
    byStage.set(s.stage, list);
  }
  return [...byStage].map(([stage, hs]) => ({ stage, hist: hs.length === 1 ? (hs[0] as Histogram) : mergeHistograms(hs) }));
}

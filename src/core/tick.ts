/** What the driver reports once a second while the load runs (the live progress line renders it). */
import type { Progress } from './recorder.js';
import type { PlannedPhase } from './schedule.js';

export interface Tick {
  tMs: number;
  /** the phase of the second the tick reports (the one just ended); undefined after the run */
  phase: PlannedPhase | undefined;
  inFlight: number;
  /** the counts are taken at the tick, its p99 when first read (the driver computes it lazily): read it inside the callback */
  progress: Progress;
}

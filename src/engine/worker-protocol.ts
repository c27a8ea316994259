/** The messages between the main thread (workers.ts) and a sender thread (worker-main.ts): plain data. */
import type { EncodedSlice } from '../core/abort.js';
import type { Conversation } from '../core/conversations.js';
import type { ErrorKind } from '../core/errors.js';
import type { Profile } from '../core/profile-types.js';
import type { PromptItem } from '../core/prompts.js';
import type { RunResult } from '../core/report.js';
import type { Shard } from '../core/shard.js';
import type { Tick } from '../core/tick.js';

export interface WorkerInput {
  /** the profile with this worker's share of maxInFlight */
  profile: Profile;
  url: string;
  version: string;
  /** this worker's residue class of the schedule (composed with an outer --shard) */
  shard: Shard;
  allowInconclusive: boolean;
  strict: boolean;
  promptItems?: readonly PromptItem[];
  /** phase index → the conversations of its `sessions: { file }` (as entries: plain data); each worker runs the sessions its share starts */
  conversations?: readonly (readonly [number, readonly Conversation[]])[];
  /** where the profile's tokenizer file is read from (each worker loads its own tokenizer) */
  baseDir?: string;
  /** 0: no checkpoints */
  checkpointMs: number;
}

export type ToWorker =
  /** begin at startAt on sharedClock; startEpochMs is the wall-clock time of that instant, the same for every worker */
  | { kind: 'go'; startAt: number; startEpochMs: number }
  /** stop sending (Ctrl-C, or the merged window failed an abort budget) */
  | { kind: 'stop' }
  /** stop at once, cancelling requests in flight */
  | { kind: 'hard' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'tick'; tick: Omit<Tick, 'phase'>; total?: { hdr: string; max: number }; slices: EncodedSlice[] }
  | { kind: 'checkpoint'; report: RunResult }
  | { kind: 'done'; report: RunResult }
  | { kind: 'error'; errorKind: ErrorKind | undefined; message: string };

/**
 * ms on CLOCK_MONOTONIC (process.hrtime), sub-ms, one clock for every thread and process on the
 * machine. Not timeOrigin + performance.now(): each thread's timeOrigin is the wall clock read when the
 * thread started, so while NTP slews the wall clock (a fresh CI machine: measured 5 ms/s) two threads'
 * "epochs" drift apart by the slew times the gap between their starts.
 */
export const sharedClock = (): number => Number(process.hrtime.bigint()) / 1e6;

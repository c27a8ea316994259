/**
 * A sender thread (see workers.ts): runs its residue class of the schedule with runEngine on its own
 * autocannon instance and event loop, and sends the main thread encoded state, never per-request
 * messages: once a second its progress, its total histogram and its early-abort window; its
 * checkpoints; and its report at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AbortWatch } from '../core/abort.js';
import { BudgetgateError } from '../core/errors.js';
import { encodeHistogram, maxMs, mergeHistograms } from '../core/histograms.js';
import type { Recorder } from '../core/recorder.js';
import { TOTAL_STAGE } from '../core/stages.js';
import { runEngine, waitUntil } from './run.js';
import { sharedClock, type FromWorker, type ToWorker, type WorkerInput } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');
const input = workerData as WorkerInput;
const soft = new AbortController();
const hard = new AbortController();
const post = (m: FromWorker): void => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.kind === 'go') void go(m.startAt, m.startEpochMs);
  else if (m.kind === 'stop') soft.abort();
  else {
    soft.abort();
    hard.abort();
  }
});
post({ kind: 'ready' });

/** This worker's total histograms merged, encoded with their exact max (for the live p99). */
function totalState(recorder: Recorder): { hdr: string; max: number } | undefined {
  const hs = recorder.measurements().series.filter((s) => s.stage === TOTAL_STAGE).map((s) => s.hist);
  if (hs.length === 0) return undefined;
  const h = mergeHistograms(hs);
  return h.totalCount > 0 ? { hdr: encodeHistogram(h), max: maxMs(h) } : undefined;
}

/**
 * Begins at startAt on the shared monotonic clock: a timer to within 2 ms, then a short setImmediate
 * wait, so the workers' t = 0 agree to well under a millisecond (the schedule's own send precision).
 */
async function startAtPrecisely(startAt: number): Promise<void> {
  try {
    await waitUntil(startAt - 2, sharedClock, [soft.signal]);
  } catch {
    return; // stopped before the start: runEngine sees the aborted signal and sends nothing
  }
  while (sharedClock() < startAt && !soft.signal.aborted) await new Promise<void>((r) => setImmediate(r));
}

async function go(startAt: number, startEpochMs: number): Promise<void> {
  let recorder: Recorder | undefined;
  let watch: AbortWatch | undefined;
  try {
    await startAtPrecisely(startAt);
    const report = await runEngine(input.profile, {
      url: input.url,
      version: input.version,
      skipProbe: true,
      allowInconclusive: input.allowInconclusive,
      strict: input.strict,
      shard: input.shard,
      // every worker reports the main thread's start instant: their timelines merge aligned exactly
      epochClock: () => startEpochMs,
      signal: soft.signal,
      hardSignal: hard.signal,
      checkAbort: false,
      ...(input.promptItems ? { promptItems: input.promptItems } : {}),
      ...(input.conversations ? { conversations: new Map(input.conversations) } : {}),
      ...(input.baseDir !== undefined ? { baseDir: input.baseDir } : {}),
      live: (r, w) => {
        recorder = r;
        watch = w;
      },
      onTick: ({ tMs, inFlight, progress }) => {
        const total = recorder ? totalState(recorder) : undefined;
        // the phase (it holds functions, which cannot cross threads) is the main thread's to look up
        // its p99 is the main thread's to take, from every worker's total (mergedTick): not read here
        const { scheduled, sent, completed, errors, fallback } = progress;
        const counts = { scheduled, sent, completed, errors, fallback, p99: Number.NaN };
        post({ kind: 'tick', tick: { tMs, inFlight, progress: counts }, ...(total ? { total } : {}), slices: watch?.active === true ? watch.exportSlices() : [] });
      },
      ...(input.checkpointMs > 0 ? { checkpointMs: input.checkpointMs, onCheckpoint: (partial) => post({ kind: 'checkpoint', report: partial }) } : {}),
    });
    post({ kind: 'done', report });
  } catch (e) {
    post({ kind: 'error', errorKind: e instanceof BudgetgateError ? e.kind : undefined, message: (e as Error).message ?? String(e) });
  }
}

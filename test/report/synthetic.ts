/** Synthetic reports made by driving a real Recorder, so hdr strings, summaries and counts agree. */
import { mulberry32 } from '../../src/sim/prng.js';
import { Recorder } from '../../src/core/recorder.js';
import { REPORT_SCHEMA, type RunResult } from '../../src/core/report.js';

/** exp(μ + σ·Z), Z standard normal by Box–Muller: a latency-like right-skewed distribution */
export function lognormal(seed: number, medianMs: number, sigma: number): () => number {
  const rng = mulberry32(seed);
  return () => {
    const u = Math.max(rng(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    return medianMs * Math.exp(sigma * z);
  };
}

export interface SyntheticOptions {
  seed?: number;
  /** requests per second over `seconds` */
  rate?: number;
  seconds?: number;
  medianMs?: number;
  sigma?: number;
  /** multiplies every latency (a slower build) */
  scale?: number;
  /** every k-th request fails (0: none) */
  errorEvery?: number;
  /** every k-th completed request is served by the fallback (0: none) */
  fallbackEvery?: number;
  profile?: string;
}

/** A warmup second then a steady phase; stages total and queue (a fixed 10% of total). */
export function syntheticReport(o: SyntheticOptions = {}): RunResult {
  const rate = o.rate ?? 500;
  const seconds = o.seconds ?? 10;
  const scale = o.scale ?? 1;
  const next = lognormal(o.seed ?? 1, o.medianMs ?? 100, o.sigma ?? 0.5);
  const warmMs = 1000;
  const endMs = warmMs + seconds * 1000;
  const rec = new Recorder([
    { name: 'warmup', warmup: true, model: 'open', startMs: 0, endMs: warmMs, rate, to: rate, concurrency: 0, concurrencyTo: 0, requests: rate },
    { name: 'steady', warmup: false, model: 'open', startMs: warmMs, endMs, rate, to: rate, concurrency: 0, concurrencyTo: 0, requests: rate * seconds },
  ]);
  const n = rate * (seconds + 1);
  // responses arrive in completion order, as in a real run (the recorder's windows go by completion time)
  const done: { i: number; t: number; phase: number; latency: number }[] = [];
  for (let i = 0; i < n; i++) {
    const t = (i * 1000) / rate;
    const phase = t < warmMs ? 0 : 1;
    rec.due(t);
    rec.sent(phase, t, t, false);
    done.push({ i, t, phase, latency: next() * scale });
  }
  done.sort((a, b) => a.t + a.latency - (b.t + b.latency));
  for (const { i, t, phase, latency } of done) {
    if (o.errorEvery && i % o.errorEvery === 0) {
      rec.failed(phase, t + latency, 'http 503', 'primary');
      continue;
    }
    const path = o.fallbackEvery && i % o.fallbackEvery === 0 ? 'fallback' : 'primary';
    rec.completed(phase, t, t + latency, { stages: new Map([['queue', latency / 10]]), unmeasured: [], path });
  }
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'budgetgate', version: '0.0.0-test' },
    profile: o.profile ?? 'synthetic',
    target: 'http://127.0.0.1:1/v1/chat/completions',
    arrivals: 'uniform',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: endMs,
    verdict: 'pass',
    interrupted: false,
    budgets: [],
    ...rec.report(),
  };
}

/** The report with its budgets evaluated as a run would (verdict included). */
export async function withBudgets(r: RunResult, budgets: readonly import('../../src/core/profile-types.js').Budget[], o: { allowInconclusive?: boolean; strict?: boolean } = {}): Promise<RunResult> {
  const { reevaluate } = await import('../../src/core/verdict.js');
  const e = reevaluate(r, budgets, { allowInconclusive: o.allowInconclusive === true, strict: o.strict === true });
  return { ...r, budgets: e.budgets, verdict: e.verdict };
}

/** total p50 limit placed inside its own 95% interval: a borderline pass */
export async function gateReport(): Promise<RunResult> {
  const r = syntheticReport({ seed: 7, rate: 200, seconds: 6, errorEvery: 97, fallbackEvery: 13 });
  const { decodeHistogram, mergeHistograms, quantileMs } = await import('../../src/core/histograms.js');
  const h = mergeHistograms(r.series.filter((s) => s.stage === 'total' && s.phase === 'steady').map((s) => decodeHistogram(s.hdr, s.max)));
  const p50 = quantileMs(h, 0.5);
  return withBudgets(r, [
    { kind: 'latency', id: 'total.p50', stage: 'total', key: 'p50', limitMs: Math.round(p50 * 1.01 * 1000) / 1000 },
    { kind: 'latency', id: 'total.p99', stage: 'total', key: 'p99', limitMs: 200 },
    { kind: 'latency', id: 'queue.p90', stage: 'queue', key: 'p90', limitMs: 30 },
    { kind: 'latency', id: 'total.fallback.max', stage: 'total', key: 'max', limitMs: 2000, path: 'fallback' },
    { kind: 'errorRate', id: 'errorRate', max: 0.02 },
    { kind: 'fallbackRate', id: 'fallbackRate', max: 0.05 },
  ]);
}

/** a synthetic run (stages total and queue, every 13th response fallback) judged by real profile budgets */
export async function stagedReport(): Promise<RunResult> {
  const r = syntheticReport({ seed: 7, rate: 200, seconds: 6, errorEvery: 97, fallbackEvery: 13 });
  const { parseProfile } = await import('../../src/core/profile/index.js');
  const p = parseProfile(
    {
      name: 'staged',
      fallback: { header: 'x-route', equals: 'fallback' },
      phases: [{ name: 'steady', duration: '6s', rate: 200 }],
      budgets: [{ stage: 'total', p50: '150ms', p99: '200ms' }, { stage: 'queue', p90: '30ms' }, { stage: 'total', path: 'fallback', max: '2s' }, { stage: 'total', mean: '1s' }, { errorRate: '2%' }],
    },
    () => undefined,
  );
  if (!p.ok) throw new Error(JSON.stringify(p.problems));
  return withBudgets(r, p.profile.budgets);
}

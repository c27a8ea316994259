/**
 * (e) A/A/B: does `compare` cry wolf, and does it catch a real slowdown?
 *
 * K "A" runs and K−1 "B" runs of one profile, interleaved A B A B … A so that a noisy stretch of the
 * machine falls on both kinds, each against its own simulated endpoint in its own process: A as
 * configured, B with the decode stage 20% slower (the sim's decode ms per token × 1.2). Every run goes
 * through `run()` (the path `budgetgate run` takes), every comparison through `compareRuns()` with the
 * CLI's defaults (what `budgetgate compare` calls). Counted:
 *
 *   A/A: every ordered pair (K·(K−1)) of A runs; a pair is a false alarm when anything regressed;
 *   A/B: every (A baseline, B current) pair; detected when the decode stage regressed (any percentile),
 *        and separately when total p50 regressed;
 *   history: each run against the other A runs as baselines (leave-one-out), the multi-baseline mode.
 *
 * The reports are kept in bench/results/aab/ so the comparisons can be re-run offline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../src/api.js';
import { COMPARE_KEYS, compareRuns, defaultCompareOptions, type Comparison } from '../src/core/compare.js';
import type { RunResult } from '../src/core/report.js';
import type { SimOptions } from '../src/sim/index.js';
import { spawnSim } from './sim-child.js';
import type { Row, Section } from './table.js';

export interface AabArgs {
  runs: number;
  warmupMs: number;
  steadyMs: number;
  rate: number;
  dir: string;
}

/** decode 11.2 ms of a ~21 ms request: decode × 1.2 is +2.2 ms on decode and about +10% on total */
export const AAB_SIM: SimOptions = { workers: 16, prefillBaseMs: 9, decodeMsPerToken: 0.7, jitter: 0.2, fallbackOff: true };
export const AAB_SLOWER = 1.2;

function profile(a: AabArgs): object {
  return {
    name: 'aab',
    target: { body: { model: 'sim', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 16 } },
    timings: { serverTiming: true },
    arrivals: 'uniform',
    phases: [
      { name: 'warmup', duration: `${a.warmupMs}ms`, rate: 50, warmup: true },
      { name: 'steady', duration: `${a.steadyMs}ms`, rate: a.rate },
    ],
    budgets: [{ stage: 'total', p99: '1s' }, { stage: 'decode', p99: '1s' }, { errorRate: '1%' }],
  };
}

const flaggedKeys = (c: Comparison, stage?: string): Set<string> =>
  new Set(c.series.filter((s) => stage === undefined || s.stage === stage).flatMap((s) => s.changes.filter((x) => x.status === 'regression').map((x) => x.key)));

function whatFlagged(c: Comparison): string {
  return c.series.flatMap((s) => s.changes.filter((x) => x.status === 'regression').map((x) => `${s.stage} ${x.key} ${x.change === null ? '' : `${(x.change * 100).toFixed(0)}%`}`)).join('; ');
}

export async function aabSection(a: AabArgs, say: (s: string) => void): Promise<{ sections: Section[]; counts: AabCounts }> {
  mkdirSync(a.dir, { recursive: true });
  const simA = await spawnSim({ ...AAB_SIM, seed: 11 });
  const simB = await spawnSim({ ...AAB_SIM, seed: 12, decodeMsPerToken: (AAB_SIM.decodeMsPerToken ?? 0) * AAB_SLOWER });
  const A: RunResult[] = [];
  const B: RunResult[] = [];
  try {
    for (let i = 0; i < a.runs * 2 - 1; i++) {
      const isA = i % 2 === 0;
      const sim = isA ? simA : simB;
      const r = await run(profile(a), { target: `${sim.url}/v1/chat/completions` });
      (isA ? A : B).push(r);
      const name = `${isA ? 'A' : 'B'}${(isA ? A : B).length}`;
      writeFileSync(join(a.dir, `${name}.json`), `${JSON.stringify(r)}\n`);
      const total = r.series.find((s) => s.stage === 'total' && s.phase === 'steady');
      say(`  (e) ${name}: total p50 ${total?.p50?.toFixed(2)} ms, p99 ${total?.p99?.toFixed(2)} ms, ${r.totals.completed} completed, verdict ${r.verdict}\n`);
    }
  } finally {
    await simA.stop();
    await simB.stop();
  }
  return aabCompare(A, B);
}

/** The comparisons and their counts, from saved A and B reports (also used with --aab-reports). */
export function aabCompare(A: readonly RunResult[], B: readonly RunResult[]): { sections: Section[]; counts: AabCounts } {
  const o = defaultCompareOptions();
  const aa: Comparison[] = [];
  const examples: string[] = [];
  for (let i = 0; i < A.length; i++) for (let j = 0; j < A.length; j++) if (i !== j) {
    const c = compareRuns([A[i] as RunResult], A[j] as RunResult, o);
    aa.push(c);
    if (c.regressions > 0 && examples.length < 5) examples.push(`A${i + 1}→A${j + 1}: ${whatFlagged(c)}`);
  }
  const ab: Comparison[] = [];
  for (const x of A) for (const y of B) ab.push(compareRuns([x], y, o));
  const hist = A.map((x, i) => compareRuns(A.filter((_, j) => j !== i), x, o));
  const histB = B.map((y) => compareRuns(A, y, o));

  const rows: Row[] = [];
  const count = (cs: Comparison[], pick: (c: Comparison) => boolean): number => cs.filter(pick).length;
  const row = (what: string, cs: Comparison[], stage: string | undefined, anyKey: boolean): Row => {
    const r: Row = { what, pairs: cs.length, incomparable: count(cs, (c) => c.outcome === 'incomparable'), flagged: count(cs, (c) => (stage === undefined && anyKey ? c.regressions > 0 : flaggedKeys(c, stage).size > 0)) };
    for (const k of COMPARE_KEYS) r[k] = count(cs, (c) => flaggedKeys(c, stage).has(k));
    return r;
  };
  rows.push(row('A/A pairs, anything regressed (false alarms)', aa, undefined, true));
  rows.push(row('A/B pairs, decode regressed (detections)', ab, 'decode', true));
  rows.push(row('A/B pairs, total regressed', ab, 'total', true));
  rows.push(row('A vs the other A runs (history), anything regressed', hist, undefined, true));
  rows.push(row('B vs every A run (history), decode regressed', histB, 'decode', true));
  const counts = {
    aaFlagged: num(rows[0]?.flagged),
    aaPairs: aa.length,
    aaIncomparable: num(rows[0]?.incomparable),
    abIncomparable: num(rows[1]?.incomparable),
    abDecode: num(rows[1]?.flagged),
    abTotalP50: num(rows[2]?.p50),
    abPairs: ab.length,
  };
  const med = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const p50Of = (rs: readonly RunResult[], stage: string): number => med(rs.map((r) => r.series.find((s) => s.stage === stage && s.phase === 'steady')?.p50 ?? Number.NaN));
  return {
    counts,
    sections: [
      {
        name: 'aab',
        title: `(e) A/A/B: ${A.length} A runs, ${B.length} B runs (decode ×${AAB_SLOWER}), compare with the CLI's defaults; counts of pairs flagged, per percentile`,
        columns: [
          { key: 'what', label: 'comparison' },
          { key: 'pairs', label: 'pairs' },
          { key: 'incomparable', label: 'cannot compare' },
          { key: 'flagged', label: 'flagged' },
          ...COMPARE_KEYS.map((k) => ({ key: k, label: k })),
        ],
        rows,
        notes: [
          `median p50 of the steady phase: total A ${p50Of(A, 'total').toFixed(2)} ms, B ${p50Of(B, 'total').toFixed(2)} ms; decode A ${p50Of(A, 'decode').toFixed(2)} ms, B ${p50Of(B, 'decode').toFixed(2)} ms`,
          'cannot compare = a side did not deliver its load (the client fell behind its schedule: its latencies measured the machine) or was interrupted; neither flagged nor passed',
          'targets: A/A ≤ 1 of 30 flagged; A/B decode (20% slower, ≥ 2 ms) flagged ≥ 29 of 30; A/B total p50 (~10% slower, ≥ 20 ms) flagged ≥ 27 of 30',
          ...examples.map((e) => `false alarm ${e}`),
        ],
      },
    ],
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

export interface AabCounts {
  aaFlagged: number;
  aaPairs: number;
  /** pairs whose outcome was "cannot compare" (a run that did not deliver its load, or was interrupted) */
  aaIncomparable: number;
  abIncomparable: number;
  abDecode: number;
  abTotalP50: number;
  abPairs: number;
}

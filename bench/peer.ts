/**
 * (f) budgetgate beside vegeta, the open-model peer: both as separate processes, in interleaved pairs
 * (vegeta, budgetgate, vegeta, budgetgate) per rate, against one arrival-logging loopback server
 * (arrivals-process.ts) in a third process. What is measured is what the server saw, whatever each
 * tool says of itself:
 *
 *   arrivals a_0 ≤ a_1 ≤ … (ms), ideal uniform schedule s_k = k · 1000 / R,
 *   l_k = a_k − s_k,  lateness_k = l_k − P1(l)   (aligned on its 1st percentile: the clocks and the
 *   start differ between tools, a constant offset says nothing about pacing),
 *   delivered = min(n, R · D) / (R · D).
 *
 * Before each rate's pairs an unmeasured 2 s budgetgate run warms the server. Reported per run and pooled per (rate, tool), with the ratios budgetgate ÷ vegeta of p99 and max
 * lateness: each pair's own (budgetgate run i ÷ vegeta run i), whose median is the target, and the pooled ones beside. vegeta is looked up at --vegeta, then ../shared/tools/vegeta, then on the PATH; absent,
 * the section says so and is skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median, pooled as pooledRuns, quantile } from './paced.js';
import { fmt, type Row, type Section } from './table.js';

export interface PeerOptions {
  rates: number[];
  durationMs: number;
  pairs: number;
  vegeta?: string;
  /** budgetgate's `--workers` (default 1) */
  workers?: number;
  /** another budgetgate checkout (built), run in every pair too: before/after figures in one run */
  baseline?: string;
}

/** The node flags bin/budgetgate.js's shebang gives the installed command (`#!/usr/bin/env -S node FLAGS`). */
export function binNodeFlags(): string[] {
  const first = readFileSync(join(ROOT, 'bin/budgetgate.js'), 'utf8').split('\n')[0] ?? '';
  return /^#!.*\bnode\s+(.+)$/.exec(first)?.[1]?.trim().split(/\s+/) ?? [];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
type Tool = 'vegeta' | 'baseline' | 'budgetgate' | 'node-floor';
const BODY = { model: 'peer', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] };

/** The vegeta binary to use, or undefined (with where it looked). */
export function findVegeta(explicit?: string): { path?: string; looked: string[] } {
  const looked = [explicit, join(ROOT, '../shared/tools/vegeta')].filter((p): p is string => p !== undefined);
  for (const p of looked) if (existsSync(p)) return { path: p, looked };
  const which = spawnSync('sh', ['-c', 'command -v vegeta'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return { path: which.stdout.trim(), looked };
  return { looked: [...looked, 'PATH'] };
}

/**
 * Each arrival's lateness against the ideal uniform schedule at `rate`, in schedule order (the k-th
 * arrival against k / rate), aligned on the 1st percentile (ms).
 */
function alignedLateness(arrivals: readonly number[], rate: number): Float64Array {
  const l = Float64Array.from(arrivals).sort().map((a, k) => a - (k * 1000) / rate);
  const offset = quantile(l.slice().sort(), 0.01);
  return l.map((x) => x - offset);
}

/** Lateness of arrivals against the ideal uniform schedule at `rate`, aligned on its 1st percentile (ms, ascending). */
export function arrivalLateness(arrivals: readonly number[], rate: number): Float64Array {
  return alignedLateness(arrivals, rate).sort();
}

/**
 * The same lateness split at `atMs` of the schedule: arrivals k < rate·atMs/1000 (the start: the
 * sender's code not yet compiled, its sockets new) and the rest, both ascending, on the alignment of
 * the whole run. Where a tool's p99 comes from, not a target.
 */
export function splitLateness(arrivals: readonly number[], rate: number, atMs: number): { start: Float64Array; rest: Float64Array } {
  const l = alignedLateness(arrivals, rate);
  const cut = Math.min(l.length, Math.round((rate * atMs) / 1000));
  return { start: l.slice(0, cut).sort(), rest: l.slice(cut).sort() };
}

/** where the start ends in splitLateness's rows */
const START_MS = 500;

interface ArrivalServer {
  url: string;
  reset(): Promise<void>;
  dump(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startArrivalServer(): Promise<ArrivalServer> {
  const script = fileURLToPath(new URL('./arrivals-process.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  const lines: Interface = createInterface({ input: child.stdout! });
  const next = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));
  const first = await next();
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
  if (!m?.[1]) throw new Error(`arrival server: unexpected first line ${JSON.stringify(first)}`);
  const ask = async (cmd: string): Promise<string> => {
    const reply = next();
    child.stdin!.write(`${cmd}\n`);
    return reply;
  };
  return {
    url: `${m[1]}/v1/chat/completions`,
    reset: async () => void (await ask('reset')),
    dump: async () => JSON.parse(await ask('dump')) as number[],
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

function runProcess(cmd: string, argv: string[], input?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
    child.stdin!.end(input ?? '');
  });
}

/** One tool's run at `rate` for the duration; resolves when the process has exited. */
export async function runTool(tool: Tool, vegeta: string, url: string, rate: number, durationMs: number, dir: string, workers = 1, baseline?: string): Promise<void> {
  const seconds = `${durationMs / 1000}s`;
  if (tool === 'vegeta') {
    const bodyFile = join(dir, 'body.json');
    writeFileSync(bodyFile, JSON.stringify(BODY));
    const r = await runProcess(vegeta, ['attack', `-rate=${rate}`, `-duration=${seconds}`, `-body=${bodyFile}`, '-header', 'content-type: application/json', '-max-workers', '2000', '-timeout', '10s'], `POST ${url}\n`);
    if (r.code !== 0) throw new Error(`vegeta exited ${r.code}: ${r.stderr}`);
    return;
  }
  if (tool === 'node-floor') {
    const script = fileURLToPath(new URL('./floor-process.ts', import.meta.url));
    const r = await runProcess(process.execPath, ['--import', 'tsx', script, url, String(rate), String(durationMs)]);
    if (r.code !== 0) throw new Error(`node floor exited ${r.code}: ${r.stderr}`);
    return;
  }
  const profile = join(dir, 'peer.json');
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'peer',
      target: { url, headers: { 'content-type': 'application/json' }, body: BODY, timeout: '10s' },
      timings: { serverTiming: false },
      maxRate: 20_000,
      maxInFlight: 2000,
      phases: [{ name: 'peer', duration: seconds, rate }],
      budgets: [{ errorRate: '100%' }],
    }),
  );
  const root = tool === 'baseline' && baseline ? baseline : ROOT;
  const cli = existsSync(join(root, 'dist/cli/main.js')) ? [join(root, 'bin/budgetgate.js')] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  // --skip-probe: the probe request would be one more arrival, before the schedule
  // run as the installed command runs (its shebang's node flags), with the bench's --peer-workers
  const r = await runProcess(process.execPath, [...binNodeFlags(), ...cli, 'run', profile, '--quiet', '--skip-probe', '--out', join(dir, 'report'), ...(workers > 1 ? ['--workers', String(workers)] : [])]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`budgetgate exited ${r.code}: ${r.stderr}`);
}

function statsRow(tool: string, rate: number, durationMs: number, late: Float64Array, n: number, { start, rest }: ReturnType<typeof splitLateness>): Row {
  const expected = Math.round((rate * durationMs) / 1000);
  return { rate, tool, arrived: n, delivered: Math.min(n, expected) / expected, p50: quantile(late, 0.5), p99: quantile(late, 0.99), max: quantile(late, 1), startP99: quantile(start, 0.99), restP99: quantile(rest, 0.99) };
}

/** Each pair's own ratios, budgetgate run i ÷ vegeta run i, of p99 and max lateness (runs ascending). */
export function pairRatios(budgetgate: readonly Float64Array[], vegeta: readonly Float64Array[]): { p99: number[]; max: number[] } {
  const n = Math.min(budgetgate.length, vegeta.length);
  const p99: number[] = [];
  const max: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = budgetgate[i] as Float64Array;
    const v = vegeta[i] as Float64Array;
    p99.push(quantile(b, 0.99) / quantile(v, 0.99));
    max.push(quantile(b, 1) / quantile(v, 1));
  }
  return { p99, max };
}

/** The baseline checkout's figures at one rate: its pooled p99, worst max and delivered share, and its pairs' median ratios to vegeta. */
function baselineRow(runs: readonly Float64Array[], vegeta: readonly Float64Array[], delivered: readonly number[]): Row {
  const pairs = pairRatios(runs, vegeta);
  const all = pooledRuns(runs);
  return {
    baselineP99: quantile(all, 0.99),
    baselineP99Ratio: median(pairs.p99),
    baselineMax: Math.max(...runs.map((x) => quantile(x, 1))),
    baselineMaxRatio: median(pairs.max),
    baselineDelivered: Math.min(...delivered),
  };
}

/** The peer section's rows: every run, then per rate the pooled figures of each tool and the ratios. */
export async function measurePeer(o: PeerOptions): Promise<{ sections: Section[]; ratios: Row[] } | { skipped: string }> {
  const found = findVegeta(o.vegeta);
  if (!found.path) return { skipped: `vegeta not found (looked at ${found.looked.join(', ')}): section (f) skipped` };
  const server = await startArrivalServer();
  const dir = mkdtempSync(join(tmpdir(), 'bg-peer-'));
  const runs: Row[] = [];
  const ratios: Row[] = [];
  try {
    for (const rate of o.rates) {
      // unmeasured: the server's own code is compiled before the first pair, so whichever tool goes
      // first does not pay for the server's warm-up. budgetgate warms it: vegeta's 2,000 workers open
      // hundreds of sockets at once, and right after another vegeta run at 10,000/s the server's
      // listen backlog overflowed (SYNs dropped and resent 1 s later: arrivals up to 3 s late)
      process.stderr.write(`  (f) ${rate}/s server warm-up (budgetgate, 2 s, not measured)…\n`);
      await runTool('budgetgate', found.path, server.url, rate, 2000, dir, o.workers ?? 1);
      const pooled: Record<string, Float64Array[]> = { vegeta: [], baseline: [], budgetgate: [], 'node-floor': [] };
      const delivered: Record<string, number[]> = { vegeta: [], baseline: [], budgetgate: [], 'node-floor': [] };
      const restPooled: Record<string, Float64Array[]> = { vegeta: [], baseline: [], budgetgate: [], 'node-floor': [] };
      const tools: Tool[] = o.baseline ? ['vegeta', 'node-floor', 'baseline', 'budgetgate'] : ['vegeta', 'node-floor', 'budgetgate'];
      for (let pair = 1; pair <= o.pairs; pair++) {
        for (const tool of tools) {
          process.stderr.write(`  (f) ${rate}/s ${tool} run ${pair}/${o.pairs}…\n`);
          await server.reset();
          await runTool(tool, found.path, server.url, rate, o.durationMs, dir, o.workers ?? 1, o.baseline);
          const arrivals = await server.dump();
          const late = arrivalLateness(arrivals, rate);
          const split = splitLateness(arrivals, rate, START_MS);
          const row = statsRow(tool, rate, o.durationMs, late, arrivals.length, split);
          restPooled[tool]?.push(split.rest);
          runs.push({ ...row, run: pair });
          pooled[tool]?.push(late);
          delivered[tool]?.push(row.delivered as number);
        }
      }
      const pool = (tool: string, from = pooled): Float64Array => Float64Array.from((from[tool] ?? []).flatMap((x) => Array.from(x))).sort();
      const v = pool('vegeta');
      const b = pool('budgetgate');
      const vMax = Math.max(...(pooled.vegeta ?? []).map((x) => quantile(x, 1)));
      const bMax = Math.max(...(pooled.budgetgate ?? []).map((x) => quantile(x, 1)));
      const baseline: Row = o.baseline ? baselineRow(pooled.baseline ?? [], pooled.vegeta ?? [], delivered.baseline ?? []) : {};
      const f = pool('node-floor');
      const fMax = Math.max(...(pooled['node-floor'] ?? []).map((x) => quantile(x, 1)));
      const perPair = pairRatios(pooled.budgetgate ?? [], pooled.vegeta ?? []);
      ratios.push({
        rate,
        p99Ratio: median(perPair.p99),
        maxRatio: median(perPair.max),
        p99PerPair: perPair.p99.map((x) => x.toFixed(2)).join(', '),
        maxPerPair: perPair.max.map((x) => x.toFixed(2)).join(', '),
        floorP99: quantile(f, 0.99),
        floorP99Ratio: quantile(f, 0.99) / quantile(v, 0.99),
        floorMax: fMax,
        floorMaxRatio: fMax / vMax,
        overFloorP99: quantile(b, 0.99) / quantile(f, 0.99),
        restP99Ratio: quantile(pool('budgetgate', restPooled), 0.99) / quantile(pool('vegeta', restPooled), 0.99),
        vegetaP99: quantile(v, 0.99),
        budgetgateP99: quantile(b, 0.99),
        p99RatioPooled: quantile(b, 0.99) / quantile(v, 0.99),
        vegetaMax: vMax,
        budgetgateMax: bMax,
        maxRatioWorst: bMax / vMax,
        vegetaDelivered: Math.min(...(delivered.vegeta ?? [])),
        budgetgateDelivered: Math.min(...(delivered.budgetgate ?? [])),
        ...baseline,
      });
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const share = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '—');
  return {
    ratios,
    sections: [
      {
        name: 'peer-runs',
        title: `(f) arrivals at one logging server, ${o.durationMs / 1000}s per run, interleaved vegeta / node floor / budgetgate runs; lateness = arrival − ideal uniform schedule, aligned on its 1st percentile`,
        columns: [
          { key: 'rate', label: 'rate' },
          { key: 'run', label: 'run' },
          { key: 'tool', label: 'tool' },
          { key: 'arrived', label: 'arrived' },
          { key: 'delivered', label: 'delivered', format: share },
          { key: 'p50', label: 'lateness p50', format: fmt.ms },
          { key: 'p99', label: 'p99', format: fmt.ms },
          { key: 'max', label: 'max', format: fmt.ms },
          { key: 'startP99', label: `p99 first ${START_MS} ms`, format: fmt.ms },
          { key: 'restP99', label: 'p99 after', format: fmt.ms },
        ],
        rows: runs,
      },
      {
        name: 'peer-ratios',
        title: '(f) budgetgate ÷ vegeta: the median of the pairs\' own ratios (the targets), and pooled over the pairs (p99 of all arrivals; max = the worst run\'s; delivered = the worst run\'s)',
        columns: [
          { key: 'rate', label: 'rate' },
          { key: 'p99Ratio', label: 'p99 ratio (median pair)', format: fmt.fixed(2) },
          { key: 'p99PerPair', label: 'p99 per pair' },
          { key: 'maxRatio', label: 'max ratio (median pair)', format: fmt.fixed(2) },
          { key: 'maxPerPair', label: 'max per pair' },
          { key: 'vegetaP99', label: 'vegeta p99', format: fmt.ms },
          { key: 'budgetgateP99', label: 'budgetgate p99', format: fmt.ms },
          { key: 'p99RatioPooled', label: 'p99 ratio pooled', format: fmt.fixed(2) },
          { key: 'vegetaMax', label: 'vegeta max', format: fmt.ms },
          { key: 'budgetgateMax', label: 'budgetgate max', format: fmt.ms },
          { key: 'maxRatioWorst', label: 'max ratio worst runs', format: fmt.fixed(2) },
          { key: 'vegetaDelivered', label: 'vegeta delivered', format: share },
          { key: 'budgetgateDelivered', label: 'budgetgate delivered', format: share },
          { key: 'floorP99Ratio', label: 'node floor p99 ÷ vegeta', format: fmt.fixed(2) },
          { key: 'floorMaxRatio', label: 'node floor max ÷ vegeta', format: fmt.fixed(2) },
          { key: 'overFloorP99', label: 'budgetgate p99 ÷ node floor', format: fmt.fixed(2) },
          { key: 'restP99Ratio', label: `p99 after ${START_MS} ms, budgetgate ÷ vegeta`, format: fmt.fixed(2) },
          ...(o.baseline
            ? [
                { key: 'baselineP99Ratio', label: 'baseline p99 ratio (median pair)', format: fmt.fixed(2) },
                { key: 'baselineMaxRatio', label: 'baseline max ratio (median pair)', format: fmt.fixed(2) },
                { key: 'baselineDelivered', label: 'baseline delivered', format: share },
              ]
            : []),
        ],
        rows: ratios,
        notes: [
          'the targets are the median of the pairs\' own ratios (pair i: budgetgate run i ÷ the vegeta run just before it), as (b)\'s: a max is one event, and one stall of the machine in one run (the node floor, which only sends, has had max ratios of 1.95 in a run) decided the worst-run ratio alone',
          'every tool runs as its own process (budgetgate: the CLI, one phase at the rate, maxRate raised to 20000 for the bench only)',
          `p99 first ${START_MS} ms / after: the same lateness (one alignment per run) of the arrivals the schedule put before and after ${START_MS} ms: where a tool's p99 comes from (the start: code not yet compiled, sockets new), not a target`,
          'node floor: bench/floor.ts\'s raw-socket sender (sockets opened before t = 0, nothing parsed or recorded): what any Node.js sender could do here, in every pair',
          ...(o.baseline ? [`baseline: the budgetgate checkout at ${o.baseline}, run in every pair beside this one (before/after in one run)`] : []),
        ],
      },
    ],
  };
}

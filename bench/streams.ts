/**
 * (g) Streamed itl and ttft beside a raw SSE reader, the floor this machine sets for reading streams.
 * One simulated endpoint in its own process streams TOKENS tokens per request, exactly d = 20 ms
 * apart after a 30 ms prefill (jitter 0), so every gap the server wrote is 20 ms and every first
 * token left 50 ms after service began (the sim has workers to spare: no queue):
 *
 *   itl error = measured itl − 20 ms,   ttft error = measured ttft − 50 ms   (p50 and p99)
 *
 * At concurrency C (C streams open at once, each a closed loop: a new request when one ends):
 *  - the raw reader: C keep-alive node:net sockets, one prebuilt request, and per received chunk a
 *    search for content events with a timestamp; no HTTP parser, no SSE parser, no histogram;
 *  - budgetgate: the CLI (as installed: its shebang's node flags), a closed phase of C users.
 * The first WARMUP_MS of each are not measured (C streams start at once). Ratios budgetgate ÷ raw of
 * the errors are what the targets judge. The two run in `pairs` interleaved pairs (raw, budgetgate,
 * raw, budgetgate) against the same sim, and each side's samples are pooled over its runs (the raw
 * reader's gaps in one list, budgetgate's histograms merged exactly): one run of each is one moment
 * of a shared machine, and a single stall of it moves a p99 of 1,000 streams by milliseconds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeHistogram, mergeHistograms, quantileMs, type Histogram } from '../src/core/histograms.js';
import type { RunResult } from '../src/core/report.js';
import type { SimOptions } from '../src/sim/index.js';
import { pooled, quantile } from './paced.js';
import { binNodeFlags } from './peer.js';
import { processCpuMs } from './proc.js';
import { spawnSim } from './sim-child.js';
import { fmt, type Row, type Section } from './table.js';

export const STREAM_SIM: SimOptions = { workers: 5000, prefillBaseMs: 30, prefillMsPerToken: 0, decodeMsPerToken: 20, jitter: 0, fallbackOff: true };
const TOKENS = 100;
export const ITL_MS = 20;
export const TTFT_MS = 50;
const WARMUP_MS = 3000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BODY = { model: 'sim', max_tokens: TOKENS, stream: true, messages: [{ role: 'user', content: 'hi' }] };
/** a content token's event (the opening role chunk has `"delta":{"role"…` instead) */
const CONTENT = '"delta":{"content":';
const END = '\r\n\r\n';

export interface StreamsOptions {
  concurrencies: number[];
  durationMs: number;
  /** budgetgate's --workers (default 1) */
  workers?: number;
  /** interleaved (raw, budgetgate) pairs per concurrency, pooled (default 2) */
  pairs?: number;
}

interface Measured {
  itl: Float64Array;
  ttft: Float64Array;
  requests: number;
  /** CPU µs of the reader per event received in the measured window */
  cpuUsPerEvent: number;
}

/**
 * CPU time per event over the measured window [WARMUP_MS, WARMUP_MS + duration) of a reader: `cpuMs`
 * read at both ends, divided by the events its measured requests received (ttft and itl samples).
 * CPU time, unlike wall time, hardly depends on what else the machine runs.
 */
function windowCpu(cpuMs: () => number | undefined, durationMs: number): { stop(): void; perEvent(events: number): number } {
  let at0: number | undefined;
  let at1: number | undefined;
  const t0 = setTimeout(() => (at0 = cpuMs()), WARMUP_MS);
  const t1 = setTimeout(() => (at1 = cpuMs()), WARMUP_MS + durationMs);
  return {
    stop() {
      clearTimeout(t0);
      clearTimeout(t1);
    },
    perEvent: (events) => (at0 !== undefined && at1 !== undefined && events > 0 ? ((at1 - at0) * 1000) / events : Number.NaN),
  };
}

/** C sockets, each a closed loop of streamed requests, for warmup + duration. */
export function rawReader(url: string, concurrency: number, durationMs: number): Promise<Measured> {
  const u = new URL(url);
  const body = JSON.stringify(BODY);
  const request = Buffer.from(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const itl: number[] = [];
  const ttft: number[] = [];
  let requests = 0;
  const cpu = windowCpu(() => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  }, durationMs);
  const t0 = performance.now();
  const measureFrom = t0 + WARMUP_MS;
  const endAt = measureFrom + durationMs;
  return new Promise((resolve, reject) => {
    let open = concurrency;
    const one = (): void => {
      const socket: Socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
      let sentAt = 0;
      let last = Number.NaN;
      let carry = '';
      let done = false;
      const send = (): void => {
        sentAt = performance.now();
        last = Number.NaN;
        carry = '';
        done = false;
        socket.write(request);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        const t = performance.now();
        const s = carry + chunk.toString('latin1');
        const measured = sentAt >= measureFrom && sentAt < endAt;
        for (let i = s.indexOf(CONTENT); i >= 0; i = s.indexOf(CONTENT, i + CONTENT.length)) {
          if (measured) (Number.isNaN(last) ? ttft : itl).push(Number.isNaN(last) ? t - sentAt : t - last);
          last = t;
        }
        if (!done && s.includes('[DONE]')) done = true;
        carry = s.slice(-(CONTENT.length - 1));
        if (done && s.endsWith(END)) {
          if (measured) requests++;
          if (performance.now() < endAt) send();
          else socket.end();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (--open === 0) {
          cpu.stop();
          resolve({ itl: Float64Array.from(itl).sort(), ttft: Float64Array.from(ttft).sort(), requests, cpuUsPerEvent: cpu.perEvent(itl.length + ttft.length) });
        }
      });
    };
    for (let c = 0; c < concurrency; c++) one();
  });
}

/** budgetgate's CLI with C closed-model users streaming; its report's itl/ttft of the measured phase. */
async function budgetgateStreams(url: string, concurrency: number, durationMs: number, workers: number): Promise<{ itl: Histogram | undefined; ttft: Histogram | undefined; requests: number; cpuUsPerEvent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-streams-'));
  try {
    const profile = join(dir, 'streams.json');
    writeFileSync(
      profile,
      JSON.stringify({
        name: 'streams',
        target: { url, headers: { 'content-type': 'application/json' }, body: BODY, stream: true, timeout: '30s' },
        maxInFlight: concurrency,
        phases: [
          { name: 'warm', duration: `${WARMUP_MS / 1000}s`, concurrency, warmup: true },
          { name: 'streams', duration: `${durationMs / 1000}s`, concurrency },
        ],
        budgets: [{ errorRate: '100%' }],
      }),
    );
    const cli = [...binNodeFlags(), join(ROOT, 'bin/budgetgate.js')];
    const out = join(dir, 'report');
    let cpu: ReturnType<typeof windowCpu> | undefined;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...cli, 'run', profile, '--quiet', '--skip-probe', '--out', out, ...(workers > 1 ? ['--workers', String(workers)] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
      // the CLI's phases start a moment after spawning (loading, parsing): the window starts a little early, which adds startup CPU to budgetgate, never removes its own
      cpu = windowCpu(() => processCpuMs(child.pid), durationMs);
      child.once('error', reject);
      child.once('exit', resolve);
    });
    cpu?.stop();
    if (code !== 0 && code !== 1) throw new Error(`budgetgate exited ${code}`);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult;
    const pick = (stage: string): Histogram | undefined => {
      const series = r.series.find((s) => s.stage === stage && s.phase === 'streams' && s.path === 'primary');
      return series?.hdr ? decodeHistogram(series.hdr, series.max) : undefined;
    };
    const itl = pick('itl');
    const ttft = pick('ttft');
    const events = (itl?.totalCount ?? 0) + (ttft?.totalCount ?? 0);
    return { itl, ttft, requests: r.phases.find((p) => p.name === 'streams')?.completed ?? 0, cpuUsPerEvent: cpu?.perEvent(events) ?? Number.NaN };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const err = (v: number, nominal: number): number => (Number.isFinite(v) ? v - nominal : Number.NaN);

/** one histogram of all runs' values (exact merge); NaN quantiles when a run had none */
function pooledHist(runs: readonly (Histogram | undefined)[]): (q: number) => number {
  if (runs.length === 0 || runs.some((h) => h === undefined)) return () => Number.NaN;
  const h = mergeHistograms(runs as Histogram[]);
  return (q) => quantileMs(h, q);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** |budgetgate error| ÷ max(|raw error|, 0.05 ms): the floor of a ratio when the raw error is ~0 */
const errRatio = (bg: number, raw: number): number => Math.abs(bg) / Math.max(Math.abs(raw), 0.05);

/** The section's rows (raw, budgetgate, ratio per concurrency). Needs dist/ (npm run build). */
export async function measureStreams(o: StreamsOptions): Promise<{ section: Section; ratios: Row[] }> {
  const sim = await spawnSim(STREAM_SIM);
  const url = `${sim.url}/v1/chat/completions`;
  const pairs = o.pairs ?? 2;
  const rows: Row[] = [];
  const ratios: Row[] = [];
  try {
    for (const c of o.concurrencies) {
      const raws: Measured[] = [];
      const bgs: Awaited<ReturnType<typeof budgetgateStreams>>[] = [];
      for (let p = 1; p <= pairs; p++) {
        process.stderr.write(`  (g) ${c} streams, pair ${p}/${pairs}: raw reader…\n`);
        raws.push(await rawReader(url, c, o.durationMs));
        process.stderr.write(`  (g) ${c} streams, pair ${p}/${pairs}: budgetgate…\n`);
        bgs.push(await budgetgateStreams(url, c, o.durationMs, o.workers ?? 1));
      }
      const rawItl = pooled(raws.map((r) => r.itl));
      const rawTtft = pooled(raws.map((r) => r.ttft));
      const rawRow: Row = {
        streams: c,
        reader: 'raw',
        requests: raws.reduce((n, r) => n + r.requests, 0),
        itlP50: quantile(rawItl, 0.5) - ITL_MS,
        itlP99: quantile(rawItl, 0.99) - ITL_MS,
        ttftP50: quantile(rawTtft, 0.5) - TTFT_MS,
        ttftP99: quantile(rawTtft, 0.99) - TTFT_MS,
        cpuPerEvent: mean(raws.map((r) => r.cpuUsPerEvent)),
      };
      const bgItl = pooledHist(bgs.map((b) => b.itl));
      const bgTtft = pooledHist(bgs.map((b) => b.ttft));
      const bgRow: Row = {
        streams: c,
        reader: (o.workers ?? 1) > 1 ? `budgetgate ×${o.workers} workers` : 'budgetgate',
        requests: bgs.reduce((n, b) => n + b.requests, 0),
        itlP50: err(bgItl(0.5), ITL_MS),
        itlP99: err(bgItl(0.99), ITL_MS),
        ttftP50: err(bgTtft(0.5), TTFT_MS),
        ttftP99: err(bgTtft(0.99), TTFT_MS),
        cpuPerEvent: mean(bgs.map((b) => b.cpuUsPerEvent)),
      };
      rows.push(rawRow, bgRow);
      const ratio = (k: string): number => errRatio(bgRow[k] as number, rawRow[k] as number);
      // each pair's own itl p99 ratio, beside the pooled one: how much one pair alone would have moved it
      const perPair = raws.map((r, i) => errRatio(err(pooledHist([bgs[i]?.itl])(0.99), ITL_MS), quantile(r.itl, 0.99) - ITL_MS));
      ratios.push({ streams: c, itlP50: ratio('itlP50'), itlP99: ratio('itlP99'), ttftP50: ratio('ttftP50'), ttftP99: ratio('ttftP99'), cpuPerEvent: (bgRow.cpuPerEvent as number) / (rawRow.cpuPerEvent as number), itlP99PerPair: perPair.map((x) => x.toFixed(2)).join(', ') });
    }
  } finally {
    await sim.stop();
  }
  const ms = { format: fmt.ms };
  return {
    section: {
      name: 'streams-floor',
      title: `(g) streamed itl/ttft error (measured − the server's exact ${ITL_MS} ms / ${TTFT_MS} ms), budgetgate beside a raw SSE reader, ${TOKENS}-token streams, ${pairs} interleaved pairs per concurrency, pooled`,
      columns: [
        { key: 'streams', label: 'streams' },
        { key: 'reader', label: 'reader' },
        { key: 'requests', label: 'requests' },
        { key: 'itlP50', label: 'itl p50 err', ...ms },
        { key: 'itlP99', label: 'itl p99 err', ...ms },
        { key: 'ttftP50', label: 'ttft p50 err', ...ms },
        { key: 'ttftP99', label: 'ttft p99 err', ...ms },
        { key: 'cpuPerEvent', label: 'cpu/event', format: (v) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(2)}µs` : '—') },
      ],
      rows,
      notes: [`ratios (|budgetgate error| ÷ max(|raw error|, 0.05 ms)): ${ratios.map((r) => `${r.streams} streams itl p50 ${(r.itlP50 as number).toFixed(2)}, p99 ${(r.itlP99 as number).toFixed(2)}, ttft p50 ${(r.ttftP50 as number).toFixed(2)}, p99 ${(r.ttftP99 as number).toFixed(2)}, cpu/event ${(r.cpuPerEvent as number).toFixed(2)} (itl p99 per pair: ${String(r.itlP99PerPair)})`).join('; ')}`,
        'requests: over all pairs; errors: of every sample of every run of that reader, pooled (the raw reader\'s gaps in one list, budgetgate\'s histograms merged); cpu/event: the mean of the runs\'',
        'cpu/event: CPU time of the reader\'s process over the measured window ÷ the events its measured requests received (load-independent, unlike the errors)',
      ],
    },
    ratios,
  };
}

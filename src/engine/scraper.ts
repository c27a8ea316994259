/**
 * Scrapes each `metrics:` source on its own timer, from just before the run's first request to just
 * after its last response, and hands every result to the core's ServerMetricsRecorder.
 *
 * Never on the sender's path: the driver does not wait for, call or share anything with this. Per
 * source at most one scrape is in flight (a tick that finds one still running is recorded as
 * skipped); each scrape has its own deadline (`timeout`), a size limit, and a fresh connection
 * (`Connection: close`), so a hanging, slow, garbage-spewing or dead endpoint costs a socket and a
 * timer, never a delay to sends. The body is filtered chunk by chunk as it arrives (core/prom-text.ts),
 * so no single step of parsing blocks the event loop for long.
 */
import http from 'node:http';
import https from 'node:https';
import { presetSpec } from '../core/metric-presets.js';
import { keptMetrics, type MetricSource } from '../core/profile/metrics.js';
import { ExpositionFilter, parseKept, type KeepRule, type ParseResult } from '../core/prom-text.js';
import type { ServerMetricsRecorder } from '../core/server-metrics.js';
import { formatDuration } from '../core/units.js';
import type { Budget } from '../core/profile-types.js';

/** A /metrics body larger than this is refused (vLLM's is ~100 KB). */
export const MAX_SCRAPE_BYTES = 8 << 20;

export function keepRule(source: MetricSource, budgets: readonly Budget[]): KeepRule {
  const kept = keptMetrics(source, budgets);
  return {
    wanted: (name) => kept.has(name) || presetSpec(source.preset, name) !== undefined,
    combine: (name) => presetSpec(source.preset, name)?.combine ?? 'sum',
    kindOf: (name) => presetSpec(source.preset, name)?.kind,
  };
}

/** One GET of a metrics URL, bounded in time and size; never rejects. */
export function scrapeOnce(url: string, timeoutMs: number, rule: KeepRule, maxBytes = MAX_SCRAPE_BYTES): Promise<ParseResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ParseResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(r);
    };
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { agent: false, headers: { accept: 'text/plain; version=0.0.4, */*;q=0.1', connection: 'close' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        done({ ok: false, error: `HTTP ${res.statusCode ?? '?'}` });
        return;
      }
      const filter = new ExpositionFilter(rule);
      let bytes = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        bytes += Buffer.byteLength(chunk);
        if (bytes > maxBytes) done({ ok: false, error: `response larger than ${maxBytes >> 20} MiB` });
        else filter.push(chunk);
      });
      res.on('end', () => done(parseKept(filter, rule)));
      res.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    const deadline = setTimeout(() => done({ ok: false, error: `timeout after ${formatDuration(timeoutMs)}` }), timeoutMs);
  });
}

export interface Scraper {
  /** one scrape of every source, awaited: the counters' baseline before the first request */
  baseline(): Promise<void>;
  /** start the timers */
  begin(): void;
  /** stop the timers, let scrapes in flight end, then take one last scrape of every source */
  finish(): Promise<void>;
  /** stop the timers only (the run failed before it finished) */
  stop(): void;
}

export const SKIPPED = 'skipped: the previous scrape was still in flight';

export function createScraper(sources: readonly MetricSource[], budgets: readonly Budget[], recorder: ServerMetricsRecorder, now: () => number): Scraper {
  const rules = sources.map((s) => keepRule(s, budgets));
  const inFlight: (Promise<void> | undefined)[] = sources.map(() => undefined);
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const scrape = (i: number): Promise<void> => {
    const s = sources[i] as MetricSource;
    if (inFlight[i]) {
      recorder.failed(i, now(), SKIPPED);
      return inFlight[i] as Promise<void>;
    }
    const p = scrapeOnce(s.url, s.timeoutMs, rules[i] as KeepRule).then((r) => {
      inFlight[i] = undefined;
      if (r.ok) recorder.scraped(i, now(), r.metrics);
      else recorder.failed(i, now(), r.error);
    });
    inFlight[i] = p;
    return p;
  };

  return {
    baseline: () => Promise.all(sources.map((_, i) => scrape(i))).then(() => undefined),
    begin() {
      sources.forEach((s, i) => {
        const start = now();
        let n = 1;
        const tick = (): void => {
          if (stopped) return;
          void scrape(i);
          // the next multiple of the interval still ahead: after a stall the missed ticks are dropped
          // rather than fired back to back into a scrape that is still running
          n = Math.max(n + 1, Math.floor((now() - start) / s.intervalMs) + 1);
          const t = setTimeout(tick, Math.max(0, start + n * s.intervalMs - now()));
          t.unref();
          timers[i] = t;
        };
        const t = setTimeout(tick, s.intervalMs);
        t.unref();
        timers[i] = t;
      });
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
    async finish() {
      this.stop();
      await Promise.all(inFlight.filter((p): p is Promise<void> => p !== undefined));
      await Promise.all(sources.map((_, i) => scrape(i)));
    },
  };
}

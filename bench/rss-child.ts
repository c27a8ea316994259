/**
 * One budgetgate run in its own process, for peak-RSS measurement: an open constant-rate phase with
 * uniform arrivals against `--url` (a sim the bench started), a real Recorder and TimingExtractor,
 * exactly as a real run records. At the end it prints one JSON line: peak RSS
 * (process.resourceUsage().maxRSS), RSS sampled every 5 s, heap after a forced GC (when run with
 * --expose-gc), and what was sent, so a driver that fell behind (and queued) is visible.
 *
 *   node --expose-gc --import tsx bench/rss-child.ts --duration 300s --rate 1000 --url http://127.0.0.1:PORT
 */
import { Recorder } from '../src/core/recorder.js';
import { arrivals, planSchedule } from '../src/core/schedule.js';
import { compileTimings } from '../src/core/timing.js';
import { parseDuration } from '../src/core/units.js';
import { drive } from '../src/engine/driver.js';

const BODY = JSON.stringify({ model: 'sim', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`rss-child: ${name} is required`);
  return v;
}

const durationMs = parseDuration(arg('--duration'));
const rate = Number(arg('--rate'));
const url = arg('--url');
if (durationMs === undefined || !(durationMs > 0) || !(rate > 0)) throw new Error('rss-child: --duration and --rate must be positive');
const timeoutMs = 10_000;

// bounded whatever happens: the run, the drain, and a margin
setTimeout(() => {
  process.stderr.write('rss-child: hard deadline passed, exiting\n');
  process.exit(2);
}, durationMs + timeoutMs + 30_000).unref();

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const rssStart = process.memoryUsage.rss();
const samples: number[] = [];
const sampler = setInterval(() => samples.push(mb(process.memoryUsage.rss())), 5000);

const plan = planSchedule([{ name: 'steady', durationMs, model: 'open', rate, to: rate, concurrency: 0, concurrencyTo: 0, warmup: false }]);
const recorder = new Recorder(plan.phases);
const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined, []);
const cpu0 = process.cpuUsage();
const outcome = await drive({
  url: `${url}/v1/chat/completions`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: BODY,
  timeoutMs,
  maxInFlight: 1000,
  plan,
  arrivals: arrivals(plan, 'uniform', 1),
  recorder,
  extractor,
  clock: () => performance.now(),
});
clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);
const rep = recorder.report();
const ph = rep.phases[0]!;
const rssEnd = process.memoryUsage.rss();
const gc = (globalThis as { gc?: () => void }).gc;
let heapAfterGcMb: number | null = null;
if (gc) {
  gc();
  heapAfterGcMb = mb(process.memoryUsage().heapUsed);
}
process.stdout.write(
  `${JSON.stringify({
    durationMs,
    rate,
    maxRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10, // maxRSS is in KiB
    rssStartMb: mb(rssStart),
    rssEndMb: mb(rssEnd),
    heapAfterGcMb,
    rssSamplesMb: samples,
    scheduled: ph.scheduled,
    sent: ph.sent,
    completed: ph.completed,
    errors: ph.errors,
    late: ph.late,
    latenessP99: rep.lateness.p99,
    driveMs: outcome.durationMs,
    driverCpu: (cpu.user + cpu.system) / 1000 / outcome.durationMs,
  })}\n`,
);
process.exit(0);

/**
 * Closed-loop throughput, bare autocannon vs budgetgate, against the same sim (separate process):
 *
 * - bareAutocannon: autocannon's own default mode, N connections, no rate, for D.
 * - budgetgateClosed: drive() with one closed phase of concurrency N for D, a real Recorder and a
 *   real TimingExtractor (Server-Timing parsing and histogram recording on every response).
 *
 * Both run in this (the bench's) process; each also reports its CPU per completed request and the
 * sim's CPU share, so a sim-bound figure shows as such.
 */
import autocannon from 'autocannon';
import { Recorder } from '../src/core/recorder.js';
import { arrivals, planSchedule } from '../src/core/schedule.js';
import { compileTimings } from '../src/core/timing.js';
import { drive } from '../src/engine/driver.js';
import { cpuMeter } from './proc.js';
import type { Row } from './table.js';

export interface ClosedOptions {
  url: string;
  body: string;
  connections: number;
  durationMs: number;
  timeoutMs: number;
  simPid: number | undefined;
}

const PATH = '/v1/chat/completions';
const HEADERS = { 'content-type': 'application/json' };

export function bareAutocannon(o: ClosedOptions): Promise<Row> {
  return new Promise((resolve, reject) => {
    const cpu = cpuMeter(o.simPid);
    autocannon(
      {
        url: `${o.url}${PATH}`,
        method: 'POST',
        headers: HEADERS,
        body: o.body,
        connections: o.connections,
        pipelining: 1,
        duration: o.durationMs / 1000,
        timeout: o.timeoutMs / 1000,
      },
      (err, r) => {
        if (err) return reject(err);
        const c = cpu();
        const ok = r['2xx'];
        const seconds = r.duration > 0 ? r.duration : o.durationMs / 1000;
        resolve({
          tool: 'autocannon',
          completed: ok,
          seconds,
          throughput: ok / seconds,
          errors: r.errors + r.timeouts + r.non2xx,
          latencyP50: r.latency.p50,
          latencyP99: r.latency.p99,
          driverCpu: c.selfCpu,
          cpuUsPerReq: ok > 0 ? (c.selfCpuMs * 1000) / ok : null,
          simCpu: c.otherCpu,
        });
      },
    );
  });
}

export async function budgetgateClosed(o: ClosedOptions): Promise<Row> {
  const plan = planSchedule([
    { name: 'closed', durationMs: o.durationMs, model: 'closed', rate: 0, to: 0, concurrency: o.connections, concurrencyTo: o.connections, warmup: false },
  ]);
  const recorder = new Recorder(plan.phases);
  const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined, []);
  const cpu = cpuMeter(o.simPid);
  await drive({
    url: `${o.url}${PATH}`,
    method: 'POST',
    headers: HEADERS,
    body: o.body,
    timeoutMs: o.timeoutMs,
    maxInFlight: o.connections,
    plan,
    arrivals: arrivals(plan, 'uniform', 1),
    recorder,
    extractor,
    clock: () => performance.now(),
  });
  const c = cpu();
  const rep = recorder.report();
  // completions inside [0, D): the drain of the last requests in flight after the phase is not counted
  const seconds = o.durationMs / 1000;
  let ok = 0;
  for (const p of rep.timeline) if (p.t < o.durationMs) ok += p.completed;
  const total = rep.series.find((s) => s.stage === 'total');
  const stages = [...new Set(rep.series.map((s) => s.stage))].join(',');
  return {
    tool: 'budgetgate',
    completed: ok,
    seconds,
    throughput: ok / seconds,
    errors: rep.totals.errors,
    latencyP50: total?.p50 ?? null,
    latencyP99: total?.p99 ?? null,
    driverCpu: c.selfCpu,
    cpuUsPerReq: ok > 0 ? (c.selfCpuMs * 1000) / rep.totals.completed : null,
    simCpu: c.otherCpu,
    stages,
  };
}

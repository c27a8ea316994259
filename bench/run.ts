/**
 * `npm run bench`: speed figures measured side by side in ONE run (shared, noisy machines: compare
 * the ratios within a run, not absolute numbers across runs). Load goes only to a simulated endpoint
 * this script starts on 127.0.0.1 in a separate process, bounded in time, and stops at the end.
 *
 *   npm run bench                      # 10 s constant phase per rate
 *   npm run bench -- --duration 5s     # shorter
 *   npm run bench -- --quick           # 3 s per rate, smoke test
 *   npm run bench -- --rates 200,2000,4000
 *
 * Results: a table per section on stdout, and bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../src/core/units.js';
import { spawnSim, type SimChild } from './sim-child.js';
import { measurePaced } from './paced.js';
import { fmt, renderSection, type Section } from './table.js';

interface Args {
  durationMs: number;
  warmupMs: number;
  rates: number[];
  out: string;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    durationMs: 10_000,
    warmupMs: 1_000,
    rates: [200, 2000],
    out: fileURLToPath(new URL('./results/latest.json', import.meta.url)),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--quick') {
      a.durationMs = 3_000;
      a.warmupMs = 500;
    } else if (k === '--duration') {
      const ms = parseDuration(v());
      if (ms === undefined || ms < 1000) throw new Error('--duration: a duration of at least 1s, e.g. 5s');
      a.durationMs = ms;
    } else if (k === '--rates') {
      a.rates = v().split(',').map(Number);
      if (a.rates.some((r) => !(r > 0 && r <= 20_000))) throw new Error('--rates: comma-separated numbers in (0, 20000]');
    } else if (k === '--out') {
      a.out = v();
    } else {
      throw new Error(`unknown argument ${k} (use --duration 5s, --quick, --rates 200,2000, --out file)`);
    }
  }
  return a;
}

// A sim that is never the bottleneck: effectively unlimited workers, ~1 ms service, no fallback.
const SIM = { workers: 2000, prefillBaseMs: 1, prefillMsPerToken: 0, decodeMsPerToken: 0, jitter: 0, fallbackOff: true };
const BODY = JSON.stringify({ model: 'sim', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  const header = `budgetgate bench (node ${process.version}, ${cores} cores) — paced open-model driver vs schedule, sim in a separate process`;
  process.stdout.write(`${header}\n`);

  const sections: Section[] = [];
  let sim: SimChild | undefined;
  const onSignal = (): void => {
    void (sim?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sim = await spawnSim(SIM);
    const rows = [];
    for (const rate of args.rates) {
      process.stderr.write(`  ${rate}/s for ${args.durationMs / 1000}s (+${args.warmupMs / 1000}s warmup)…\n`);
      rows.push(await measurePaced({ url: sim.url, rate, durationMs: args.durationMs, warmupMs: args.warmupMs, body: BODY, maxInFlight: 1000, timeoutMs: 10_000 }));
    }
    sections.push({
      name: 'paced-driver',
      title: `paced driver, uniform arrivals, ${args.durationMs / 1000}s constant phase per rate (after ${args.warmupMs / 1000}s warmup)`,
      columns: [
        { key: 'rate', label: 'rate', format: (v) => `${v}/s` },
        { key: 'achieved', label: 'achieved', format: fmt.rate },
        { key: 'achievedRatio', label: 'achieved/target', format: fmt.fixed(3) },
        { key: 'latenessP50', label: 'lateness p50', format: fmt.ms },
        { key: 'latenessP99', label: 'p99', format: fmt.ms },
        { key: 'latenessMax', label: 'max', format: fmt.ms },
        { key: 'worstSecond', label: 'worst second', format: fmt.pct },
        { key: 'burstRatio', label: 'burst100ms/nominal', format: (v, r) => `${fmt.fixed(2)(v)} (${r.burst100ms})` },
        { key: 'late', label: 'late', format: (v) => String(v) },
        { key: 'errors', label: 'errors', format: (v) => String(v) },
        { key: 'totalP50', label: 'total p50', format: fmt.ms },
        { key: 'totalP99', label: 'total p99', format: fmt.ms },
        { key: 'driverCpu', label: 'driver cpu', format: (v) => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : '—') },
        { key: 'loopDelayP99', label: 'loop delay p99', format: fmt.ms },
        { key: 'loopDelayMax', label: 'max', format: fmt.ms },
      ],
      rows,
      notes: [
        'achieved = sends of the phase whose actual time falls inside the phase window / phase duration',
        'lateness = actual send − intended send (exact, per request); worst second = max |sent − scheduled| / scheduled over whole seconds',
        'burst = most sends in any sliding 100 ms window / (rate × 0.1); late = sent > 10 ms after intended (or queued for a connection)',
        'total = client-measured latency from the intended time: small totals mean the sim was not the bottleneck',
        'driver cpu = driver process CPU / wall time (100% = one core); loop delay = driver event-loop delay (monitorEventLoopDelay, 5 ms resolution)',
      ],
    });
  } finally {
    await sim?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  for (const s of sections) process.stdout.write(`\n${renderSection(s)}\n`);

  const results = {
    schema: 'budgetgate/bench@1',
    header,
    node: process.version,
    cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    platform: `${process.platform}-${process.arch}`,
    startedAt: new Date().toISOString(),
    args,
    sim: SIM,
    sections: sections.map(({ name, title, rows }) => ({ name, title, rows })),
  };
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nwrote ${args.out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});

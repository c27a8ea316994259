/**
 * `budgetgate capacity PROFILE`: the highest steady open-model rate at which every budget holds.
 * A warm-up, then steps whose rates the search in core/capacity.ts chooses (double until a budget
 * breaks, then bisect geometrically), each a single non-warmup phase long enough for its percentile
 * budgets to be conclusive, with a cool-down between steps; then a confirmation step at the answer.
 * The profile's phases are ignored; its target, timings, fallback rules, goodput limits and budgets
 * are used (budgets' `phase:` scopes are dropped with a warning, since those phases are not run).
 */
import { renderSummary, runSummary, type WrittenFiles } from '../report/json-summary.js';
import { jsonIo } from './report-commands.js';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  FLOOR_RPS,
  STEP_FLOOR_MS,
  brokenBy,
  capacityBudgets,
  cooldownMs,
  createSearch,
  stepDuration,
  stepPhase,
  MIN_PRECISION,
} from '../core/capacity.js';
import { BudgetgateError } from '../core/errors.js';
import { decodeHistogram, mergeHistograms, quantileMs, countOf } from '../core/histograms.js';
import type { Budget, Profile } from '../core/profile-types.js';
import { serializeReport, type CapacityReport, type CapacityStep, type RunResult } from '../core/report.js';
import { parseDuration, parsePercent } from '../core/units.js';
import { runEngine } from '../engine/run.js';
import { observedText, limitText } from '../report/format.js';
import { rateText, renderCapacity } from '../report/capacity.js';
import { EXIT } from './exit-codes.js';
import { defaultOutDir, loadProfile, writeAtomic } from './files.js';
import { emitReportOutputs, parseFormats } from './outputs.js';
import type { Io } from './run-command.js';
import { resolveTarget } from './target.js';
import { onInterrupt } from './signals.js';
import { VERSION } from '../version.js';


/** Every budget held but the implicit load-delivered one. */
function onlyLoadUndelivered(r: RunResult): boolean {
  const broken = r.budgets.filter((v) => v.status !== 'pass');
  return broken.length === 1 && broken[0]?.id === 'load delivered';
}

export interface CapacityFlags {
  from?: number;
  to?: number;
  /** "5%" or a fraction "0.05" */
  precision?: string;
  require?: number;
  target?: string;
  out?: string;
  format?: string;
  quiet?: boolean;
  allowInconclusive?: boolean;
  skipProbe?: boolean;
  /** print one JSON summary on stdout; the step table goes to stderr */
  json?: boolean;
  /** hidden: the step-length floor (default 5s) */
  minStep?: string;
  /** hidden: the cool-down floor (default 2s) */
  cooldown?: string;
  /** hidden: warm-up length (default 5s; 0s skips it) */
  warmup?: string;
}

/** the profile's safety cap on rates (profile-types: Profile.maxRate, default 5,000 req/s) */
const DEFAULT_MAX_RATE = 5000;
const DEFAULT_COOLDOWN_MS = 2000;
const DEFAULT_WARMUP_MS = 5000;

function durationFlag(v: string | undefined, what: string, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined || ms < 0) throw new BudgetgateError('usage', `${what}: expected a duration like 5s or 500ms, got ${JSON.stringify(v)}`);
  return ms;
}

export function parsePrecision(v: string | undefined): number {
  if (v === undefined) return 0.05;
  const p = v.trim().endsWith('%') ? parsePercent(v) : Number(v);
  if (p === undefined || !Number.isFinite(p) || p < MIN_PRECISION || p >= 1) {
    throw new BudgetgateError('usage', `--precision: expected a percentage from ${MIN_PRECISION * 100}% to below 100% (like 5%), got ${JSON.stringify(v)}`);
  }
  return p;
}

/** The default first rate: the highest rate the profile's own open phases schedule, else 10 req/s. */
export function defaultFrom(profile: Profile): number {
  const rates = profile.phases.filter((p) => p.model === 'open' && !p.warmup).flatMap((p) => [p.rate, p.to]);
  const top = Math.max(0, ...rates);
  return top > 0 ? top : 10;
}

/** p99 of each stage in the step, over both paths (ms) */
function stageP99(r: RunResult, phase: string): Record<string, number | null> {
  const byStage = new Map<string, ReturnType<typeof decodeHistogram>[]>();
  for (const s of r.series) {
    if (s.phase !== phase) continue;
    const list = byStage.get(s.stage) ?? [];
    list.push(decodeHistogram(s.hdr, s.max));
    byStage.set(s.stage, list);
  }
  const out: Record<string, number | null> = {};
  for (const [stage, hs] of byStage) {
    const h = mergeHistograms(hs);
    out[stage] = countOf(h) > 0 ? quantileMs(h, 0.99) : null;
  }
  return out;
}

function toStep(r: RunResult, rate: number, durationMs: number, confirmation: boolean): CapacityStep {
  const phase = r.phases.find((p) => !p.warmup);
  const name = phase?.name ?? '';
  const finished = (phase?.completed ?? 0) + (phase?.errors ?? 0);
  return {
    rate,
    // sent over the scheduled length: how much of the offered load actually left
    achieved: phase !== undefined ? phase.sent / (durationMs / 1000) : 0,
    durationMs,
    held: r.verdict === 'pass',
    ...(confirmation ? { confirmation: true } : {}),
    verdicts: r.budgets,
    p99: stageP99(r, name),
    ...(phase?.good !== undefined ? { goodput: finished > 0 ? phase.good / finished : null } : {}),
  };
}

/** resolves after ms, or at once when the signal fires */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function capacityCommand(profilePath: string, flags: CapacityFlags, rawIo: Io): Promise<number> {
  const io = jsonIo(rawIo, flags.json);
  const profile = await loadProfile(profilePath, io.env);
  // every flag that can be wrong is checked before any load is sent
  const formats = parseFormats(flags.format).filter((f) => f !== 'json');
  const maxRate = Number.isFinite(profile.maxRate) && profile.maxRate > 0 ? profile.maxRate : DEFAULT_MAX_RATE;
  const to = flags.to ?? maxRate;
  if (to > maxRate) throw new BudgetgateError('usage', `--to ${to} is above the profile's maxRate (${maxRate} req/s): raise maxRate in the profile to search higher`);
  const from = Math.min(flags.from ?? defaultFrom(profile), to);
  if (!(from > 0)) throw new BudgetgateError('usage', `--from: expected a rate above 0, got ${from}`);
  const precision = parsePrecision(flags.precision);
  const minStepMs = durationFlag(flags.minStep, '--min-step', STEP_FLOOR_MS);
  const coolFloorMs = durationFlag(flags.cooldown, '--cooldown', DEFAULT_COOLDOWN_MS);
  const warmupMs = durationFlag(flags.warmup, '--warmup', DEFAULT_WARMUP_MS);
  const allowInconclusive = flags.allowInconclusive === true;
  const { budgets, stripped } = capacityBudgets(profile.budgets);
  if (budgets.length === 0) throw new BudgetgateError('usage', `${profilePath}: capacity needs at least one budget to search against`);
  if (stripped.length > 0) {
    io.stderr(`warning: capacity runs its own steps, not the profile's phases: the phase scope of ${stripped.join(', ')} is ignored (each step is judged whole)\n`);
  }
  const search = createSearch({ from, to, precision, floor: Math.min(FLOOR_RPS, from) });

  const { url, sim } = await resolveTarget(flags.target, profile, io);

  const say = (s: string): void => {
    if (flags.quiet !== true) io.stderr(`${s}\n`);
  };
  const interrupt = onInterrupt((m) => io.stderr(`${m}\n`));
  const startedAt = new Date();
  const steps: CapacityStep[] = [];
  let last: RunResult | undefined;
  let confirmation: RunResult | undefined;
  let confirmed = false;
  let interrupted = false;
  /** how the search itself ended, before the confirmation (whose failure only lowers the answer) */
  let searched: ReturnType<typeof search.result>['outcome'] = 'searching';
  const engine = (p: Profile, probe: boolean): Promise<RunResult> =>
    runEngine(p, {
      url,
      version: VERSION,
      allowInconclusive,
      signal: interrupt.soft,
      hardSignal: interrupt.hard,
      skipProbe: !probe || flags.skipProbe === true,
      wallClock: () => new Date(),
    });
  const step = async (rate: number, isConfirmation: boolean): Promise<CapacityStep | undefined> => {
    const durationMs = stepDuration(budgets, rate, { floorMs: minStepMs });
    say(`${isConfirmation ? 'confirm' : `step ${steps.length + 1}`}: ${rateText(rate)} req/s for ${(durationMs / 1000).toFixed(1)}s`);
    let r = await engine({ ...profile, budgets, phases: [stepPhase(rate, durationMs)] }, steps.length === 0 && warmupMs === 0);
    if (!r.interrupted && onlyLoadUndelivered(r)) {
      // Late sends alone may be the load generator's own lag (a busy client), not the server's limit:
      // run the step once more; a second miss counts (at maxInFlight the server is the cause).
      say('  only "load delivered" broke: the client may have lagged; running the step once more');
      await pause(coolFloorMs, interrupt.soft);
      r = await engine({ ...profile, budgets, phases: [stepPhase(rate, durationMs)] }, false);
    }
    if (r.interrupted) {
      interrupted = true;
      return undefined;
    }
    const s = toStep(r, rate, durationMs, isConfirmation);
    steps.push(s);
    last = r;
    if (isConfirmation) confirmation = r;
    const why = s.held ? undefined : brokenBy(s.verdicts, budgets, allowInconclusive);
    say(`  ${s.held ? 'held' : 'BROKEN'} (achieved ${rateText(s.achieved)} req/s)${why !== undefined ? `: ${why.id} ${observedText(why)} vs limit ${limitText(why)}${why.status === 'inconclusive' ? ' (inconclusive)' : ''}` : ''}`);
    const cool = cooldownMs(s.p99.total ?? null, coolFloorMs);
    await pause(cool, interrupt.soft);
    return s;
  };

  try {
    if (warmupMs > 0) {
      // half the first rate: warms connections and the server's caches without itself building a queue
      const rate = from / 2;
      say(`warm-up: ${rateText(rate)} req/s for ${(warmupMs / 1000).toFixed(1)}s (not judged)`);
      const warm = { ...stepPhase(rate, warmupMs), name: 'warmup', warmup: true };
      const w = await engine({ ...profile, budgets: [], phases: [warm] }, true);
      if (w.interrupted) interrupted = true;
      else await pause(coolFloorMs, interrupt.soft);
    }
    for (let rate = search.next(); rate !== undefined && !interrupted; rate = search.next()) {
      const s = await step(rate, false);
      if (s !== undefined) search.report(rate, s.held);
    }
    const found = search.result();
    searched = found.outcome;
    if (!interrupted && found.rps > 0) {
      const s = await step(found.rps, true);
      if (s !== undefined) {
        confirmed = s.held;
        // a failed confirmation is one more observation: the answer drops to the held rate below it
        if (!s.held) search.report(found.rps, false);
      }
    }
  } finally {
    interrupt.dispose();
    await sim?.close();
  }

  const base = confirmation ?? last;
  if (base === undefined) {
    io.stderr('budgetgate: interrupted before any step finished; no report written\n');
    return EXIT.interrupted;
  }
  const result = search.result();
  const capacity: CapacityReport = {
    rps: result.rps,
    firstBroken: firstBroken(steps, result.hi, budgets, allowInconclusive),
    steps,
    confirmed,
    outcome: interrupted || searched === 'searching' ? 'interrupted' : searched,
    precision,
    from,
    to,
    ...(flags.require !== undefined ? { require: flags.require } : {}),
  };
  const report: RunResult = { ...base, startedAt: startedAt.toISOString(), capacity };
  io.stdout(renderCapacity(capacity, { color: io.color }));
  const outDir = flags.out ?? defaultOutDir(`${profile.name}-capacity`, startedAt);
  const reportPath = join(outDir, 'report.json');
  const files: WrittenFiles = {};
  const done = (code: number): number => {
    if (flags.json === true) rawIo.stdout(renderSummary(runSummary('capacity', report, code, files)));
    return code;
  };
  try {
    await writeAtomic(reportPath, serializeReport(report));
    files.json = reportPath;
    io.stderr(`report: ${reportPath}\n`);
    Object.assign(files, await emitReportOutputs(report, outDir, formats, { allowInconclusive, strict: false }, io));
  } catch (e) {
    io.stderr(`budgetgate: ${(e as Error).message}\n`);
    return done(EXIT.reportWrite);
  }
  if (interrupted) return done(EXIT.interrupted);
  if (flags.require !== undefined) return done(capacity.rps >= flags.require ? EXIT.pass : EXIT.fail);
  return done(EXIT.pass);
}

/** the budget that broke at the lowest broken rate (the latest such step: a failed confirmation counts) */
function firstBroken(steps: readonly CapacityStep[], hi: number | null, budgets: readonly Budget[], allowInconclusive: boolean): CapacityReport['firstBroken'] {
  if (hi === null) return null;
  const at = [...steps].reverse().find((s) => s.rate === hi && !s.held);
  const v = at === undefined ? undefined : brokenBy(at.verdicts, budgets, allowInconclusive);
  if (v === undefined) return null;
  return { id: v.id, description: v.description, observed: v.observed, limit: v.limit, unit: v.unit, rate: hi };
}

function rateArg(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what}: expected a rate in req/s above 0, got ${v}`);
    return n;
  };
}

/** Adds `capacity` to the program (main.ts calls this once). */
export function registerCapacityCommand(p: Command, io: Io): void {
  p.command('capacity')
    .description('find the highest steady rate at which every budget holds (warm-up, growing then bisecting steps, a confirmation)')
    .argument('<profile>', 'profile file (YAML or JSON); its phases are ignored, its target, timings and budgets used')
    .option('--from <rate>', 'first rate tried, req/s (default: the profile\'s highest phase rate)', rateArg('--from'))
    .option('--to <rate>', 'highest rate tried, req/s (default: the profile\'s maxRate)', rateArg('--to'))
    .option('--precision <pct>', 'stop when the bracket [held, broke] is this narrow: hi/lo − 1 ≤ precision', '5%')
    .option('--require <rate>', 'CI gate: exit 1 unless the capacity found is at least this, req/s', rateArg('--require'))
    .option('-t, --target <url>', 'target URL (overrides target.url; default: the embedded simulated endpoint)')
    .option('-o, --out <dir>', 'report folder (default: reports/<profile>-capacity-<UTC time>/)')
    .option('-f, --format <list>', 'extra report formats beside report.json, comma-separated: junit, md, html')
    .option('--allow-inconclusive', 'a step whose budgets are inconclusive counts as held (default: as broken)')
    .option('-q, --quiet', 'no per-step progress lines')
    .option('--json', 'print one JSON object (capacity, verdict, budgets, files written) on stdout; the step table goes to stderr')
    .addOption(new Option('--min-step <duration>', 'shortest step (default 5s)').hideHelp())
    .addOption(new Option('--cooldown <duration>', 'shortest pause between steps (default 2s)').hideHelp())
    .addOption(new Option('--warmup <duration>', 'warm-up length (default 5s, 0s for none)').hideHelp())
    .addOption(new Option('--skip-probe', 'send no probe request first').hideHelp())
    .addHelpText('after', '\nExamples:\n  $ budgetgate capacity profiles/capacity.yaml\n  $ budgetgate capacity profile.yaml --from 50 --precision 10% --require 120 --target http://127.0.0.1:8000/v1/chat/completions\n\nExit codes: 0 done (with --require: capacity ≥ R), 1 capacity below --require, 2 usage or profile error,\n3 target unreachable, 4 report not written, 130 interrupted.')
    .action(async (profile: string, flags: CapacityFlags) => {
      process.exitCode = await capacityCommand(profile, flags, io);
    });
}

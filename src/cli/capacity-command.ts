/**
 * `budgetgate capacity PROFILE`: flags → the API's capacity search (src/api.ts, which runs the
 * steps), its progress and result → lines, report files and the exit code.
 */
import { renderSummary, runSummary, type WrittenFiles } from '../report/json-summary.js';
import { jsonIo } from './report-commands.js';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { capacity, type CapacityEvent } from '../api.js';
import { MIN_PRECISION, STEP_FLOOR_MS } from '../core/capacity.js';
import { BudgetgateError } from '../core/errors.js';
import { serializeReport } from '../core/report.js';
import { parseDuration, parsePercent } from '../core/units.js';
import { observedText, limitText } from '../report/format.js';
import { rateText, renderCapacity } from '../report/capacity.js';
import { EXIT } from './exit-codes.js';
import { defaultOutDir, loadProfile, writeAtomic } from './files.js';
import type { Io } from './io.js';
import { emitReportOutputs, parseFormats } from './outputs.js';
import { onInterrupt } from './signals.js';
import { checkTargetUrl } from './target.js';

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

/** One progress line per event, as the search goes. */
export function eventLine(e: CapacityEvent): string {
  switch (e.kind) {
    case 'unscoped':
      return `warning: capacity runs its own steps, not the profile's phases: the phase scope of ${e.ids.join(', ')} is ignored (each step is judged whole)`;
    case 'warmup':
      return `warm-up: ${rateText(e.rate)} req/s for ${(e.durationMs / 1000).toFixed(1)}s (not judged)`;
    case 'step':
      return `${e.confirmation ? 'confirm' : `step ${e.index}`}: ${rateText(e.rate)} req/s for ${(e.durationMs / 1000).toFixed(1)}s`;
    case 'retry':
      return '  only "load delivered" broke: the client may have lagged; running the step once more';
    case 'result': {
      const s = e.step;
      const why = e.brokenBy;
      return `  ${s.held ? 'held' : 'BROKEN'} (achieved ${rateText(s.achieved)} req/s)${why !== undefined ? `: ${why.id} ${observedText(why)} vs limit ${limitText(why)}${why.status === 'inconclusive' ? ' (inconclusive)' : ''}` : ''}`;
    }
  }
}

export async function capacityCommand(profilePath: string, flags: CapacityFlags, rawIo: Io): Promise<number> {
  const io = jsonIo(rawIo, flags.json);
  const profile = await loadProfile(profilePath, io.env);
  // every flag that can be wrong is checked before any load is sent (the API checks from/to/budgets)
  const formats = parseFormats(flags.format).filter((f) => f !== 'json');
  const precision = parsePrecision(flags.precision);
  const minStepMs = durationFlag(flags.minStep, '--min-step', STEP_FLOOR_MS);
  const cooldownMs = durationFlag(flags.cooldown, '--cooldown', 2000);
  const warmupMs = durationFlag(flags.warmup, '--warmup', 5000);
  const target = flags.target !== undefined ? checkTargetUrl(flags.target, '--target') : undefined;
  const allowInconclusive = flags.allowInconclusive === true;
  const interrupt = onInterrupt((m) => io.stderr(`${m}\n`));
  const startedAt = new Date();
  let outcome: Awaited<ReturnType<typeof capacity>>;
  try {
    outcome = await capacity(profile, {
      ...(target !== undefined ? { target } : {}),
      onSim: (url) => io.stderr(`no target: using the embedded simulated endpoint at ${url}\n`),
      ...(flags.from !== undefined ? { from: flags.from } : {}),
      ...(flags.to !== undefined ? { to: flags.to } : {}),
      ...(flags.require !== undefined ? { require: flags.require } : {}),
      source: profilePath,
      precision,
      minStepMs,
      cooldownMs,
      warmupMs,
      allowInconclusive,
      skipProbe: flags.skipProbe === true,
      signal: interrupt.soft,
      hardSignal: interrupt.hard,
      onEvent: (e) => {
        if (e.kind === 'unscoped') io.stderr(`${eventLine(e)}\n`);
        else if (flags.quiet !== true) io.stderr(`${eventLine(e)}\n`);
      },
    });
  } finally {
    interrupt.dispose();
  }

  const { report, capacity: cap, interrupted } = outcome;
  if (report === undefined) {
    io.stderr('budgetgate: interrupted before any step finished; no report written\n');
    return EXIT.interrupted;
  }
  io.stdout(renderCapacity(cap, { color: io.color }));
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
  if (flags.require !== undefined) return done(cap.rps >= flags.require ? EXIT.pass : EXIT.fail);
  return done(EXIT.pass);
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

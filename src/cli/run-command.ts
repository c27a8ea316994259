/** `budgetgate run PROFILE`: the whole path from a profile file to an exit code. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BudgetgateError } from '../core/errors.js';
import type { Profile } from '../core/profile-types.js';
import { createRedactor, redactDeep, referencedVariables, secretValues } from '../core/redact.js';
import { planSchedule } from '../core/schedule.js';
import { renderPlan } from '../report/plan.js';
import { serializeReport, type RunResult } from '../core/report.js';
import type { Tick } from '../core/tick.js';
import { run } from '../api.js';
import { renderProgress } from '../report/progress.js';
import { renderTerminal } from '../report/terminal.js';
import { EXIT, exitCodeForComparison } from './exit-codes.js';
import type { Io } from './io.js';
import { loadConversations, loadDataset } from '../dataset.js';
import { defaultOutDir, loadProfile, readText, writeAtomic } from './files.js';
import { onInterrupt } from './signals.js';
import { checkTargetUrl } from './target.js';
import { emitReportOutputs, parseFormats } from './outputs.js';
import { compareAndPrint, loadBaseline } from './report-commands.js';
import { parseShard } from '../core/shard.js';
import { parseDuration } from '../core/units.js';
import { renderSummary, runSummary, SUMMARY_SCHEMA, type WrittenFiles } from '../report/json-summary.js';
import { loadOneLine, ONE_LINE_SOURCE, type OneLine } from './oneline.js';

export interface RunFlags {
  quiet?: boolean;
  target?: string;
  out?: string;
  allowInconclusive?: boolean;
  skipProbe?: boolean;
  /** extra formats beside report.json: "junit,md,html" */
  format?: string;
  /** saved reports or folders of them to compare with at the end (repeatable); a regression fails the run */
  baseline?: string[];
  /** a borderline pass fails the run */
  strict?: boolean;
  /** https: skip certificate verification in the probe (autocannon never verifies) */
  insecure?: boolean;
  /** https: PEM file of the certificates to trust in the probe instead of the system CAs */
  ca?: string;
  /** header or environment variable names whose values are hidden as *** everywhere (repeatable) */
  redact?: string[];
  /** print the plan and send nothing */
  dryRun?: boolean;
  /** phase hooks may run programs and call addresses other than the target */
  allowHooks?: boolean;
  /** "I/N" or "auto/N" (I from $JOB_COMPLETION_INDEX): send only this shard's requests */
  shard?: string;
  /** ISO time to begin at (shards started apart share t = 0) */
  startAt?: string;
  /** a duration ("30s") to begin after: --start-at computed from now */
  startIn?: string;
  /** how often to write report.json while running ("60s"; "0" disables) */
  checkpoint?: string;
  /** sender threads: "auto" or a whole number (default 1: this thread) */
  workers?: string;
  /** print one JSON summary on stdout and everything else on stderr */
  json?: boolean;
}

/** --workers: "auto" or a whole number; the range is checked where the count is resolved (engine/workers.ts). */
export function parseWorkers(text: string | undefined): number | 'auto' | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'auto') return 'auto';
  if (!/^\d+$/.test(t)) throw new BudgetgateError('usage', `--workers: expected auto or a whole number, got ${JSON.stringify(text)}`);
  return Number(t);
}

/**
 * --start-at / --start-in → ms since the epoch, or undefined to start at once. A time already past
 * starts at once with a warning (a shard scheduled late still belongs to the run: its timeline is
 * aligned to the nearest second by merge). Both flags together, or an unreadable time, is a usage error.
 */
export function resolveStartAt(flags: Pick<RunFlags, 'startAt' | 'startIn'>, nowMs: number, warn: (m: string) => void): number | undefined {
  if (flags.startAt !== undefined && flags.startIn !== undefined) throw new BudgetgateError('usage', '--start-at and --start-in: give one, not both');
  let at: number | undefined;
  if (flags.startAt !== undefined) {
    // an ISO date-time with its zone (Z or ±hh:mm): a zone-less time would be read in each machine's own zone
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(flags.startAt.trim()) || Number.isNaN(Date.parse(flags.startAt))) {
      throw new BudgetgateError('usage', `--start-at: expected an ISO time with a zone like 2026-05-01T12:00:00Z, got ${JSON.stringify(flags.startAt)}`);
    }
    at = Date.parse(flags.startAt);
  } else if (flags.startIn !== undefined) {
    const ms = parseDuration(flags.startIn);
    if (ms === undefined || ms < 0) throw new BudgetgateError('usage', `--start-in: expected a duration like 30s, got ${JSON.stringify(flags.startIn)}`);
    at = nowMs + ms;
  }
  if (at !== undefined && at < nowMs) {
    warn(`--start-at ${new Date(at).toISOString()} is ${((nowMs - at) / 1000).toFixed(1)} s in the past: starting now`);
    return undefined;
  }
  return at;
}

/** --checkpoint: a duration, or "0" to disable; default 60 s */
export function checkpointMs(text: string | undefined): number {
  if (text === undefined) return 60_000;
  if (text.trim() === '0') return 0;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) throw new BudgetgateError('usage', `--checkpoint: expected a duration like 60s (or 0 to disable), got ${JSON.stringify(text)}`);
  // a checkpoint re-encodes every histogram: more often than once a second costs more than it keeps
  if (ms > 0 && ms < 1000) throw new BudgetgateError('usage', `--checkpoint: at least 1s (or 0 to disable), got ${JSON.stringify(text)}`);
  return ms;
}



/** Every second on a terminal (one line rewritten in place), every 5 s in logs, never with --quiet. */
function progressPrinter(io: Io, quiet: boolean): { tick: (t: Tick) => void; clear: () => void } {
  let shown = false;
  return {
    tick(t) {
      if (quiet) return;
      if (io.tty) {
        io.stderr(`\r\x1b[K${renderProgress(t)}`);
        shown = true;
      } else if (Math.round(t.tMs / 1000) % 5 === 0) io.stderr(`${renderProgress(t)}\n`);
    },
    clear() {
      if (shown) io.stderr('\r\x1b[K');
      shown = false;
    },
  };
}

/**
 * Secrets are hidden from everything the run prints, writes or throws. Before the profile is parsed
 * only `--redact` variables and `${VAR}` values are known: the loader substitutes variables without
 * telling which, so the raw text is scanned for `${NAME}` and NAME looked up here, as the loader
 * would. Once the profile is loaded its credential headers and the target URL's tokens join them.
 */
export async function runCommand(profilePath: string | OneLine, flags: RunFlags, rawIo: Io): Promise<number> {
  const raw = typeof profilePath === 'string' ? await readText(profilePath, 'profile').catch(() => '') : JSON.stringify(profilePath.raw);
  const envUsed = referencedVariables(raw).flatMap((n) => (rawIo.env[n] !== undefined ? [rawIo.env[n] as string] : []));
  const extra = { names: flags.redact ?? [], env: (n: string) => rawIo.env[n] };
  let redactor = createRedactor(secretValues({}, envUsed, extra));
  const redact = (s: string): string => redactor(s);
  const learn = (profile: Profile, url: string): void => {
    redactor = createRedactor(secretValues(profile.target.headers, envUsed, { ...extra, urls: [url, profile.target.url ?? ''] }));
  };
  const io: Io = { ...rawIo, stdout: (s) => rawIo.stdout(redact(s)), stderr: (s) => rawIo.stderr(redact(s)) };
  try {
    return await runLoaded(profilePath, flags, io, learn, redact);
  } catch (e) {
    if (e instanceof Error) {
      e.message = redact(e.message);
      if (e.stack !== undefined) e.stack = redact(e.stack);
    }
    throw e;
  }
}

async function readCa(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new BudgetgateError('usage', `--ca ${path}: cannot read the certificate file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function runLoaded(source: string | OneLine, flags: RunFlags, io: Io, learn: (p: Profile, url: string) => void, redact: (s: string) => string): Promise<number> {
  const profile = typeof source === 'string' ? await loadProfile(source, io.env) : loadOneLine(source, (n) => io.env[n]);
  const profilePath = typeof source === 'string' ? source : ONE_LINE_SOURCE;
  // --json: stdout carries the summary alone; tables, plans and annotations go to stderr
  const jsonOut = flags.json === true ? io.stdout : undefined;
  if (jsonOut) io = { ...io, stdout: io.stderr };
  const promptItems = await loadDataset(profile, typeof source === 'string' ? dirname(source) : '.', profilePath); // relative to the profile file
  const conversations = await loadConversations(profile, typeof source === 'string' ? dirname(source) : '.', profilePath); // bad lines: exit 2, nothing sent
  learn(profile, flags.target ?? profile.target.url ?? '');
  // the rate cap (maxRate) was checked by the profile parser: nothing is sent, dry run or not
  const plan = planSchedule(profile.phases);
  const ca = await readCa(flags.ca);
  // flags that can be wrong are checked before any load is sent
  const formats = parseFormats(flags.format).filter((f) => f !== 'json');
  const baseline = await loadBaseline(flags.baseline);
  const shard = flags.shard !== undefined ? parseShard(flags.shard, io.env.JOB_COMPLETION_INDEX) : undefined;
  const startAt = resolveStartAt(flags, Date.now(), (m) => io.stderr(`warning: ${m}\n`));
  const everyMs = checkpointMs(flags.checkpoint);
  const workers = parseWorkers(flags.workers);
  if (flags.dryRun === true) {
    const shown = flags.target !== undefined ? checkTargetUrl(flags.target, '--target') : (profile.target.url ?? '(embedded simulated endpoint)');
    io.stdout(renderPlan(profile, plan, shown));
    io.stdout('dry run: nothing sent\n');
    jsonOut?.(renderSummary({ schema: SUMMARY_SCHEMA, command: 'run', dryRun: true, verdict: null, exitCode: EXIT.pass, profile: profile.name, target: shown, scheduled: plan.requests }));
    return EXIT.pass;
  }
  const target = flags.target !== undefined ? checkTargetUrl(flags.target, '--target') : undefined;

  const progress = progressPrinter(io, flags.quiet === true);
  const interrupt = onInterrupt((m) => {
    progress.clear();
    io.stderr(`${m}\n`);
  });
  const startedAt = new Date();
  // checkpoint writes are chained so they never overlap, and awaited before the final report so a
  // late one cannot overwrite it
  let checkpoints = Promise.resolve();
  const onCheckpoint = (partial: RunResult): void => {
    const path = join(flags.out ?? defaultOutDir(profile.name, startedAt), 'report.json');
    checkpoints = checkpoints
      .then(() => writeAtomic(path, serializeReport(redactDeep(partial, redact, new Set(['hdr'])))))
      .catch((e: unknown) => io.stderr(`budgetgate: checkpoint: ${(e as Error).message}\n`));
  };
  if (startAt !== undefined) io.stderr(`waiting until ${new Date(startAt).toISOString()} to start${shard ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
  let result: RunResult;
  try {
    if (interrupt.soft.aborted) throw new BudgetgateError('interrupted', 'interrupted before the run started');
    result = await run(profile, {
      ...(target !== undefined ? { target } : {}),
      onSim: (url) => io.stderr(`no target: using the embedded simulated endpoint at ${url}\n`),
      tls: { insecure: flags.insecure === true, ...(ca !== undefined ? { ca } : {}) },
      skipProbe: flags.skipProbe === true,
      allowInconclusive: flags.allowInconclusive === true,
      allowHooks: flags.allowHooks === true,
      strict: flags.strict === true,
      signal: interrupt.soft,
      hardSignal: interrupt.hard,
      redact,
      wallClock: () => startedAt,
      onTick: progress.tick,
      ...(promptItems !== undefined ? { prompts: promptItems } : {}),
      ...(conversations !== undefined ? { conversations } : {}),
      baseDir: dirname(profilePath),
      ...(shard ? { shard } : {}),
      ...(startAt !== undefined ? { startAt } : {}),
      onCheckpoint,
      checkpointMs: everyMs,
      ...(workers !== undefined ? { workers } : {}),
    });
  } finally {
    await checkpoints;
    progress.clear();
    interrupt.dispose();
  }

  // every format is rendered from this copy; encoded histograms (base64) are left intact
  result = redactDeep(result, redact, new Set(['hdr']));
  const policy = { allowInconclusive: flags.allowInconclusive === true, strict: flags.strict === true };
  io.stdout(renderTerminal(result, { color: io.color, policy }));
  const outDir = flags.out ?? defaultOutDir(profile.name, startedAt);
  const reportPath = join(outDir, 'report.json');
  const files: WrittenFiles = {};
  const done = (code: number): number => {
    jsonOut?.(renderSummary(runSummary('run', result, code, files)));
    return code;
  };
  try {
    await writeAtomic(reportPath, serializeReport(result));
    files.json = reportPath;
    io.stderr(`report: ${reportPath}\n`);
    Object.assign(files, await emitReportOutputs(result, outDir, formats, policy, io));
  } catch (e) {
    io.stderr(`budgetgate: ${(e as Error).message}\n`);
    return done(EXIT.reportWrite);
  }
  // no baseline yet (the first night) judges on budgets alone; cannot-compare is its own exit code
  const outcome = baseline === undefined ? undefined : await compareAndPrint(baseline, result, (flags.baseline ?? []).join(' or '), { markdown: false }, io);
  if (outcome?.reason !== undefined) io.stderr(`note: ${outcome.reason}${outcome.outcome === 'no-baseline' ? ' (judged on budgets only)' : ''}\n`);
  if (result.interrupted) return done(EXIT.interrupted);
  if (result.verdict !== 'pass' || outcome?.outcome === 'regression') return done(EXIT.fail);
  return done(outcome?.outcome === 'incomparable' ? exitCodeForComparison('incomparable') : EXIT.pass);
}

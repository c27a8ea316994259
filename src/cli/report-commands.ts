/** `budgetgate report`, `check` and `compare`: everything that works on saved reports, sending nothing. */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { policyOf, reevaluate } from '../core/verdict.js';
import { COMPARE_KEYS, DEFAULT_ALPHA, DEFAULT_MIN_CHANGE_MS, DEFAULT_RUN_NOISE, DEFAULT_TOLERANCE, compareRuns, parseTolerance, type CompareKey, type CompareOptions, type Comparison } from '../core/compare.js';
import { parseDuration } from '../core/units.js';
import { BudgetgateError } from '../core/errors.js';
import { parseReport, type RunResult } from '../core/report.js';
import { renderCompareTerminal } from '../report/compare.js';
import { renderCompareMarkdown } from '../report/markdown.js';
import { renderTerminal } from '../report/terminal.js';
import { EXIT, exitCodeForComparison } from './exit-codes.js';
import { loadProfile, readText } from './files.js';
import { FORMATS, emitCompareOutputs, emitReportOutputs, parseFormats } from './outputs.js';
import type { Io } from './io.js';
import { compareSummary, renderSummary, runSummary } from '../report/json-summary.js';

/** --json: what would go to stdout goes to stderr, leaving stdout to the one JSON object */
export function jsonIo(io: Io, json: boolean | undefined): Io {
  return json === true ? { ...io, stdout: io.stderr } : io;
}

export async function loadReport(path: string): Promise<RunResult> {
  return parseReport(await readText(path, 'report'), path);
}

/** Reports written before per-window histograms are judged with the i.i.d. interval: say so. */
function noteWithoutWindows(reports: readonly { path: string; r: RunResult }[], io: Io): void {
  const old = reports.filter(({ r }) => r.series.some((s) => s.count > 0 && s.windows === undefined)).map((x) => x.path);
  if (old.length > 0) io.stderr(`note: ${old.join(', ')}: no per-window histograms (written by an older budgetgate): intervals assume independent requests (order statistics)\n`);
}

/** a plain Error from the hdr decoder becomes a report error naming the file(s) */
function decoding<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BudgetgateError) throw e;
    throw new BudgetgateError('report', `${what}: cannot decode a histogram (${(e as Error).message})`);
  }
}

async function decodingAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof BudgetgateError) throw e;
    throw new BudgetgateError('report', `${what}: cannot decode a histogram (${(e as Error).message})`);
  }
}

function tolerance(what: string) {
  return (v: string): number => {
    const t = parseTolerance(v);
    if (t === null) throw new InvalidArgumentError(`${what}: expected a percentage like 10%, got ${v}`);
    return t;
  };
}

function minChange(v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms < 0) throw new InvalidArgumentError(`--min-change: expected a duration like 1ms or 0.5ms, got ${v}`);
  return ms;
}

function alpha(v: string): number {
  const a = parseTolerance(v);
  if (a === null || !(a > 0 && a < 0.5)) throw new InvalidArgumentError(`--alpha: expected a percentage in (0%, 50%) like 1%, got ${v}`);
  return a;
}

export interface CompareFlags extends Partial<CompareOptions> {
  markdown?: boolean;
}

export interface Baselines {
  reports: RunResult[];
  /** the file each report came from */
  paths: string[];
  /** paths given that held no report (absent, or a folder without any): "no baseline yet" */
  missing: string[];
}

/**
 * Baselines from files or folders: a folder contributes every *.json in it and every report.json one
 * level down (a folder of downloaded artifacts). A folder that does not exist yet, or holds no
 * report, is "no baseline yet" rather than an error: the first night of a nightly has none. A named
 * .json file must exist and be a report (exit 2 otherwise): a typo must not pass as "no baseline".
 */
export async function loadBaselines(paths: readonly string[]): Promise<Baselines> {
  const reports: RunResult[] = [];
  const files: string[] = [];
  const missing: string[] = [];
  const add = async (f: string): Promise<void> => {
    reports.push(await loadReport(f));
    files.push(f);
  };
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (st === undefined && p.toLowerCase().endsWith('.json')) await loadReport(p); // throws: cannot read report
    if (st === undefined) {
      missing.push(p);
      continue;
    }
    if (!st.isDirectory()) {
      await add(p);
      continue;
    }
    const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    const inside: string[] = [];
    for (const e of entries) {
      if (e.isFile() && e.name.endsWith('.json')) inside.push(join(p, e.name));
      else if (e.isDirectory() && (await stat(join(p, e.name, 'report.json')).catch(() => undefined))?.isFile()) inside.push(join(p, e.name, 'report.json'));
    }
    if (inside.length === 0) missing.push(p);
    for (const f of inside) await add(f);
  }
  return { reports, paths: files, missing };
}

/** Compares, prints (terminal or Markdown), annotates; the caller maps the outcome to an exit code. */
export async function compareAndPrint(baselines: Baselines, current: RunResult, what: string, f: CompareFlags, io: Io): Promise<Comparison> {
  const { markdown, ...options } = f;
  for (const m of baselines.missing) io.stderr(`note: ${m}: no baseline report there yet\n`);
  const c = decoding(what, () => compareRuns(baselines.reports, current, { ...options, tolerance: options.tolerance ?? DEFAULT_TOLERANCE }));
  io.stdout(markdown === true ? renderCompareMarkdown(c) : renderCompareTerminal(c, { color: io.color }));
  await emitCompareOutputs(c, markdown === true, io);
  return c;
}

export function registerReportCommands(program: Command, io: Io): void {
  program
    .command('report')
    .description('re-render a saved report in other formats (json, junit, md, html); sends nothing')
    .argument('<report>', 'a report.json written by run')
    .requiredOption('-f, --format <list>', `comma-separated: ${FORMATS.join(', ')}`)
    .option('-o, --out <dir>', 'folder to write into (default: the report\'s own folder)')
    .option('--allow-inconclusive', 'JUnit: report inconclusive budgets as skipped, not failed (default: as the run decided)')
    .option('--strict', 'JUnit and annotations: a borderline pass counts as a failure (default: as the run decided)')
    .addHelpText('after', '\nExample:\n  $ budgetgate report reports/gate/report.json --format junit,md,html')
    .action(async (path: string, flags: { format: string; out?: string; allowInconclusive?: boolean; strict?: boolean }) => {
      const formats = parseFormats(flags.format);
      if (formats.length === 0) throw new BudgetgateError('usage', '--format: name at least one format');
      const r = await loadReport(path);
      // judged as the report was (the options that reproduce its verdict) unless a flag says otherwise
      const policy = policyOf(r, { ...(flags.allowInconclusive !== undefined ? { allowInconclusive: flags.allowInconclusive } : {}), ...(flags.strict === true ? { strict: true } : {}) });
      await decodingAsync(path, () => emitReportOutputs(r, flags.out ?? dirname(path), formats, { allowInconclusive: policy.allowInconclusive, strict: policy.strict === true }, io));
      process.exitCode = EXIT.pass;
    });

  program
    .command('check')
    .description('re-evaluate a saved report against a profile\'s budgets, offline from its histograms; sends nothing')
    .argument('<report>', 'a report.json written by run')
    .requiredOption('-p, --profile <file>', 'profile whose budgets to evaluate (YAML or JSON)')
    .option('--allow-inconclusive', 'an inconclusive budget (too few samples) does not fail')
    .option('--strict', 'a borderline pass (its 95% interval contains the limit) fails')
    .option('-o, --out <dir>', 'also write the re-evaluated report there (report.json and any --format)')
    .option('-f, --format <list>', `with --out: more formats, comma-separated: ${FORMATS.join(', ')}`)
    .addHelpText('after', '\nExample:\n  $ budgetgate check reports/gate/report.json --profile profiles/stricter.yaml\n\nExit codes: 0 pass, 1 a budget failed or was inconclusive, 2 bad report or profile.')
    .option('--json', 'print one JSON object (verdict, budgets, headline figures, files written) on stdout; the table goes to stderr')
    .action(async (path: string, flags: { profile: string; allowInconclusive?: boolean; strict?: boolean; out?: string; format?: string; json?: boolean }) => {
      const out = jsonIo(io, flags.json);
      const formats = parseFormats(flags.format);
      if (formats.length > 0 && flags.out === undefined) throw new BudgetgateError('usage', '--format needs --out (check does not overwrite the report it reads)');
      const [saved, profile] = await Promise.all([loadReport(path), loadProfile(flags.profile, io.env)]);
      noteWithoutWindows([{ path, r: saved }], io);
      if (profile.name !== saved.profile) io.stderr(`note: profile ${JSON.stringify(profile.name)} differs from the report's ${JSON.stringify(saved.profile)}; checking its budgets anyway\n`);
      const o = { allowInconclusive: flags.allowInconclusive === true, strict: flags.strict === true };
      const { budgets, verdict, reason } = decoding(path, () => reevaluate(saved, profile.budgets, o));
      const { reason: _oldReason, ...rest } = saved;
      const r: RunResult = { ...rest, ...(reason !== undefined ? { reason } : {}), budgets, verdict };
      out.stdout(renderTerminal(r, { color: io.color, policy: o }));
      // with no --out nothing is written, but annotations still go out inside GitHub Actions
      const all = flags.out === undefined ? [] : formats.includes('json') ? formats : (['json', ...formats] as const);
      const files = await decodingAsync(path, () => emitReportOutputs(r, flags.out ?? '.', all, o, out));
      process.exitCode = r.verdict === 'pass' ? EXIT.pass : EXIT.fail;
      if (flags.json === true) io.stdout(renderSummary(runSummary('check', r, process.exitCode, files)));
    });

  const cmp = program
    .command('compare')
    .description('judge a report against one or more baselines (files or folders of reports); exit 1 on a regression')
    .argument('<reports...>', 'baseline report(s) or folder(s) of them, then the report to judge (last)')
    .option('--tolerance <pct>', 'accepted relative slowdown for every percentile', tolerance('--tolerance'), DEFAULT_TOLERANCE);
  for (const k of COMPARE_KEYS) cmp.option(`--tolerance-${k} <pct>`, `accepted slowdown for ${k} (overrides --tolerance)`, tolerance(`--tolerance-${k}`));
  cmp
    .option('--min-change <ms>', 'no change smaller than this is a regression', minChange, DEFAULT_MIN_CHANGE_MS)
    .option('--alpha <pct>', 'family-wise false-alarm rate over every judged percentile (Holm)', alpha, DEFAULT_ALPHA)
    .option('--all-series', 'judge every series, not only the stages the budgets name plus total')
    .option('--run-noise <pct>', 'with one baseline: the run-to-run spread to assume (it cannot be measured from one run)', tolerance('--run-noise'), DEFAULT_RUN_NOISE)
    .option('-f, --format <format>', 'output: terminal or md', 'terminal')
    .option('--json', 'print one JSON object (verdict, regressions, changed percentiles) on stdout; the table goes to stderr')
    .addHelpText('after', `
A percentile regresses when it is slower by at least --min-change AND by more than its tolerance AND
beyond noise: a one-sided test on the two estimates with time-aware standard errors (the run's
per-second windows as batches) and, with several baselines, their run-to-run spread; Holm's rule over
every judged percentile keeps the chance of any false alarm at --alpha.

Examples:
  $ budgetgate compare baseline/report.json reports/nightly/report.json
  $ budgetgate compare baselines/ reports/nightly/report.json --tolerance-p99 20%

Exit codes: 0 no regression, 1 a regression, 2 bad report or flag, 5 cannot compare (another profile or
schedule, too few samples), 6 no baseline yet (no report at the baseline paths).`)
    .action(async (paths: string[], flags: Record<string, unknown>) => {
      const format = String(flags.format);
      if (format !== 'terminal' && format !== 'md') throw new BudgetgateError('usage', `--format: expected terminal or md, got ${JSON.stringify(format)}`);
      if (paths.length < 2) throw new BudgetgateError('usage', 'compare: give at least one baseline and the report to judge (last)');
      const perKey: Partial<Record<CompareKey, number>> = {};
      for (const k of COMPARE_KEYS) {
        const v = flags[`tolerance${k[0]?.toUpperCase()}${k.slice(1)}`];
        if (typeof v === 'number') perKey[k] = v;
      }
      const curPath = paths[paths.length - 1] as string;
      const [baselines, cur] = await Promise.all([loadBaselines(paths.slice(0, -1)), loadReport(curPath)]);
      noteWithoutWindows([...baselines.reports.map((r, i) => ({ path: baselines.paths[i] ?? '', r })), { path: curPath, r: cur }], io);
      const c = await compareAndPrint(baselines, cur, paths.join(' or '), {
        tolerance: flags.tolerance as number, perKey, minChangeMs: flags.minChange as number, alpha: flags.alpha as number, allSeries: flags.allSeries === true, runNoise: flags.runNoise as number, markdown: format === 'md',
      }, jsonIo(io, flags.json === true));
      if (c.reason !== undefined) io.stderr(`budgetgate: ${c.reason}\n`);
      process.exitCode = exitCodeForComparison(c.outcome);
      if (flags.json === true) io.stdout(renderSummary(compareSummary(c, process.exitCode)));
    });
}

/** For `run --baseline`: the baselines are read before any load is sent, so a bad path costs nothing. */
export async function loadBaseline(paths: readonly string[] | undefined): Promise<Baselines | undefined> {
  if (paths === undefined || paths.length === 0) return undefined;
  const b = await loadBaselines(paths);
  // decode now: a corrupt baseline is a usage problem, better found before the run than after it
  for (const r of b.reports) decoding(paths.join(' or '), () => compareRuns([r], r, { tolerance: DEFAULT_TOLERANCE }));
  return b;
}

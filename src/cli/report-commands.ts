/** `budgetgate report`, `check` and `compare`: everything that works on saved reports, sending nothing. */
import { dirname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { policyOf, reevaluate } from '../core/verdict.js';
import { COMPARE_KEYS, DEFAULT_TOLERANCE, compareReports, parseTolerance, type CompareKey, type Comparison } from '../core/compare.js';
import { BudgetgateError } from '../core/errors.js';
import { parseReport, type RunResult } from '../core/report.js';
import { renderCompareTerminal } from '../report/compare.js';
import { renderCompareMarkdown } from '../report/markdown.js';
import { renderTerminal } from '../report/terminal.js';
import { EXIT } from './exit-codes.js';
import { loadProfile, readText } from './files.js';
import { FORMATS, emitCompareOutputs, emitReportOutputs, parseFormats } from './outputs.js';
import type { Io } from './io.js';

export async function loadReport(path: string): Promise<RunResult> {
  return parseReport(await readText(path, 'report'), path);
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

async function decodingAsync(what: string, f: () => Promise<void>): Promise<void> {
  try {
    await f();
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

export interface CompareFlags {
  tolerance?: number;
  perKey?: Partial<Record<CompareKey, number>>;
  markdown?: boolean;
}

/** Compares, prints (terminal or Markdown), annotates; true when a percentile regressed. */
export async function compareAndPrint(baseline: RunResult, current: RunResult, what: string, f: CompareFlags, io: Io): Promise<Comparison> {
  const c = decoding(what, () => compareReports(baseline, current, { tolerance: f.tolerance ?? DEFAULT_TOLERANCE, perKey: f.perKey ?? {} }));
  io.stdout(f.markdown === true ? renderCompareMarkdown(c) : renderCompareTerminal(c, { color: io.color }));
  await emitCompareOutputs(c, f.markdown === true, io);
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
    .action(async (path: string, flags: { profile: string; allowInconclusive?: boolean; strict?: boolean; out?: string; format?: string }) => {
      const formats = parseFormats(flags.format);
      if (formats.length > 0 && flags.out === undefined) throw new BudgetgateError('usage', '--format needs --out (check does not overwrite the report it reads)');
      const [saved, profile] = await Promise.all([loadReport(path), loadProfile(flags.profile, io.env)]);
      if (profile.name !== saved.profile) io.stderr(`note: profile ${JSON.stringify(profile.name)} differs from the report's ${JSON.stringify(saved.profile)}; checking its budgets anyway\n`);
      const o = { allowInconclusive: flags.allowInconclusive === true, strict: flags.strict === true };
      const { budgets, verdict, reason } = decoding(path, () => reevaluate(saved, profile.budgets, o));
      const { reason: _oldReason, ...rest } = saved;
      const r: RunResult = { ...rest, ...(reason !== undefined ? { reason } : {}), budgets, verdict };
      io.stdout(renderTerminal(r, { color: io.color, policy: o }));
      // with no --out nothing is written, but annotations still go out inside GitHub Actions
      const all = flags.out === undefined ? [] : formats.includes('json') ? formats : (['json', ...formats] as const);
      await decodingAsync(path, () => emitReportOutputs(r, flags.out ?? '.', all, o, io));
      process.exitCode = r.verdict === 'pass' ? EXIT.pass : EXIT.fail;
    });

  const cmp = program
    .command('compare')
    .description('compare two saved reports percentile by percentile; exit 1 when one regressed beyond tolerance and noise')
    .argument('<baseline>', 'the reference report.json (e.g. the last good nightly)')
    .argument('<current>', 'the report.json to judge')
    .option('--tolerance <pct>', 'accepted slowdown for every percentile', tolerance('--tolerance'), DEFAULT_TOLERANCE);
  for (const k of COMPARE_KEYS) cmp.option(`--tolerance-${k} <pct>`, `accepted slowdown for ${k} (overrides --tolerance)`, tolerance(`--tolerance-${k}`));
  cmp
    .option('-f, --format <format>', 'output: terminal or md', 'terminal')
    .addHelpText('after', '\nA percentile regresses when it is slower than its tolerance AND the current run\'s 95% confidence interval\n(order statistics) lies wholly above the baseline\'s.\n\nExample:\n  $ budgetgate compare baseline/report.json reports/nightly/report.json --tolerance 10% --tolerance-p99 5%\n\nExit codes: 0 no regression, 1 a regression, 2 bad report.')
    .action(async (basePath: string, curPath: string, flags: Record<string, unknown>) => {
      const format = String(flags.format);
      if (format !== 'terminal' && format !== 'md') throw new BudgetgateError('usage', `--format: expected terminal or md, got ${JSON.stringify(format)}`);
      const perKey: Partial<Record<CompareKey, number>> = {};
      for (const k of COMPARE_KEYS) {
        const v = flags[`tolerance${k[0]?.toUpperCase()}${k.slice(1)}`];
        if (typeof v === 'number') perKey[k] = v;
      }
      const [base, cur] = await Promise.all([loadReport(basePath), loadReport(curPath)]);
      const c = await compareAndPrint(base, cur, `${basePath} or ${curPath}`, { tolerance: flags.tolerance as number, perKey, markdown: format === 'md' }, io);
      process.exitCode = c.regressions > 0 ? EXIT.fail : EXIT.pass;
    });
}

/** For `run --baseline`: the baseline is read before any load is sent, so a bad path costs nothing. */
export async function loadBaseline(path: string | undefined): Promise<RunResult | undefined> {
  if (path === undefined) return undefined;
  const r = await loadReport(path);
  // decode now: a corrupt baseline is a usage problem, better found before the run than after it
  decoding(path, () => compareReports(r, r, { tolerance: DEFAULT_TOLERANCE }));
  return r;
}


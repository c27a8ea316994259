/** `budgetgate merge REPORT… --out DIR --profile P`: shards' reports → the whole run's report. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { BudgetgateError } from '../core/errors.js';
import { mergeReports } from '../core/merge.js';
import { emitReportOutputs, FORMATS, parseFormats } from './outputs.js';
import { EXIT } from './exit-codes.js';
import { loadProfile, writeAtomic } from './files.js';
import { jsonIo, loadReport } from './report-commands.js';
import { serializeReport, type RunResult } from '../core/report.js';
import { renderSummary, runSummary, type WrittenFiles } from '../report/json-summary.js';
import { renderTerminal } from '../report/terminal.js';
import type { Io } from './io.js';

export interface MergeFlags {
  out: string;
  profile: string;
  format?: string;
  requireAll?: boolean;
  allowInconclusive?: boolean;
  strict?: boolean;
  json?: boolean;
}

export async function mergeCommand(paths: readonly string[], flags: MergeFlags, rawIo: Io): Promise<number> {
  const io = jsonIo(rawIo, flags.json);
  const files: WrittenFiles = {};
  const done = (code: number, r: RunResult): number => {
    if (flags.json === true) rawIo.stdout(renderSummary(runSummary('merge', r, code, files)));
    return code;
  };
  const formats = parseFormats(flags.format).filter((f) => f !== 'json');
  if (paths.length === 0) throw new BudgetgateError('usage', 'merge: name at least one report');
  const [profile, ...reports] = await Promise.all([loadProfile(flags.profile, io.env), ...paths.map((p) => loadReport(p))]);
  const inputs = reports.map((report, i) => ({ source: paths[i] as string, report }));
  const first = inputs[0];
  if (first && profile.name !== first.report.profile) {
    throw new BudgetgateError('usage', `--profile ${flags.profile} is profile ${JSON.stringify(profile.name)}, the reports are of ${JSON.stringify(first.report.profile)}`);
  }
  const o = { allowInconclusive: flags.allowInconclusive === true, strict: flags.strict === true };
  // mergeReports judges the merged data by the one policy, --strict included
  const { report: result, warnings } = mergeReports(inputs, { budgets: profile.budgets, requireAll: flags.requireAll === true, ...o });
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  io.stdout(renderTerminal(result, { color: io.color, policy: o }));
  const reportPath = join(flags.out, 'report.json');
  try {
    await writeAtomic(reportPath, serializeReport(result));
    files.json = reportPath;
    io.stderr(`report: ${reportPath}\n`);
    Object.assign(files, await emitReportOutputs(result, flags.out, formats, o, io));
  } catch (e) {
    io.stderr(`budgetgate: ${(e as Error).message}\n`);
    return done(EXIT.reportWrite, result);
  }
  if (result.interrupted) return done(EXIT.interrupted, result);
  return done(result.verdict === 'pass' ? EXIT.pass : EXIT.fail, result);
}

export function registerMergeCommand(program: Command, io: Io): void {
  program
    .command('merge')
    .description('merge the reports of shards (run --shard I/N) into the whole run\'s report and evaluate its budgets; sends nothing')
    .argument('<reports...>', 'report.json files, one per shard')
    .requiredOption('-o, --out <dir>', 'folder to write the merged report.json (and any --format) into')
    .requiredOption('-p, --profile <file>', 'the profile the shards ran (its budgets are evaluated on the merged data)')
    .option('-f, --format <list>', `more formats beside report.json, comma-separated: ${FORMATS.join(', ')}`)
    .option('--require-all', 'a missing shard is an error (exit 2), not a warning')
    .option('--allow-inconclusive', 'an inconclusive budget (too few samples) does not fail')
    .option('--strict', 'a borderline pass (its 95% interval contains the limit) fails')
    .option('--json', 'print one JSON object (verdict, budgets, headline figures, files written) on stdout; the table goes to stderr')
    .addHelpText(
      'after',
      '\nHistograms and counts are added exactly; timelines are aligned on each shard\'s start time.\nRefused (exit 2): reports of different profiles or schedules, and the same shard twice.\n\nExample:\n  $ budgetgate merge reports/shard-*/report.json --profile profile.yaml --out reports/merged --format junit,md\n\nExit codes: 0 pass, 1 a budget failed or was inconclusive, 2 bad or mismatched reports, 4 report not written, 130 a shard was interrupted.',
    )
    .action(async (paths: string[], flags: MergeFlags) => {
      process.exitCode = await mergeCommand(paths, flags, io);
    });
}

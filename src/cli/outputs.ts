/**
 * Every report format a command asked for, written atomically into the report folder, plus the GitHub
 * Actions extras: the Markdown report appended to the job summary, failed budgets and regressions as
 * `::error` annotations.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Comparison } from '../core/compare.js';
import { BudgetgateError } from '../core/errors.js';
import { serializeReport, type RunResult } from '../core/report.js';
import { failsRun } from '../core/verdict.js';
import { renderHtml } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import { changeText, renderCompareMarkdown, renderMarkdown } from '../report/markdown.js';
import { buildView } from '../report/view.js';
import { loadChartLib } from './assets.js';
import { writeAtomic } from './files.js';
import type { Io } from './io.js';

export const FORMATS = ['json', 'junit', 'md', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export const FILE_OF: Record<Format, string> = { json: 'report.json', junit: 'report.xml', md: 'report.md', html: 'report.html' };

/** "json,junit,md,html" → the set asked for (order kept, duplicates dropped); unknown names are a usage error. */
export function parseFormats(text: string | undefined, what = '--format'): Format[] {
  if (text === undefined) return [];
  const out: Format[] = [];
  for (const raw of text.split(',')) {
    const f = raw.trim().toLowerCase();
    if (f === '') continue;
    if (!(FORMATS as readonly string[]).includes(f)) {
      throw new BudgetgateError('usage', `${what}: unknown format ${JSON.stringify(raw.trim())} (expected a comma-separated list of ${FORMATS.join(', ')})`);
    }
    if (!out.includes(f as Format)) out.push(f as Format);
  }
  return out;
}

export interface OutputOptions {
  allowInconclusive: boolean;
  strict: boolean;
}

/** Renders and writes each format in turn (one at a time: writeAtomic's temporary names are per millisecond). */
export async function writeFormats(r: RunResult, outDir: string, formats: readonly Format[], o: OutputOptions): Promise<string[]> {
  const written: string[] = [];
  const view = buildView(r, o); // one view for every format
  for (const f of formats) {
    let text: string;
    if (f === 'json') text = serializeReport(r);
    else if (f === 'junit') text = renderJunit(view);
    else if (f === 'md') text = renderMarkdown(view);
    else text = renderHtml(view, { chartLib: await loadChartLib() });
    const path = join(outDir, FILE_OF[f]);
    await writeAtomic(path, text);
    written.push(path);
  }
  return written;
}

/** GitHub workflow-command escaping: data escapes %, CR, LF; property values also : and , */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

const inActions = (io: Io): boolean => io.env.GITHUB_ACTIONS === 'true';

/** One `::error` line per budget that did not pass in a way that fails the run. */
export function budgetAnnotations(r: RunResult, o: OutputOptions): string {
  const lines: string[] = [];
  for (const v of r.budgets) {
    if (!failsRun(v, o)) continue;
    const what = v.status === 'pass' ? 'borderline (--strict)' : v.status;
    lines.push(`::error title=${escapeProperty(`budget ${v.id} ${what}`)}::${escapeData(`${v.description}: ${v.reason}`)}\n`);
  }
  if (r.aborted) lines.push(`::error title=budgetgate aborted::${escapeData(r.reason ?? r.aborted.reason)}\n`);
  else if (r.interrupted) lines.push(`::error title=budgetgate interrupted::${escapeData(r.reason ?? 'the run was interrupted')}\n`);
  return lines.join('');
}

export function regressionAnnotations(c: Comparison): string {
  const lines: string[] = [];
  for (const s of c.series) {
    for (const ch of s.changes) {
      if (ch.status !== 'regression') continue;
      lines.push(`::error title=${escapeProperty(`regression ${s.stage} ${s.path} ${s.phase} ${ch.key}`)}::${escapeData(`${ch.key} ${changeText(ch)} (tolerance ${Number((ch.tolerance * 100).toFixed(2))}%, floor ${c.options.minChangeMs} ms), beyond run-to-run noise`)}\n`);
    }
  }
  return lines.join('');
}

/** Appends to $GITHUB_STEP_SUMMARY when set; a failure to append is reported, not fatal. */
export async function appendStepSummary(markdown: string, io: Io): Promise<void> {
  const path = io.env.GITHUB_STEP_SUMMARY;
  if (path === undefined || path === '') return;
  try {
    await appendFile(path, `${markdown}\n`, 'utf8');
  } catch (e) {
    io.stderr(`budgetgate: cannot append to GITHUB_STEP_SUMMARY (${path}): ${(e as Error).message}\n`);
  }
}

/**
 * After a report is final: the extra formats (report.json is the caller's), the job summary when
 * Markdown was asked for, and annotations inside GitHub Actions.
 */
export async function emitReportOutputs(r: RunResult, outDir: string, formats: readonly Format[], o: OutputOptions, io: Io): Promise<Partial<Record<Format, string>>> {
  const paths = await writeFormats(r, outDir, formats, o);
  for (const p of paths) io.stderr(`report: ${p}\n`);
  if (formats.includes('md')) await appendStepSummary(renderMarkdown(r, o), io);
  if (inActions(io)) io.stdout(budgetAnnotations(r, o));
  // format → path written (the order of `formats`, which writeFormats keeps)
  return Object.fromEntries(formats.map((f, i) => [f, paths[i] as string]));
}

export async function emitCompareOutputs(c: Comparison, markdown: boolean, io: Io): Promise<void> {
  if (markdown) await appendStepSummary(renderCompareMarkdown(c), io);
  if (inActions(io)) io.stdout(regressionAnnotations(c));
}

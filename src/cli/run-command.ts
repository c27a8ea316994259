/** `budgetgate run PROFILE`: the whole path from a profile file to an exit code. */
import { join } from 'node:path';
import { BudgetgateError } from '../core/errors.js';
import { serializeReport, type RunResult } from '../core/report.js';
import type { Tick } from '../engine/driver.js';
import { runEngine } from '../engine/run.js';
import { renderProgress } from '../report/progress.js';
import { renderTerminal } from '../report/terminal.js';
import { startSim, type SimServer } from '../sim/index.js';
import { EXIT } from './exit-codes.js';
import { defaultOutDir, loadProfile, writeAtomic } from './files.js';
import { onInterrupt } from './signals.js';
import { VERSION } from '../version.js';

export interface RunFlags {
  quiet?: boolean;
  target?: string;
  out?: string;
  allowInconclusive?: boolean;
  skipProbe?: boolean;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  color: boolean;
  /** stderr is a terminal: progress rewrites one line instead of printing periodic ones */
  tty: boolean;
  env: NodeJS.ProcessEnv;
}

export function checkTargetUrl(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BudgetgateError('usage', `${what}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BudgetgateError('usage', `${what}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  return url;
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

export async function runCommand(profilePath: string, flags: RunFlags, io: Io): Promise<number> {
  const profile = await loadProfile(profilePath, io.env);
  let sim: SimServer | undefined;
  let url: string;
  if (flags.target !== undefined) url = checkTargetUrl(flags.target, '--target');
  else if (profile.target.url !== undefined) url = profile.target.url;
  else {
    sim = await startSim();
    url = `${sim.url}/v1/chat/completions`;
    io.stderr(`no target: using the embedded simulated endpoint at ${url}\n`);
  }

  const progress = progressPrinter(io, flags.quiet === true);
  const interrupt = onInterrupt((m) => {
    progress.clear();
    io.stderr(`${m}\n`);
  });
  const startedAt = new Date();
  let result: RunResult;
  try {
    if (interrupt.soft.aborted) throw new BudgetgateError('interrupted', 'interrupted before the run started');
    result = await runEngine(profile, {
      url,
      version: VERSION,
      allowInconclusive: flags.allowInconclusive === true,
      signal: interrupt.soft,
      hardSignal: interrupt.hard,
      skipProbe: flags.skipProbe === true,
      wallClock: () => startedAt,
      onTick: progress.tick,
    });
  } finally {
    progress.clear();
    interrupt.dispose();
    await sim?.close();
  }

  io.stdout(renderTerminal(result, { color: io.color }));
  const outDir = flags.out ?? defaultOutDir(profile.name, startedAt);
  const reportPath = join(outDir, 'report.json');
  try {
    await writeAtomic(reportPath, serializeReport(result));
    io.stderr(`report: ${reportPath}\n`);
  } catch (e) {
    io.stderr(`budgetgate: ${(e as Error).message}\n`);
    return EXIT.reportWrite;
  }
  if (result.interrupted) return EXIT.interrupted;
  return result.verdict === 'pass' ? EXIT.pass : EXIT.fail;
}

#!/usr/bin/env node
/** commander wiring: the only module that reads argv, writes to the terminal and sets the exit code. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BudgetgateError } from '../core/errors.js';
import { planSchedule } from '../core/schedule.js';
import { renderPlan } from '../report/plan.js';
import { startSim, type FaultKind, type SimOptions } from '../sim/index.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { loadProfile } from './files.js';
import { loadConversations } from '../dataset.js';
import { dirname } from 'node:path';
import type { Io } from './io.js';
import { runCommand, type RunFlags } from './run-command.js';
import { addOneLineOptions, printProfile, profileSource } from './oneline-options.js';
import type { OneLineFlags } from './oneline.js';
import { registerInitCommand } from './init-command.js';
import { checkTargetUrl } from './target.js';
import { registerReportCommands } from './report-commands.js';
import { registerCapacityCommand } from './capacity-command.js';
import { registerMergeCommand } from './merge-command.js';
import { VERSION } from '../version.js';
import { renderSummary, SUMMARY_SCHEMA } from '../report/json-summary.js';

const io: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  color: process.stdout.isTTY === true && !('NO_COLOR' in process.env && process.env.NO_COLOR !== ''),
  tty: process.stderr.isTTY === true,
  env: process.env,
};

function number(what: string, min: number, max = Number.POSITIVE_INFINITY) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${what}: expected a number from ${min}${max === Number.POSITIVE_INFINITY ? '' : ` to ${max}`}, got ${v}`);
    return n;
  };
}

function stall(v: string, prev: SimOptions['stalls'] = []): NonNullable<SimOptions['stalls']> {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`expected AT_MS:FOR_MS like 5000:1000, got ${v}`);
  return [...prev, { atMs: Number(m[1]), forMs: Number(m[2]) }];
}

function errorKinds(v: string): FaultKind[] {
  const kinds = v.split(',').map((k) => k.trim());
  for (const k of kinds) if (!['500', '503', '429', 'reset'].includes(k)) throw new InvalidArgumentError(`unknown error kind ${k} (500, 503, 429, reset)`);
  return kinds as FaultKind[];
}

export function program(): Command {
  const p = new Command('budgetgate')
    .description('Load-test an inference endpoint with open-model traffic and fail when a latency budget is broken.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const runCmd = p.command('run');
  runCmd
    .description('drive the profile\'s phases at the target, record per-stage histograms, evaluate the budgets')
    .argument('[profile]', 'profile file (YAML or JSON); omit it to build one from the one-line flags below')
    .option('-t, --target <url>', 'target URL (overrides target.url; default: the embedded simulated endpoint)')
    .option('-o, --out <dir>', 'report folder (default: reports/<profile>-<UTC time>/)')
    .option('--json', 'print one JSON object (verdict, budgets, headline figures, files written) on stdout; tables go to stderr')
    .option('--allow-inconclusive', 'an inconclusive budget (too few samples) does not fail the run')
    .option('-q, --quiet', 'no live progress (on a terminal a line a second, in logs a line every 5 s)')
    .option('-f, --format <list>', 'extra report formats beside report.json, comma-separated: junit, md, html (json is always written)')
    .option('--baseline <path>', 'compare with this saved report, or every report in this folder, at the end (repeatable); a regression fails the run (exit 1)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--strict', 'a borderline pass (its 95% interval contains the limit) fails the run')
    .option('--insecure', 'https: do not verify the target\'s certificate (the probe verifies it by default)')
    .option('--ca <file>', 'https: trust the certificates in this PEM file (e.g. a self-signed target)')
    .option('--redact <name>', 'hide the value of this header or environment variable as *** in every output (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--dry-run', 'check the profile and print the plan; send nothing')
    .option('--allow-hooks', 'let phase hooks run programs (exec) and call addresses other than the target (http.url)')
    // scale-out (the action passes these through to runCommand's RunFlags)
    .option('--shard <I/N>', 'send only shard I of N (schedule index ≡ I mod N; I from 0); auto/N reads $JOB_COMPLETION_INDEX')
    .option('--start-at <time>', 'wait until this ISO time (e.g. 2026-05-01T12:00:00Z) before t = 0, so shards align')
    .option('--start-in <duration>', 'wait this long (e.g. 30s) before t = 0')
    .option('--checkpoint <every>', 'write report.json (checkpoint: true) this often while running; 0 disables', '60s')
    .option('--workers <n|auto>', 'sender threads, each its own share of the schedule (index ≡ w mod N); auto: the cores available, minus one for the embedded endpoint', '1')
    .addOption(new Option('--skip-probe', 'send no probe request before the run').hideHelp())
    .addHelpText('after', '\nExamples:\n  $ budgetgate run profiles/demo.yaml\n  $ budgetgate run --url http://127.0.0.1:8000/v1/chat/completions --rate 50 --duration 30s --prompt Hi --budget "total p99 < 800ms"\n  $ budgetgate run profile.yaml --target http://127.0.0.1:8000/v1/chat/completions --out reports/ci\n\nExit codes: 0 pass, 1 a budget failed or was inconclusive, 2 usage or profile error, 3 target unreachable,\n4 report not written, 130 interrupted.')
    .action(async (profile: string | undefined, flags: RunFlags & OneLineFlags & { printProfile?: boolean }) => {
      const source = profileSource(profile, flags);
      process.exitCode = flags.printProfile === true ? printProfile(source, io) : await runCommand(source, flags, io);
    });
  addOneLineOptions(runCmd);

  p.command('validate')
    .description('check a profile and print its plan (phases, request counts, budgets in words); sends nothing')
    .argument('<profile>', 'profile file (YAML or JSON; - reads standard input)')
    .option('-t, --target <url>', 'target URL to show in the plan (overrides target.url)')
    .addHelpText('after', '\nExample:\n  $ budgetgate validate profiles/demo.yaml')
    .action(async (path: string, flags: { target?: string }) => {
      const profile = await loadProfile(path, io.env);
      await loadConversations(profile, path === '-' ? '.' : dirname(path), path); // a bad conversation line is reported with its line number
      const target = flags.target !== undefined ? checkTargetUrl(flags.target, '--target') : (profile.target.url ?? '(embedded simulated endpoint)');
      io.stdout(renderPlan(profile, planSchedule(profile.phases), target));
    });

  p.command('sim')
    .description('serve the simulated inference endpoint (OpenAI-style) until interrupted')
    .option('-p, --port <n>', 'port (0: any free port)', number('--port', 0, 65535), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed for service-time jitter and injected faults', number('--seed', 0), 1)
    .option('--workers <n>', 'primary model workers (concurrency)', number('--workers', 1), 8)
    .option('--fallback-workers <n>', 'fallback model workers', number('--fallback-workers', 1), 4)
    .option('--fallback-deadline <ms>', 'serve from the fallback when the predicted queue wait passes this', number('--fallback-deadline', 0), 200)
    .option('--no-fallback', 'disable the fallback route')
    .option('--decode-ms-per-token <ms>', 'decode time per generated token', number('--decode-ms-per-token', 0), 0.25)
    .option('--error-rate <fraction>', 'fraction of requests the primary fails', number('--error-rate', 0, 1), 0)
    .option('--error-kinds <list>', 'comma-separated: 500, 503, 429, reset', errorKinds, ['500'] as FaultKind[])
    .option('--stall <at:for>', 'pause the primary for FOR ms starting AT ms after start (repeatable)', stall)
    .option('--response-cache', 'answer a request body seen before from a cache, marked x-sim-cache: HIT (else per request: x-sim-cache-enabled: true)')
    .option('--prefix-cache', 'report usage.prompt_tokens_details.cached_tokens for prompts sharing a prefix with recent ones')
    .addHelpText('after', '\nExamples:\n  $ budgetgate sim --port 8080\n  $ budgetgate sim --workers 2 --error-rate 0.02 --error-kinds 503,reset --stall 10000:1000')
    .action(async (o: { port: number; host: string; seed: number; workers: number; fallbackWorkers: number; fallbackDeadline: number; fallback: boolean; decodeMsPerToken: number; errorRate: number; errorKinds: FaultKind[]; stall?: SimOptions['stalls']; responseCache?: boolean; prefixCache?: boolean }) => {
      const sim = await startSim({
        host: o.host,
        port: o.port,
        seed: o.seed,
        workers: o.workers,
        fallbackWorkers: o.fallbackWorkers,
        fallbackDeadlineMs: o.fallbackDeadline,
        fallbackOff: !o.fallback,
        decodeMsPerToken: o.decodeMsPerToken,
        errorRate: o.errorRate,
        errorKinds: o.errorKinds,
        stalls: o.stall ?? [],
        responseCache: o.responseCache === true,
        prefixCache: o.prefixCache === true,
      });
      io.stdout(`listening on ${sim.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await sim.close();
    });
  registerReportCommands(p, io);
  registerCapacityCommand(p, io);
  registerMergeCommand(p, io);
  registerInitCommand(p, io);
  return p;
}

/** --json: a command that ends in an error still prints its one object, naming the error */
function jsonError(argv: readonly string[], exitCode: number, message: string): void {
  if (argv.includes('--json')) io.stdout(renderSummary({ schema: SUMMARY_SCHEMA, command: argv[2] ?? null, verdict: null, exitCode, error: message }));
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync(argv as string[], { from: 'node' });
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
      if (e.exitCode !== 0) jsonError(argv, EXIT.usage, e.message);
      return;
    }
    if (e instanceof BudgetgateError) {
      io.stderr(`${e.message.split('\n').map((l) => `budgetgate: ${l}`).join('\n')}\n`);
      process.exitCode = exitCodeFor(e.kind);
      jsonError(argv, process.exitCode, e.message);
      return;
    }
    io.stderr(`budgetgate: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}

await main(process.argv);

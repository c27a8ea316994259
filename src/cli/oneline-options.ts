/** The one-line flags of `run` (commander wiring) and how they choose between a file and the flags. */
import type { Command } from 'commander';
import { BudgetgateError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { flagName, loadOneLine, oneLineProfile, ONE_LINE_FLAGS, printedProfile, type OneLine, type OneLineFlags } from './oneline.js';
import type { Io } from './io.js';

const repeat = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addOneLineOptions(cmd: Command): void {
  cmd
    .optionsGroup?.('One-line run (no profile file):');
  cmd
    .option('--url <url>', 'the endpoint (target.url); without it, the embedded simulated endpoint')
    .option('--rate <rps>', 'open model, requests per second (the phase "load")')
    .option('--to <n>', 'ramp linearly to this rate (or, with --concurrency alone, to this many users)')
    .option('--duration <d>', 'how long, e.g. 30s')
    .option('--warmup <d>', 'first send at the start rate for this long, not budgeted (e.g. 5s)')
    .option('--concurrency <n>', 'with --rate, the cap on requests in flight (maxInFlight); alone, N virtual users (closed model)')
    .option('--budget <expr>', 'a budget like "total p99 < 800ms", "ttft[path=primary] p99 < 500ms", "errorRate < 1%", "goodput >= 95%" (repeatable)', repeat)
    .option('--stream', 'ask for a streamed response (ttft, tpot, itl, tokens_per_s)')
    .option('--preset <name>', 'timings preset (tgi, vllm, openai, litellm, envoy, llamacpp)')
    .option('--body <json>', 'the request body, JSON (default with --prompt: an OpenAI chat request)')
    .option('--prompt <text>', 'send an OpenAI chat request with this user message')
    .option('--model <name>', 'the chat request\'s model')
    .option('--max-tokens <n>', 'the chat request\'s max_tokens')
    .option('--header <"k: v">', 'a request header (repeatable)', repeat)
    .option('--method <m>', 'HTTP method (default POST with a body, else GET)')
    .option('--timeout <d>', 'per-request timeout (default 30s)')
    .option('--arrivals <kind>', 'uniform, poisson or gamma')
    .option('--fallback <signal>', 'how a fallback response shows: HEADER=VALUE, HEADER~REGEX, HEADER>N or model-differs')
    .option('--goodput <limits>', 'per-request limits for goodput, like ttft:500ms,tpot:50ms')
    .option('--name <name>', 'profile name (report folder; default adhoc)')
    .option('--print-profile', 'print the profile the flags make (YAML) and send nothing');
}

/** A profile file, or the flags' profile; both, or neither, is a usage error. */
export function profileSource(path: string | undefined, flags: OneLineFlags & { printProfile?: boolean }): string | OneLine {
  const given = ONE_LINE_FLAGS.filter((k) => flags[k] !== undefined).map(flagName);
  if (path !== undefined) {
    if (given.length > 0) throw new BudgetgateError('usage', `${given.join(', ')}: one-line flags build a profile; with a profile file (${path}) edit the file instead (--target overrides its url)`);
    if (flags.printProfile === true) throw new BudgetgateError('usage', '--print-profile prints the profile made by one-line flags; a profile file is already one');
    return path;
  }
  if (given.length === 0) throw new BudgetgateError('usage', 'run: name a profile file, or build one from flags: --rate 50 --duration 30s [--url URL] [--budget "total p99 < 800ms"]');
  return oneLineProfile(flags);
}

export function printProfile(source: string | OneLine, io: Io): number {
  if (typeof source === 'string') throw new BudgetgateError('usage', '--print-profile needs one-line flags');
  loadOneLine(source, (n) => io.env[n]); // printed only when valid: the file it becomes must validate
  io.stdout(printedProfile(source));
  return EXIT.pass;
}

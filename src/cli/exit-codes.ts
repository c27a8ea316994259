/** The one place an outcome becomes an exit code. README's "Exit codes" table mirrors this. */
import type { CompareOutcome } from '../core/compare.js';
import type { ErrorKind } from '../core/errors.js';

export const EXIT = {
  pass: 0,
  fail: 1,
  usage: 2,
  unreachable: 3,
  reportWrite: 4,
  /** compare: no baseline of the same profile and schedule, or too few samples to judge */
  incomparable: 5,
  /** compare: no baseline report found (the first night of a nightly) */
  noBaseline: 6,
  interrupted: 130,
} as const;

export function exitCodeFor(kind: ErrorKind): number {
  switch (kind) {
    case 'usage':
    case 'profile':
    case 'report':
      return EXIT.usage;
    case 'unreachable':
      return EXIT.unreachable;
    case 'interrupted':
      return EXIT.interrupted;
    case 'io':
      return EXIT.reportWrite;
  }
}

/** `compare` (and `run --baseline`) outcomes; `run` lets a missing baseline pass (see run-command.ts). */
const COMPARISON_EXIT: Record<CompareOutcome, number> = {
  pass: EXIT.pass,
  regression: EXIT.fail,
  incomparable: EXIT.incomparable,
  'no-baseline': EXIT.noBaseline,
};

export function exitCodeForComparison(outcome: CompareOutcome): number {
  return COMPARISON_EXIT[outcome];
}

/**
 * Every failure the CLI can report carries its kind; the kind alone decides the exit code, and that
 * mapping lives in one place (src/cli/exit-codes.ts). Expected outcomes (a failed budget, a request
 * error, a missing header) are values, never these; so are a comparison's outcomes (regression,
 * cannot compare, no baseline yet: compare.ts CompareOutcome), mapped there by exitCodeForComparison.
 */
export type ErrorKind =
  | 'usage' // bad flags or arguments: exit 2
  | 'profile' // the profile is malformed: exit 2, nothing sent
  | 'unreachable' // the probe request before the run failed: exit 3
  | 'interrupted' // SIGINT/SIGTERM: exit 130
  | 'io' // a file could not be read or written
  | 'report'; // a saved report is malformed or of an unknown schema

export class BudgetgateError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'BudgetgateError';
  }
}

/** One problem found in a profile: where it is (`phases[2].duration`) and what was wrong there. */
export interface ProfileProblem {
  path: string;
  message: string;
}

/** Thrown by loaders with every problem at once, so the user fixes them in one pass. */
export class ProfileError extends BudgetgateError {
  readonly problems: readonly ProfileProblem[];
  constructor(source: string, problems: readonly ProfileProblem[]) {
    const lines = problems.map((p) => `${source}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super('profile', lines.join('\n'));
    this.problems = problems;
    this.name = 'ProfileError';
  }
}

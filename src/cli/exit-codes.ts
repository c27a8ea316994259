/** The one place an outcome becomes an exit code. README's "Exit codes" table mirrors this. */
import type { ErrorKind } from '../core/errors.js';

export const EXIT = {
  pass: 0,
  fail: 1,
  usage: 2,
  unreachable: 3,
  reportWrite: 4,
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

/**
 * A full garbage collection right before t = 0. Building the run (modules, autocannon's clients,
 * the schedule) leaves the heap due for a major collection, which then came 10–50 ms into the load:
 * an incremental mark and a 15 ms mark-compact, each delaying the sends due meanwhile. Collecting
 * before the clock starts costs the same pause where no send is due. V8 exposes `gc` only behind
 * --expose-gc; the flag set at run time exposes it to a new context, which is where it is taken from.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

export function settleHeap(): void {
  try {
    if (!collect) {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
    collect();
  } catch {
    // best effort: without it the run is as exact as before, only its first 100 ms less so
  }
}

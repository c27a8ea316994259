/**
 * SIGINT/SIGTERM: the first stops sending (requests in flight may finish), the second stops at once.
 * Returned signals are what the engine listens to.
 */
export interface Interruption {
  soft: AbortSignal;
  hard: AbortSignal;
  dispose(): void;
}

export function onInterrupt(notify: (message: string) => void): Interruption {
  const soft = new AbortController();
  const hard = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (!soft.signal.aborted) {
      notify(`${sig}: stopping load, waiting for requests in flight (again to stop now)`);
      soft.abort();
    } else hard.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    soft: soft.signal,
    hard: hard.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

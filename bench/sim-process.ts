/**
 * Starts the simulated endpoint in its own process, so a benchmark's driver and server do not share
 * an event loop. Options come as one JSON argument (SimOptions); the first stdout line is
 * `listening on http://127.0.0.1:PORT`. Exits on SIGTERM/SIGINT or when stdin closes (the parent
 * died or is done), so it never outlives the bench.
 *
 *   node --import tsx bench/sim-process.ts '{"workers":2000,"decodeMsPerToken":0}'
 */
import { startSim, type SimOptions } from '../src/sim/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimOptions;
const sim = await startSim({ host: '127.0.0.1', ...options });
process.stdout.write(`listening on ${sim.url}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const s = sim.stats();
  process.stderr.write(`sim: served ${s.served}, errors ${s.errors}, max queue ${s.maxQueue}\n`);
  void sim.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

/**
 * The floor for replay timing tests: the least a sender can do in Node.js on this machine at this
 * moment. Plain sockets opened before t = 0 (one per record of the largest burst), one timer per
 * instant of the schedule, and at each instant a raw HTTP/1.1 request written per record on its own
 * socket; the answers are read and dropped. No parsing, no recording, no bodies built on the way.
 * What the server logs for this sender is the machine's own lateness (its run queue, its timers),
 * which the sender under test is then judged beside.
 */
import { connect, type Socket } from 'node:net';
import { sharedClock } from '../src/engine/worker-protocol.js';

/**
 * Sends one request per entry of `instants` (ms from t = 0, sorted; equal values are a burst) to
 * `url`, each body carrying `"max_tokens"` as the trace's requests do; resolves with t = 0 on
 * sharedClock (the log server's clock) once every answer has come back.
 */
export async function bareReplay(url: string, instants: readonly number[]): Promise<number> {
  const u = new URL(url);
  const counts = new Map<number, number>();
  for (const t of instants) counts.set(t, (counts.get(t) ?? 0) + 1);
  const width = Math.max(...counts.values());
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 });
  const request = Buffer.from(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  let answers = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const sockets: Socket[] = await Promise.all(
    Array.from({ length: width }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname, () => resolve(s));
      s.setNoDelay(true);
      s.on('error', reject);
      // one answer per request, counted by the blank line that ends its headers (the JSON body has none)
      let last4 = 0;
      s.on('data', (c: Buffer) => {
        for (const b of c) {
          last4 = ((last4 << 8) | b) >>> 0;
          if (last4 === 0x0d0a0d0a && ++answers === instants.length) done();
        }
      });
    })),
  );
  const bursts = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const t0 = sharedClock() + 50;
  let k = 0;
  const next = (): void => {
    const burst = bursts[k++];
    if (!burst) return;
    for (let j = 0; j < burst[1]; j++) sockets[j]!.write(request);
    const following = bursts[k];
    if (following) setTimeout(next, Math.max(0, t0 + following[0] - sharedClock()));
  };
  setTimeout(next, Math.max(0, t0 + (bursts[0]?.[0] ?? 0) - sharedClock()));
  await finished;
  for (const s of sockets) s.destroy();
  return t0;
}

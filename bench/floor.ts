/**
 * The floor for send lateness on this machine: the least an open-model sender in Node can do. Raw
 * keep-alive sockets (node:net), one prebuilt request, responses only counted (Content-Length
 * framing), and the paced driver's own wake-up rule (send what is due within EARLY_MS, then sleep on a
 * timer until EARLY_MS before the next). No autocannon, no parsing, no recording beyond two numbers per
 * send. Run against the same sim, right before the driver, so both see the same machine: the driver's
 * lateness over this one is what budgetgate itself adds.
 */
import { connect, type Socket } from 'node:net';
import { EARLY_MS } from '../src/engine/driver.js';
import { quantile } from './paced.js';

export interface FloorOptions {
  url: string;
  body: string;
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** at most this many connections (as budgetgate's maxInFlight and vegeta's -max-workers): a send due when all are busy waits for one; default no limit */
  maxConnections?: number;
}

export interface FloorResult {
  /** lateness of the measured sends, ascending */
  late: Float64Array;
  sent: number;
  completed: number;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
}

interface Conn {
  socket: Socket;
  buf: Buffer;
  busy: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Sends `rate`/s for warmup + duration; lateness is taken over the measured part only. */
export async function measureFloor(o: FloorOptions): Promise<FloorResult> {
  const u = new URL(o.url);
  const port = Number(u.port);
  const request = Buffer.from(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(o.body)}\r\n\r\n${o.body}`,
  );
  const gap = 1000 / o.rate;
  const total = Math.round(((o.warmupMs + o.durationMs) / 1000) * o.rate);
  const firstMeasured = Math.round((o.warmupMs / 1000) * o.rate);
  const lateness = new Float64Array(total - firstMeasured);
  const idle: Conn[] = [];
  const all: Conn[] = [];
  let completed = 0;
  /** sends due while every allowed connection was busy: each goes out on the next that frees */
  let waiting = 0;
  let next = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));

  const onData = (c: Conn, chunk: Buffer): void => {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    for (;;) {
      const end = c.buf.indexOf(HEAD_END);
      if (end < 0) return;
      const head = c.buf.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (c.buf.length < end + 4 + len) return;
      c.buf = c.buf.subarray(end + 4 + len);
      completed++;
      if (waiting > 0) {
        waiting--;
        c.socket.write(request);
      } else {
        c.busy = false;
        idle.push(c);
      }
      if (completed === total) resolveDone();
    }
  };

  const open = (): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port, noDelay: true });
      const c: Conn = { socket, buf: Buffer.alloc(0), busy: false };
      socket.once('connect', () => resolve(c));
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => onData(c, chunk));
      all.push(c);
    });

  // enough connections up front that none is opened inside the measured window
  for (let i = 0; i < Math.max(8, Math.ceil(o.rate / 100)); i++) idle.push(await open());

  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const send = (intended: number): void => {
    const c = idle.pop();
    const t = now();
    if (next > firstMeasured) lateness[next - 1 - firstMeasured] = Math.max(0, t - intended);
    if (c) {
      c.busy = true;
      c.socket.write(request);
    } else if (all.length >= (o.maxConnections ?? Infinity)) {
      waiting++;
    } else {
      void open().then((fresh) => {
        fresh.busy = true;
        fresh.socket.write(request);
      });
    }
  };
  const pump = (): void => {
    const t = now();
    while (next < total && next * gap <= t + EARLY_MS) send(next++ * gap);
    if (next >= total) return;
    const wait = next * gap - EARLY_MS - now();
    if (wait <= 0) setImmediate(pump);
    else setTimeout(pump, wait);
  };
  pump();
  const timeout = setTimeout(resolveDone, o.warmupMs + o.durationMs + 10_000);
  await done;
  clearTimeout(timeout);
  for (const c of all) c.socket.destroy();
  const sorted = lateness.slice().sort();
  return {
    late: sorted,
    sent: next,
    completed,
    latenessP50: quantile(sorted, 0.5),
    latenessP99: quantile(sorted, 0.99),
    latenessMax: quantile(sorted, 1),
  };
}

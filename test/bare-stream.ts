/**
 * The floor for streamed timing tests: a bare SSE reader in its own process (as the CLI is), raw
 * sockets and a regular expression, nothing else. For each of `count` requests, paced `gapMs` apart,
 * it takes the time from its write to the first content event's bytes, and the sim's own first-token
 * time from the Server-Timing trailer; residual = the one − the other: loopback and the reader's own
 * wait for the CPU. What this reader's residual is at a given minute is the machine's, and the
 * client under test is judged beside it.
 */
import { spawn } from 'node:child_process';

const SCRIPT = `
const net = require('node:net');
const [url, body, count, gapMs] = JSON.parse(process.argv[1]);
const u = new URL(url);
const req = 'POST ' + u.pathname + ' HTTP/1.1\\r\\nHost: ' + u.host + '\\r\\nContent-Type: application/json\\r\\nContent-Length: ' + Buffer.byteLength(body) + '\\r\\nConnection: close\\r\\n\\r\\n' + body;
const residuals = [];
let done = 0;
const one = () => {
  const s = net.connect(Number(u.port), u.hostname);
  s.setNoDelay(true);
  let text = '';
  let sentAt = 0;
  let firstAt = -1;
  s.on('connect', () => { sentAt = performance.now(); s.write(req); });
  s.on('data', (c) => {
    const t = performance.now();
    text += c.toString('latin1');
    if (firstAt < 0 && /"content":"[^"]/.test(text)) firstAt = t;
  });
  s.on('close', () => {
    const m = /first_token;dur=([0-9.]+)/.exec(text);
    if (m && firstAt >= 0) residuals.push(firstAt - sentAt - Number(m[1]));
    if (++done === count) process.stdout.write(JSON.stringify(residuals));
  });
};
for (let i = 0; i < count; i++) setTimeout(one, 50 + i * gapMs);
`;

/** The bare reader's residuals (ms), one per request whose first content event and trailer it read. */
export function bareStreamResiduals(url: string, body: object, count: number, gapMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SCRIPT, JSON.stringify([url, JSON.stringify(body), count, gapMs])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out || '[]') as number[]) : reject(new Error(`bare stream reader exited ${code}`))));
  });
}

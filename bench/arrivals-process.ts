/**
 * A loopback HTTP server that logs the arrival time of every request (performance.now() when the
 * request's headers are parsed) and answers at once with a tiny JSON body: the one server every tool
 * is measured against in the peer section. Run in its own process so that no tool shares its loop.
 *
 * stdout: `listening on http://127.0.0.1:PORT`, then one JSON line per `dump` command.
 * stdin commands, one a line: `reset` (forget arrivals), `dump` (print them as a JSON array, in ms).
 */
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

let arrivals = new Float64Array(1 << 16);
let n = 0;
const body = '{"ok":true}';

const server = createServer((req, res) => {
  if (n === arrivals.length) {
    const grown = new Float64Array(arrivals.length * 2);
    grown.set(arrivals);
    arrivals = grown;
  }
  arrivals[n++] = performance.now();
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.maxRequestsPerSocket = 0;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  if (a && typeof a === 'object') process.stdout.write(`listening on http://127.0.0.1:${a.port}\n`);
});

createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'reset') {
    n = 0;
    process.stdout.write('ok\n');
  } else if (cmd === 'dump') {
    process.stdout.write(`${JSON.stringify(Array.from(arrivals.subarray(0, n)))}\n`);
  }
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => process.exit(0));

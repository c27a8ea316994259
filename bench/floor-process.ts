/**
 * The Node.js floor as its own process, for the peer section: bench/floor.ts's raw sender (sockets
 * opened before t = 0, one prebuilt request, the paced driver's wake-up rule, nothing parsed or
 * recorded) at RATE/s for DURATION_MS against URL, no warm-up, at most 2,000 connections, as vegeta
 * (-max-workers 2000) and budgetgate (maxInFlight: 2000) run there.
 * What the arrival server logs for it is what any Node sender on this machine could do: when it too
 * is behind vegeta, the gap is the runtime's, not budgetgate's.
 *
 *   node --import tsx bench/floor-process.ts URL RATE DURATION_MS
 */
import { measureFloor } from './floor.js';

const [url, rate, durationMs] = process.argv.slice(2);
if (!url || !rate || !durationMs) throw new Error('usage: floor-process.ts URL RATE DURATION_MS');
const body = JSON.stringify({ model: 'peer', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
const r = await measureFloor({ url, body, rate: Number(rate), warmupMs: 0, durationMs: Number(durationMs), maxConnections: 2000 });
// what arrived is the arrival server's to say (its log is the measure): answers still missing 10 s
// after the last send (a socket the overloaded server reset) are reported, not fatal
process.stderr.write(`floor: sent ${r.sent}, answered ${r.completed}\n`);
process.exit(0);

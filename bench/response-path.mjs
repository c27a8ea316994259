/**
 * CPU per response of budgetgate's own response path, without sockets, in the compiled code the CLI
 * runs (dist/: `npm run build` first): Server-Timing extraction, interpretResponse with the body as
 * bytes (usage only) and as text (full parse), Recorder.completed and .sent, the JSON scans. Plain node, no tsx.
 * ROOT picks the checkout, so two builds can be measured one after the other:
 *
 *   node bench/response-path.mjs
 *   ROOT=../other-checkout node bench/response-path.mjs
 */
import { fileURLToPath } from 'node:url';
const ROOT = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url));
const { Recorder } = await import(`${ROOT}/dist/core/recorder.js`);
const { planSchedule } = await import(`${ROOT}/dist/core/schedule.js`);
const { compileTimings } = await import(`${ROOT}/dist/core/timing.js`);
const { interpretResponse } = await import(`${ROOT}/dist/core/response.js`);
const plan = planSchedule([{ name: 'closed', durationMs: 10000, model: 'closed', rate: 0, to: 0, concurrency: 50, concurrencyTo: 50, warmup: false }]);
const rec = new Recorder(plan.phases);
const extractor = compileTimings({ serverTiming: true, headers: {} }, undefined, []);
const headers = ['Content-Type','application/json','x-route','primary','x-queue-time','0.012','server-timing','queue;dur=0.012, prefill;dur=1.002, decode;dur=0.000','Date','Tue, 01 Dec 2026 22:00:00 GMT','Connection','keep-alive','Keep-Alive','timeout=65','Content-Length','301'];
const body = Buffer.from(JSON.stringify({id:'chatcmpl-sim-1',object:'chat.completion',created:1,model:'sim',choices:[{index:0,message:{role:'assistant',content:'lorem ipsum dolo'},finish_reason:'length'}],usage:{prompt_tokens:3,completion_tokens:8,total_tokens:11}}));
const N = 300000;
function run(name, f) {
  for (let i = 0; i < 20000; i++) f(i);
  const c0 = process.cpuUsage(); for (let i = 0; i < N; i++) f(i); const c = process.cpuUsage(c0);
  console.log(name.padEnd(28), ((c.user + c.system) * 1000 / N).toFixed(0), 'ns/op');
}
run('extract', () => extractor.extract(headers, undefined, { json: undefined }));
run('interpret (bytes body)', (i) => interpretResponse({ arrival: { t: i * 0.03 }, headers }, 200, i * 0.03 + 2, body, { extractor }));
run('interpret (text body)', (i) => interpretResponse({ arrival: { t: i * 0.03 }, headers }, 200, i * 0.03 + 2, body.toString(), { extractor }));
const m = interpretResponse({ arrival: { t: 0 }, headers }, 200, 2, body, { extractor });
run('recorder.completed', (i) => rec.completed(0, i * 0.03, i * 0.03 + 2, m));
run('recorder.sent', (i) => rec.sent(0, i * 0.03, i * 0.03, false));
run('JSON.parse body', () => JSON.parse(body.toString()));
const { bodyUsageTokens, usageTokens } = await import(`${ROOT}/dist/core/tokens.js`);
if (bodyUsageTokens) {
  run('bodyUsageTokens', () => bodyUsageTokens(body));
  const { ChunkScanner } = await import(`${ROOT}/dist/core/stream-scan.js`);
  const sc = new ChunkScanner('completions');
  run('scan only', () => sc.scan(body, 0, body.length));
  const bodyScan = await import(`${ROOT}/dist/core/body-scan.js`).catch(() => undefined);
  if (bodyScan) run('body scan only', () => bodyScan.scanBody(body, 0, body.length));
  const u8 = new Uint8Array(body);
  run('scan only (Uint8Array)', () => sc.scan(u8, 0, u8.length));
}
run('parse+usageTokens', () => usageTokens(JSON.parse(body.toString())));

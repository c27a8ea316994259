/**
 * The `goodput` section: `goodput: { ttft: 500ms, tpot: 50ms, total: 5s }`, per-request limits,
 * stage → duration. A request is good when it succeeded and met every one. tokens_per_s is a rate,
 * not a duration, so it has no place here.
 */
import { STREAM_STAGES, TOKENS_PER_S_STAGE } from '../stages.js';
import { parseDuration } from '../units.js';
import { DURATION_EXAMPLE, streamOnly } from './fields.js';
import type { Problems } from './problems.js';
import { absent, child, isObj, isStageName } from './values.js';

export function checkGoodput(v: unknown, stream: boolean, p: Problems): Record<string, number> {
  if (absent(v)) return {};
  if (!isObj(v)) {
    p.expected('goodput', 'a mapping of stages to limits like { ttft: 500ms, tpot: 50ms, total: 5s }', v);
    return {};
  }
  const out: [string, number][] = [];
  for (const [stage, limit] of Object.entries(v)) {
    const path = child('goodput', stage);
    if (!isStageName(stage) || stage === TOKENS_PER_S_STAGE) {
      p.add(path, `'${stage}' is not a stage with a duration`);
      continue;
    }
    if (!stream && STREAM_STAGES.includes(stage)) {
      p.add(path, streamOnly(stage));
      continue;
    }
    const ms = parseDuration(limit);
    if (ms !== undefined && ms > 0) out.push([stage, ms]);
    else p.expected(path, DURATION_EXAMPLE, limit);
  }
  if (Object.keys(v).length === 0) p.add('goodput', 'expected at least one stage limit like { ttft: 500ms }, got none');
  return Object.fromEntries(out);
}

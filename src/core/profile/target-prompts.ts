/**
 * `target.dataset` (prompts from a JSONL file) and `target.prompts` (generated prompts): the two
 * ways a request's prompt varies. At most one of them; both need a mapping body to go into.
 */
import type { Prompts, Target } from '../profile-types.js';
import { DATASET_KEYS, PROMPTS_KEYS, PROMPT_TOKENS_KEYS } from './keys.js';
import type { Problems } from './problems.js';
import { absent, isObj, own, type Obj } from './values.js';

// Synthetic prompt lengths: a prompt of more tokens than this is a typo, and would be megabytes.
const MAX_PROMPT_TOKENS = 1_000_000;

/** `dataset: FILE` / `dataset: { file, order }` → file prompts; `prompts: { tokens: {...} }` → synthetic. */
export function checkPrompts(v: Obj, target: Target, p: Problems): Prompts | undefined {
  const dataset = own(v, 'dataset');
  const prompts = own(v, 'prompts');
  if (absent(dataset) && absent(prompts)) return undefined;
  if (!absent(dataset) && !absent(prompts)) {
    p.add('target', "expected 'dataset' (prompts from a file) or 'prompts' (generated), not both");
    return undefined;
  }
  // Prompts go into the body's messages or prompt, so there must be a JSON mapping to put them in.
  if (!isObj(target.body)) {
    p.add(absent(dataset) ? 'target.prompts' : 'target.dataset', 'prompts need a target.body mapping (an OpenAI chat or completions request) to go into');
  }
  if (!absent(dataset)) return checkDataset(dataset, p);
  return checkSynthetic(prompts, p);
}

function checkDataset(v: unknown, p: Problems): Prompts | undefined {
  const path = 'target.dataset';
  let file: unknown = v;
  let order: unknown;
  if (isObj(v)) {
    p.unknownKeys(path, v, DATASET_KEYS);
    file = own(v, 'file');
    order = own(v, 'order');
  }
  const filePath = isObj(v) ? `${path}.file` : path;
  let okFile: string | undefined;
  if (typeof file === 'string' && file.trim() !== '') okFile = file;
  else p.expected(filePath, 'a JSONL file path like "data/prompts.jsonl" (relative to the profile)', file);
  let okOrder: 'round-robin' | 'random' = 'round-robin';
  if (!absent(order)) {
    if (order === 'round-robin' || order === 'random') okOrder = order;
    else {
      p.expected(`${path}.order`, 'round-robin or random', order);
      return undefined;
    }
  }
  return okFile === undefined ? undefined : { kind: 'file', file: okFile, order: okOrder };
}

/**
 * Token lengths of generated prompts: `mean` required; `stddev` default 0; `min` default 1; `max`
 * default ⌈mean + 4·stddev⌉. Whole numbers of tokens except mean and stddev; min ≤ mean ≤ max.
 */
function checkSynthetic(v: unknown, p: Problems): Prompts | undefined {
  const path = 'target.prompts';
  if (!isObj(v)) {
    p.expected(path, 'a mapping like { tokens: { mean: 512, stddev: 128, min: 16, max: 2048 } }', v);
    return undefined;
  }
  p.unknownKeys(path, v, PROMPTS_KEYS);
  const t = own(v, 'tokens');
  const tp = `${path}.tokens`;
  if (!isObj(t)) {
    p.expected(tp, 'a mapping like { mean: 512, stddev: 128, min: 16, max: 2048 }', t);
    return undefined;
  }
  const tokens = checkTokenLengths(t, tp, p);
  if (tokens === undefined) return undefined;
  return { kind: 'synthetic', tokens };
}

/** A token-length distribution `{ mean, stddev, min, max }` at `tp` (target.prompts.tokens, a phase's sessions.tokens). */
export function checkTokenLengths(t: Obj, tp: string, p: Problems): { mean: number; stddev: number; min: number; max: number } | undefined {
  p.unknownKeys(tp, t, PROMPT_TOKENS_KEYS);
  const num = (key: string, whole: boolean, min: number, dflt: number | undefined): number | undefined => {
    const x = own(t, key);
    if (absent(x) && dflt !== undefined) return dflt;
    if (typeof x === 'number' && Number.isFinite(x) && x >= min && x <= MAX_PROMPT_TOKENS && (!whole || Number.isInteger(x))) return x;
    p.expected(`${tp}.${key}`, `${whole ? 'a whole number' : 'a number'} of tokens from ${min} to ${MAX_PROMPT_TOKENS}`, x);
    return undefined;
  };
  const mean = num('mean', false, 1, undefined);
  const stddev = num('stddev', false, 0, 0);
  const min = num('min', true, 1, 1);
  const max = num('max', true, 1, mean === undefined || stddev === undefined ? 1 : Math.ceil(mean + 4 * stddev));
  if (mean === undefined || stddev === undefined || min === undefined || max === undefined) return undefined;
  if (!(min <= mean && mean <= max)) {
    p.add(tp, `expected min ≤ mean ≤ max, got min ${min}, mean ${mean}, max ${max}`);
    return undefined;
  }
  return { mean, stddev, min, max };
}

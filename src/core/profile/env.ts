/**
 * `${VAR}` substitution over the whole parsed document, before any section is checked, so every
 * string anywhere (url, headers, body) may use it. `$${` is the escape for a literal `${` (as in
 * docker compose). An unset variable is a problem at that value's path.
 */
import type { Problems } from './problems.js';
import { child, isObj } from './values.js';

export type EnvLookup = (name: string) => string | undefined;

// Guards the env walk against cyclic YAML aliases and absurd nesting; real profiles are a few levels deep.
const MAX_DEPTH = 64;

const VAR_REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function substituteEnv(doc: unknown, env: EnvLookup, problems: Problems): unknown {
  return substitute(doc, '', env, problems, 0);
}

function substitute(v: unknown, path: string, env: EnvLookup, problems: Problems, depth: number): unknown {
  if (typeof v === 'string') return substituteString(v, path, env, problems);
  if (depth >= MAX_DEPTH) {
    if (Array.isArray(v) || isObj(v)) problems.add(path, `nested more than ${MAX_DEPTH} levels deep`);
    return v;
  }
  if (Array.isArray(v)) return v.map((item, i) => substitute(item, `${path}[${i}]`, env, problems, depth + 1));
  if (isObj(v)) {
    // fromEntries defines own properties, so a "__proto__" key stays data instead of a prototype.
    return Object.fromEntries(
      Object.entries(v).map(([k, item]) => [k, substitute(item, child(path, k), env, problems, depth + 1)]),
    );
  }
  return v;
}

function substituteString(v: string, path: string, env: EnvLookup, problems: Problems): string {
  if (!v.includes('${')) return v;
  return v.replace(VAR_REF, (whole, name: string | undefined) => {
    if (name === undefined) return '${';
    const value = env(name);
    if (value === undefined) {
      problems.env(path, name);
      return whole;
    }
    return value;
  });
}

/**
 * Server-Timing header parsing (W3C Server Timing, "The Server-Timing Header Field").
 *
 * Grammar (RFC 9110 ABNF, as the spec gives it):
 *
 *   Server-Timing             = #server-timing-metric
 *   server-timing-metric      = metric-name *( OWS ";" OWS server-timing-param )
 *   metric-name               = token
 *   server-timing-param       = server-timing-param-name OWS "=" OWS server-timing-param-value
 *   server-timing-param-name  = token                  ; case-insensitive
 *   server-timing-param-value = token / quoted-string
 *
 *   token         = 1*tchar
 *   tchar         = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *                   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE      ; `\x` stands for x
 *   OWS           = *( SP / HTAB )
 *   #element      = [ element ] *( OWS "," OWS [ element ] )     ; empty elements allowed
 *
 * Parameters we read (the first occurrence of each wins, later ones are ignored, as are unknown ones):
 *
 *   dur  = number   ; milliseconds by convention; a missing or unparseable dur is 0
 *   desc = text     ; default ""
 *   number = [ "-" ] ( 1*DIGIT [ "." *DIGIT ] / "." 1*DIGIT ) [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 *
 * Error recovery (input comes from servers we are load-testing, so garbage must cost a metric, never
 * the run; nothing here throws). Where the W3C text is silent this follows Chromium's
 * ParseServerTimingHeader and its tests (blink http_parsers_test.cc; the same rows are in the web
 * platform tests, server-timing/resources/parsing/):
 *   - a metric with an empty name (`;dur=1`, `é;dur=1`) is skipped up to the next "," outside a
 *     quoted string: there is no name to record it under.
 *   - junk right after a metric name (`metric==  ""foo;dur=1`, `a b;dur=1`, `a=;dur=1`) is skipped up
 *     to the next ";" or ","; the metric keeps its name and the parameters after the junk, and the
 *     metrics after it are read as usual (Chromium: `metric==   ""foo;dur=123.4` → metric, 123.4).
 *   - junk after a parameter value (`dur=12 garbage`) is skipped up to the next ";" or "," (the spec's
 *     "collect code points that are not ; or ,").
 *   - in all junk a quoted string is skipped whole, so its commas never split metrics.
 *   - a parameter name followed by something other than "=", ";" or "," is ignored with its junk.
 *   - an unterminated quoted string consumes the rest of the input and its value is empty, whatever
 *     it held (Chromium: `metric;desc="\` → "", `metric;desc="\"` → ""): a value the server never
 *     finished is not evidence, so an unterminated `dur` is garbled, not the digits so far.
 *   - `dur` is stricter than HTML's float rules: `dur=12ms` is garbled (0), not 12. A budget gate
 *     should not guess at units.
 */

export interface ServerTimingMetric {
  name: string;
  dur: number;
  desc: string;
}

/**
 * `hasDur`: the metric carried a `dur` parameter (even an empty or garbled one).
 * `durValid`: that `dur` was a finite, non-negative number. Stages need the distinction because a
 * garbled duration must count as unmeasured, not as a 0 ms stage that flatters the percentiles.
 */
export interface ParsedMetric extends ServerTimingMetric {
  durValid: boolean;
  hasDur: boolean;
}

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const SEMI = 0x3b;
const EQ = 0x3d;
const BACKSLASH = 0x5c;

const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[ch.charCodeAt(0)] = 1;
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** See `number` in the grammar above. Anchored, so `12ms`, `0x10`, `Infinity` and `` all fail. */
const DECIMAL_MS = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** POW10[k] = 10^k, exact in binary64 for k ≤ 22 */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * s[start, end) as a `number` of the grammar, read from its characters without a slice or a regex for
 * the common form `[-] digits [. digits]` of at most 15 digits; NaN when it is not a number; the
 * regex and Number() for anything else (an exponent, more digits).
 *
 * Exact: with the digits read as the integer M (M < 10^15 < 2^53, so exact) and k of them after the
 * point, the value is M ÷ 10^k, both operands exact (10^k is for k ≤ 22), and IEEE division rounds
 * the quotient once, correctly: the same double Number() gives the decimal string (Clinger's fast path).
 */
function durNumber(s: string, start: number, end: number): number {
  let i = start;
  const neg = i < end && s.charCodeAt(i) === 0x2d;
  if (neg) i++;
  let m = 0;
  let digits = 0;
  let frac = -1; // digits after the point, once one is seen
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 0x2e && frac < 0) frac = 0;
    else break;
  }
  if (i === end && digits > 0 && digits <= 15) {
    const v = frac > 0 ? m / (POW10[frac] as number) : m;
    return neg ? -v : v;
  }
  const text = s.slice(start, end);
  return DECIMAL_MS.test(text) ? Number(text) : Number.NaN;
}

function skipOws(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

// Module-level scratch instead of returning a [value, end] tuple: this runs once per response.
let quotedEnd = 0;
/** whether the last readQuoted found its closing quote */
let quotedClosed = false;

/**
 * `i` is at the opening quote. Sets `quotedEnd` to just past the closing quote (or to the end) and
 * `quotedClosed`; an unterminated string reads as "" (see the module comment).
 */
function readQuoted(s: string, i: number): string {
  const n = s.length;
  let out = '';
  let start = i + 1;
  let j = start;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === DQUOTE) {
      quotedEnd = j + 1;
      quotedClosed = true;
      return out + s.slice(start, j);
    }
    if (c === BACKSLASH) {
      out += s.slice(start, j);
      j += 2;
      if (j > n) break; // a lone trailing backslash: unterminated
      out += s[j - 1];
      start = j;
      continue;
    }
    j++;
  }
  quotedEnd = n;
  quotedClosed = false;
  return '';
}

/** Skips to the next `stopAtSemi ? ";" or "," : ","` that is outside a quoted string. */
function skipJunk(s: string, i: number, stopAtSemi: boolean): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === COMMA || (stopAtSemi && c === SEMI)) return i;
    if (c === DQUOTE) {
      readQuoted(s, i);
      i = quotedEnd;
    } else {
      i++;
    }
  }
  return i;
}

/** Case-insensitive comparison of s[start, end) with a lower-case ASCII word, without allocating. */
function isParam(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    if ((s.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** Parses every metric, keeping whether `dur` was present and valid. Never throws. */
export function parseServerTimingDetailed(value: string): ParsedMetric[] {
  const out: ParsedMetric[] = [];
  if (typeof value !== 'string') return out; // JS callers can hand us anything
  const s = value;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const lead = s.charCodeAt(i);
    if (lead === SP || lead === HTAB || lead === COMMA) {
      i++;
      continue;
    }
    const nameStart = i;
    while (i < n && isTchar(s.charCodeAt(i))) i++;
    const nameEnd = i;
    if (nameEnd === nameStart) {
      i = skipJunk(s, i, false);
      continue;
    }
    i = skipOws(s, i);
    if (i < n && s.charCodeAt(i) !== SEMI && s.charCodeAt(i) !== COMMA) i = skipJunk(s, i, true);
    const metric: ParsedMetric = {
      name: s.slice(nameStart, nameEnd),
      dur: 0,
      desc: '',
      hasDur: false,
      durValid: false,
    };
    let hasDesc = false;
    while (i < n && s.charCodeAt(i) === SEMI) {
      i = skipOws(s, i + 1);
      const pStart = i;
      while (i < n && isTchar(s.charCodeAt(i))) i++;
      const pEnd = i;
      i = skipOws(s, i);
      const c = i < n ? s.charCodeAt(i) : -1;
      // the value: a quoted string (pvalue), or a token [vStart, vEnd) sliced only when it is read as text
      let pvalue: string | undefined;
      let vStart = i;
      let vEnd = i;
      if (c === EQ) {
        i = skipOws(s, i + 1);
        if (i < n && s.charCodeAt(i) === DQUOTE) {
          pvalue = readQuoted(s, i);
          i = quotedEnd;
        } else {
          vStart = i;
          while (i < n && isTchar(s.charCodeAt(i))) i++;
          vEnd = i;
        }
        i = skipJunk(s, i, true);
      } else if (c === SEMI || c === COMMA || c === -1) {
        pvalue = ''; // `metric;dur`: present without a value, which the spec reads as 0
      } else {
        i = skipJunk(s, i, true);
        continue;
      }
      if (!metric.hasDur && isParam(s, pStart, pEnd, 'dur')) {
        metric.hasDur = true;
        const num = pvalue === undefined ? durNumber(s, vStart, vEnd) : DECIMAL_MS.test(pvalue) ? Number(pvalue) : Number.NaN;
        if (Number.isFinite(num)) {
          // -0 would survive `>= 0` and then print as "-0" in reports.
          metric.dur = num === 0 ? 0 : num;
          metric.durValid = num >= 0;
        }
      } else if (!hasDesc && isParam(s, pStart, pEnd, 'desc')) {
        hasDesc = true;
        metric.desc = pvalue ?? s.slice(vStart, vEnd);
      }
    }
    out.push(metric);
  }
  return out;
}

/** W3C processing model: every metric with a token name, `dur` (or 0) and `desc` (or ""). Never throws. */
export function parseServerTiming(value: string): ServerTimingMetric[] {
  const detailed = parseServerTimingDetailed(value);
  const out: ServerTimingMetric[] = new Array(detailed.length);
  for (let k = 0; k < detailed.length; k++) {
    const m = detailed[k]!;
    out[k] = { name: m.name, dur: m.dur, desc: m.desc };
  }
  return out;
}

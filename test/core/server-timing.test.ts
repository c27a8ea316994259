import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseServerTiming,
  parseServerTimingDetailed,
  type ParsedMetric,
} from '../../src/core/server-timing.js';

type Row = [label: string, input: string, expected: ParsedMetric[]];

function m(name: string, dur: number, desc = '', hasDur = true, durValid = hasDur): ParsedMetric {
  return { name, dur, desc, hasDur, durValid };
}
const noDur = (name: string, desc = ''): ParsedMetric => m(name, 0, desc, false, false);
const badDur = (name: string, dur = 0, desc = ''): ParsedMetric => m(name, dur, desc, true, false);

const cases: Row[] = [
  ['happy: simple', 'a;dur=1.2', [m('a', 1.2)]],
  ['happy: several metrics', 'queue;dur=12.5;desc="wait", infer;dur=80', [m('queue', 12.5, 'wait'), m('infer', 80)]],
  ['happy: OWS around ; = and ,', 'a ; dur = 3 ;\tdesc = x ,\tb;dur=4', [m('a', 3, 'x'), m('b', 4)]],
  ['happy: repeated params: first dur and first desc win', 'a;dur=1;desc=x;dur=2;desc=y', [m('a', 1, 'x')]],
  ['happy: param names are case-insensitive', 'a;DUR=3;Desc=hi', [m('a', 3, 'hi')]],
  ['happy: first dur wins even spelled differently', 'a;Dur=5;dur=6', [m('a', 5)]],
  ['happy: quoted desc with escapes', 'a;desc="a \\"b\\" \\\\c"', [noDur('a', 'a "b" \\c')]],
  ['happy: quoted string holding , and ;', 'a;desc="x, y; z";dur=1, b', [m('a', 1, 'x, y; z'), noDur('b')]],
  ['happy: dur as a quoted string', 'a;dur="12"', [m('a', 12)]],
  ['happy: exponent dur', 'a;dur=1.5e2', [m('a', 150)]],
  ['happy: leading-dot and trailing-dot dur', 'a;dur=.5,b;dur=5.', [m('a', 0.5), m('b', 5)]],
  ['happy: metric without params', 'cache', [noDur('cache')]],
  ['happy: unknown params ignored', 'a;foo=bar;dur=2;x="q,r"', [m('a', 2)]],
  ['happy: repeated metric names all kept', 'a;dur=1, a;dur=2', [m('a', 1), m('a', 2)]],
  ['happy: token chars in name', "x-y.z!#$%&'*+^_`|~9;dur=1", [m("x-y.z!#$%&'*+^_`|~9", 1)]],
  ['happy: empty list elements', ', ,a;dur=1,,', [m('a', 1)]],
  ['happy: -0 normalised to 0', 'a;dur=-0', [m('a', 0)]],
  ['sad: junk after a value is skipped', 'a;dur=12 garbage;desc=x', [m('a', 12, 'x')]],
  ['sad: junk after a quoted value is skipped', 'a;desc="d"junk;dur=7', [m('a', 7, 'd')]],
  ['sad: junk holding a quoted comma does not split', 'a;dur=1 x"y,z";desc=q, b', [m('a', 1, 'q'), noDur('b')]],
  ['sad: missing name', ';dur=1', []],
  ['sad: missing name, next metric kept', ';dur=1, b;dur=2', [m('b', 2)]],
  ['sad: invalid-name skip respects quotes', 'é;desc="x, y", c;dur=2', [m('c', 2)]],
  ['sad: empty string', '', []],
  ['sad: only commas and whitespace', ' ,\t, ,, ', []],
  ['sad: unicode garbage', '💥;dur=1, ü, a;dur=2;desc=é', [m('a', 2)]],
  ['sad: dur= empty', 'a;dur=', [badDur('a')]],
  ['sad: dur= empty before next param', 'a;dur=;desc=x', [badDur('a', 0, 'x')]],
  ['sad: dur without =', 'a;dur', [badDur('a')]],
  ['sad: negative dur is a number but not valid', 'a;dur=-3', [badDur('a', -3)]],
  ['sad: NaN dur', 'a;dur=NaN', [badDur('a')]],
  ['sad: Infinity dur', 'a;dur=Infinity', [badDur('a')]],
  ['sad: overflowing dur', 'a;dur=1e400', [badDur('a')]],
  ['sad: dur with a unit', 'a;dur=12ms', [badDur('a')]],
  ['sad: hex dur', 'a;dur=0x10', [badDur('a')]],
  ['sad: garbled first dur still wins', 'a;dur=abc;dur=5', [badDur('a')]],
  ['sad: param name followed by junk is ignored', 'a;dur x=5;dur=6', [m('a', 6)]],
  ['sad: empty param name', 'a;=5;;dur=1;', [m('a', 1)]],
  ['sad: leading newline is not OWS', '\na;dur=1, b;dur=2', [m('b', 2)]],
  // Recovery where the W3C text is silent, as Chromium's ParseServerTimingHeader does it
  // (blink http_parsers_test.cc, "extraneous characters after entry name token" and
  // "quoted-strings - others"; the same rows are in the web platform tests server-timing/resources/parsing/).
  ['sad: junk right after a name keeps the metric and its later params (Chromium)', 'metric==   ""foo;dur=123.4', [m('metric', 123.4)]],
  ['sad: junk right after a name keeps the metrics after it (Chromium)', 'metric1==   ""foo,metric2', [noDur('metric1'), noDur('metric2')]],
  ['sad: "=" right after a name is junk, the metric is kept', 'metric=;dur=123.4, ok', [m('metric', 123.4), noDur('ok')]],
  ['sad: a second word after a name is junk up to ";"', 'a b;dur=1, c;dur=2', [m('a', 1), m('c', 2)]],
  ['sad: junk after a name holding a quoted comma does not split', 'a="x,y";dur=3, b', [m('a', 3), noDur('b')]],
  ['sad: unterminated quote: the value is empty and the rest is consumed (Chromium)', 'a;desc="abc, b;dur=1', [noDur('a')]],
  ['sad: unterminated quote ending in an escape is empty (Chromium: metric;desc="\\ → "")', 'a;desc="ab\\', [noDur('a')]],
  ['sad: unterminated quote that is only an escape is empty', 'metric;desc="\\', [noDur('metric')]],
  ['sad: unterminated quote ending in an escaped quote is empty', 'metric;desc="\\"', [noDur('metric')]],
  ['sad: unterminated quote ending in an escaped backslash is empty', 'metric;desc="\\\\', [noDur('metric')]],
  ['happy: a closed quote holding an escaped backslash', 'metric;desc="\\\\"', [noDur('metric', '\\')]],
  ['happy: a closed quote holding an escaped quote', 'metric;desc="\\""', [noDur('metric', '"')]],
  ['sad: an unterminated quoted dur is garbled, not its digits', 'a;dur="12', [badDur('a')]],
];

describe('parseServerTimingDetailed', () => {
  it.each(cases)('%s: %j', (_label, input, expected) => {
    expect(parseServerTimingDetailed(input)).toEqual(expected);
  });
});

describe('parseServerTiming', () => {
  it('happy: exposes only name, dur and desc', () => {
    expect(parseServerTiming('a;dur=1;desc=x, b')).toStrictEqual([
      { name: 'a', dur: 1, desc: 'x' },
      { name: 'b', dur: 0, desc: '' },
    ]);
  });
  it('sad: spec values for invalid durs: the number if finite, else 0', () => {
    expect(parseServerTiming('a;dur=-3, b;dur=NaN, c;dur=').map((x) => x.dur)).toEqual([-3, 0, 0]);
  });
  it('sad: never throws on a non-string from untyped callers', () => {
    expect(parseServerTiming(undefined as unknown as string)).toEqual([]);
  });
});

// ---- properties ----

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const isToken = (s: string) => s.length > 0 && [...s].every((c) => TCHARS.includes(c));

// Plain booleans, not expect(): expect() per metric made 20k runs take seconds.
function invariantsHold(input: string): boolean {
  return parseServerTimingDetailed(input).every(
    (x) => isToken(x.name) && Number.isFinite(x.dur) && (!x.durValid || (x.hasDur && x.dur >= 0)),
  );
}

describe('parseServerTiming properties', () => {
  it('never throws on arbitrary strings; names are tokens, durs finite', () => {
    // 'binary' units would add lone surrogates but cost ~4 s per 10k runs; graphemes cover non-ASCII.
    const anyString = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
    fc.assert(fc.property(anyString, invariantsHold), { numRuns: 10_000 });
  });

  it('never throws on Server-Timing-ish strings', () => {
    const stish = fc.string({ unit: fc.constantFrom(...'a;dur=,"\\ 1.5e-\tD'), maxLength: 40 });
    fc.assert(fc.property(stish, invariantsHold), { numRuns: 12_000 });
  });

  it('reads every dur exactly as the grammar and Number() do (the no-regex path included; seed printed on failure)', () => {
    const GRAMMAR = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
    const reference = (v: string): number => (GRAMMAR.test(v) ? Number(v) : Number.NaN);
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 18 });
    const numberish = fc.oneof(
      fc.tuple(fc.constantFrom('', '-', '+', '--'), digits, fc.constantFrom('', '.', '..'), digits, fc.constantFrom('', 'e3', 'E-2', 'ms', 'x')).map((p) => p.join('')),
      fc.double({ noNaN: true }).map(String),
      fc.string({ unit: fc.constantFrom(...'0123456789.-eE+'), maxLength: 20 }),
    );
    fc.assert(
      fc.property(numberish, (v) => {
        const want = reference(v);
        const [m] = parseServerTimingDetailed(`m;dur=${v}`);
        if (!m?.hasDur) return false;
        if (!Number.isFinite(want)) return !m.durValid && m.dur === 0;
        // -0 is reported as 0 (see the parser); a valid dur is the reference's double, bit for bit
        return m.dur === (want === 0 ? 0 : want) && Object.is(m.dur, want === 0 ? 0 : want) && m.durValid === want >= 0;
      }),
      { numRuns: 20_000 },
    );
  });

  interface Gen {
    name: string;
    dur: number | undefined;
    desc: string | undefined;
    descFirst: boolean;
    upper: boolean;
    ows: string;
  }
  const descArb = fc.oneof(
    fc.string({ unit: fc.constantFrom('"', '\\', ',', ';', '=', ' ', 'a', 'é', '\t') }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
  );
  const genArb: fc.Arbitrary<Gen> = fc.record({
    name: tokenArb,
    dur: fc.option(
      fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d)),
      { nil: undefined },
    ),
    desc: fc.option(descArb, { nil: undefined }),
    descFirst: fc.boolean(),
    upper: fc.boolean(),
    ows: fc.constantFrom('', ' ', '\t', ' \t '),
  });

  function serialise(g: Gen): string {
    const w = g.ows;
    const dur = g.dur === undefined ? [] : [`${g.upper ? 'DUR' : 'dur'}${w}=${w}${String(g.dur)}`];
    const desc =
      g.desc === undefined
        ? []
        : [`${g.upper ? 'DeSc' : 'desc'}${w}=${w}"${g.desc.replace(/[\\"]/g, (c) => `\\${c}`)}"`];
    const params = g.descFirst ? [...desc, ...dur] : [...dur, ...desc];
    return [g.name, ...params].join(`${w};${w}`);
  }

  it('round-trips serialised metrics exactly', () => {
    fc.assert(
      fc.property(fc.array(genArb, { maxLength: 5 }), fc.constantFrom(',', ', ', ' ,\t'), (gens, sep) => {
        const header = gens.map(serialise).join(sep);
        const expected: ParsedMetric[] = gens.map((g) => ({
          name: g.name,
          dur: g.dur ?? 0,
          desc: g.desc ?? '',
          hasDur: g.dur !== undefined,
          durValid: g.dur !== undefined,
        }));
        expect(parseServerTimingDetailed(header)).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });
});

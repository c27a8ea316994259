import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor, MIN_SECRET_LENGTH, redactDeep, referencedVariables, secretValues } from '../../src/core/redact.js';

describe('createRedactor', () => {
  it('happy: every occurrence of every secret becomes ***', () => {
    const r = createRedactor(['sk-live-123', 'hunter22']);
    expect(r('a sk-live-123 b sk-live-123 hunter22')).toBe('a *** b *** ***');
  });

  it('happy: the longest secret is replaced first, so no remainder of it shows', () => {
    const r = createRedactor(['abcd', 'abcdefgh']);
    expect(r('x abcdefgh y')).toBe('x *** y');
  });

  it('happy: JSON-escaped and URL-encoded spellings are replaced too', () => {
    const r = createRedactor(['pa"ss/wo rd']);
    expect(r(JSON.stringify({ v: 'pa"ss/wo rd' }))).toBe('{"v":"***"}');
    expect(r(`?x=${encodeURIComponent('pa"ss/wo rd')}`)).toBe('?x=***');
  });

  it(`sad: values shorter than ${MIN_SECRET_LENGTH} characters are not redacted (they would mangle the text)`, () => {
    const r = createRedactor(['on', '1', 'abc']);
    expect(r('connection 1 abc')).toBe('connection 1 abc');
  });

  it('happy: no secret leaves the redacted text, whatever the text (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: MIN_SECRET_LENGTH, maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.array(fc.string(), { maxLength: 5 }), (secrets, filler) => {
        const r = createRedactor(secrets);
        const text = filler.flatMap((f, i) => [f, secrets[i % secrets.length] as string]).join('|');
        const out = r(text);
        // a secret may still be spelled by *** and filler around it only if the filler itself contains it
        for (const s of secrets) if (!filler.some((f) => f.includes(s)) && !s.includes('*')) expect(out.includes(s)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('secretValues', () => {
  it('happy: credential headers (any case), their token part, ${VAR} values, --redact names and URL tokens', () => {
    const v = secretValues(
      { Authorization: 'Bearer tok-1234', 'X-Api-Key': 'key-5678', Cookie: 'sid=abcdef', 'content-type': 'application/json', 'x-tenant': 'tenant-9' },
      ['from-env-value'],
      { names: ['X-Tenant', 'MY_VAR'], env: (n) => (n === 'MY_VAR' ? 'var-value' : undefined), urls: ['https://u:pw-secret@h.example/x?api_key=q-token&model=llama&sig=s1gn4ture'] },
    );
    for (const s of ['Bearer tok-1234', 'tok-1234', 'key-5678', 'sid=abcdef', 'tenant-9', 'from-env-value', 'var-value', 'pw-secret', 'q-token', 's1gn4ture']) expect(v).toContain(s);
    expect(v).not.toContain('application/json');
    expect(v).not.toContain('llama');
  });

  it('sad: an unparseable URL and short values add nothing', () => {
    expect(secretValues({ authorization: 'x' }, ['ab'], { urls: ['not a url'] })).toEqual([]);
  });
});

describe('referencedVariables', () => {
  it('happy: ${NAME} references in order, once each; $${ is a literal', () => {
    expect(referencedVariables('a: ${A}\nb: "${B} ${A}"\nc: $${NOT}')).toEqual(['A', 'B']);
  });
});

describe('redactDeep', () => {
  it('happy: strings and keys are redacted, skipped keys are left as they are', () => {
    const r = createRedactor(['s3cret']);
    const out = redactDeep({ a: 'x s3cret', kinds: { 's3cret refused': 2 }, list: ['s3cret'], hdr: 'AAs3cretAA', n: 1 }, r, new Set(['hdr']));
    expect(out).toEqual({ a: 'x ***', kinds: { '*** refused': 2 }, list: ['***'], hdr: 'AAs3cretAA', n: 1 });
  });
});

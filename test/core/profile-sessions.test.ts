import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/core/profile/index.js';
import type { ProfileProblem } from '../../src/core/errors.js';

const chat = { body: { model: 'm', messages: [] } };
const doc = (phase: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'p', target: chat, phases: [{ name: 's', duration: '5s', rate: 2, ...phase }], ...extra });
const problems = (d: unknown): ProfileProblem[] => {
  const r = parseProfile(d, () => undefined);
  return r.ok ? [] : r.problems;
};

describe('phases[].sessions', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown]>([
    ['happy', { sessions: { turns: 3, thinkTime: '2s' } }, {}, { kind: 'generated', turns: 3, thinkTimeMs: 2000, tokens: { mean: 64, stddev: 0, min: 1, max: 64 } }],
    ['happy', { sessions: { turns: 2, tokens: { mean: 10, stddev: 2 } } }, {}, { kind: 'generated', turns: 2, thinkTimeMs: 0, tokens: { mean: 10, stddev: 2, min: 1, max: 18 } }],
    ['happy', { sessions: { turns: 2 } }, { target: { ...chat, prompts: { tokens: { mean: 20 } } } }, { kind: 'generated', turns: 2, thinkTimeMs: 0, tokens: { mean: 20, stddev: 0, min: 1, max: 20 } }],
    ['happy', { sessions: { file: 'c.jsonl', thinkTime: '500ms', order: 'random' } }, {}, { kind: 'file', file: 'c.jsonl', thinkTimeMs: 500, order: 'random' }],
    ['happy', { sessions: { file: 'c.jsonl' } }, {}, { kind: 'file', file: 'c.jsonl', thinkTimeMs: 0, order: 'round-robin' }],
  ])('%s: %j', (_l, phase, extra, sessions) => {
    const r = parseProfile(doc(phase, extra), () => undefined);
    expect(r.ok && r.profile.phases[0]?.sessions).toEqual(sessions);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['sad', doc({ sessions: { turns: 0 } }), 'phases[0].sessions.turns', /whole number of turns/],
    ['sad', doc({ sessions: {} }), 'phases[0].sessions.turns', /or file:/],
    ['sad', doc({ sessions: { turns: 2, thinkTime: 'soon' } }), 'phases[0].sessions.thinkTime', /duration/],
    ['sad', doc({ sessions: { file: 'c.jsonl', turns: 2 } }), 'phases[0].sessions.turns', /only for generated/],
    ['sad', doc({ sessions: { turns: 2, order: 'random' } }), 'phases[0].sessions.order', /only for sessions from a file/],
    ['sad', doc({ sessions: { file: '' } }), 'phases[0].sessions.file', /JSONL file/],
    ['sad', doc({ sessions: { turns: 2, tokens: { mean: 0 } } }), 'phases[0].sessions.tokens.mean', /tokens from 1/],
    ['sad', doc({ sessions: { turns: 2, turnz: 1 } }), 'phases[0].sessions', /unknown key 'turnz' — did you mean 'turns'/],
    ['sad', { name: 'p', target: chat, phases: [{ name: 's', duration: '5s', concurrency: 2, sessions: { turns: 2 } }] }, 'phases[0].sessions', /open phase/],
    ['sad', doc({ sessions: { turns: 2 } }, { target: { body: { model: 'm', prompt: 'x' } } }), 'phases[0].sessions', /chat target\.body/],
    ['sad', doc({ sessions: { turns: 2 } }, { target: {} }), 'phases[0].sessions', /chat target\.body/],
  ])('%s: %j → %s', (_l, d, path, message) => {
    expect(problems(d)).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('sad: every problem is listed at once, with its position', () => {
    const ps = problems({ name: 'p', target: chat, phases: [{ name: 'a', duration: '5s', rate: 2, sessions: { turns: -1, thinkTime: 'x' } }, { name: 'b', duration: '5s', rate: 2, sessions: { file: 3 } }] });
    expect(ps.map((p) => p.path)).toEqual(['phases[0].sessions.thinkTime', 'phases[0].sessions.turns', 'phases[1].sessions.file']);
  });
});

describe('budgets scoped to turn', () => {
  const withBudget = (b: Record<string, unknown>, stream = true): Record<string, unknown> => doc({ sessions: { turns: 3 } }, { target: { ...chat, stream }, budgets: [b] });
  it.each<[string, unknown, unknown]>([
    ['happy', 1, { from: 1, to: 1 }],
    ['happy', '2-3', { from: 2, to: 3 }],
    ['happy', ' 2 + ', { from: 2 }],
    ['happy', '4', { from: 4, to: 4 }],
  ])('%s: turn %j', (_l, turn, turns) => {
    const r = parseProfile(withBudget({ stage: 'ttft', p99: '1s', turn }), () => undefined);
    expect(r.ok && r.profile.budgets[0]).toMatchObject({ kind: 'latency', stage: 'ttft', turns });
  });

  it('happy: the id and the words name the turn', () => {
    const r = parseProfile(withBudget({ stage: 'total', p50: '1s', turn: '2+' }), () => undefined);
    expect(r.ok && r.profile.budgets[0]?.id).toBe('total{turn=2+} p50');
  });

  it.each<[string, unknown, string, RegExp]>([
    ['sad', withBudget({ stage: 'ttft', p99: '1s', turn: 0 }), 'budgets[0].turn', /turn number/],
    ['sad', withBudget({ stage: 'ttft', p99: '1s', turn: '3-2' }), 'budgets[0].turn', /turn number/],
    ['sad', withBudget({ stage: 'tpot', p99: '1s', turn: 2 }), 'budgets[0].turn', /ttft and total only/],
    ['sad', withBudget({ stage: 'ttft', p99: '1s', turn: 2, abortOnFail: true }), 'budgets[0].turn', /drop abortOnFail/],
    ['sad', { name: 'p', target: chat, phases: [{ name: 's', duration: '5s', rate: 2 }], budgets: [{ stage: 'total', p99: '1s', turn: 1 }] }, 'budgets[0].turn', /no phase has sessions/],
    ['sad', withBudget({ errorRate: '1%', turn: 1 }), 'budgets[0]', /unknown key 'turn'/],
  ])('%s: %j → %s', (_l, d, path, message) => {
    expect(problems(d)).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe('tokenizer', () => {
  const base = { name: 'p', phases: [{ name: 's', duration: '5s', rate: 2 }] };
  it.each<[string, unknown, unknown]>([
    ['happy', 'chars4', { kind: 'chars4' }],
    ['happy', 'cl100k_base', { kind: 'tiktoken', encoding: 'cl100k_base' }],
    ['happy', 'o200k_base', { kind: 'tiktoken', encoding: 'o200k_base' }],
    ['happy', { file: 'tok/tokenizer.json' }, { kind: 'file', file: 'tok/tokenizer.json' }],
    ['happy', undefined, undefined],
  ])('%s: %j', (_l, tokenizer, parsed) => {
    const r = parseProfile({ ...base, tokenizer }, () => undefined);
    expect(r.ok && r.profile.tokenizer).toEqual(parsed);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['sad', 'cl100k_bas', 'tokenizer', /expected chars4, cl100k_base, o200k_base or \{ file: tokenizer\.json \}, got "cl100k_bas" — did you mean 'cl100k_base'/],
    ['sad', { file: '' }, 'tokenizer.file', /tokenizer\.json path/],
    ['sad', { path: 'x' }, 'tokenizer', /unknown key 'path'/],
    ['sad', 3, 'tokenizer', /expected chars4/],
  ])('%s: %j → %s', (_l, tokenizer, path, message) => {
    expect(problems({ ...base, tokenizer })).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BudgetgateError, ProfileError } from '../src/core/errors.js';
import { parseProfile } from '../src/core/profile/index.js';
import type { Profile } from '../src/core/profile-types.js';
import { loadDataset } from '../src/dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'budgetgate-dataset-'));
writeFileSync(join(dir, 'good.jsonl'), '"one"\n{"prompt": "two", "max_tokens": 4}\n');
writeFileSync(join(dir, 'bad.jsonl'), '"one"\n{"prompt": 2}\n');
writeFileSync(join(dir, 'empty.jsonl'), '\n\n');

function profile(dataset?: string): Profile {
  const r = parseProfile({ name: 'd', target: { url: 'http://127.0.0.1:1/', body: { model: 'm', messages: [{ role: 'user', content: 'x' }] }, ...(dataset ? { dataset } : {}) }, phases: [{ name: 'p', duration: '1s', rate: 1 }] }, () => undefined);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.profile;
}

describe('loadDataset', () => {
  it('happy: a relative dataset is read from baseDir', async () => {
    expect(await loadDataset(profile('good.jsonl'), dir, 'p.yaml')).toEqual([{ prompt: 'one' }, { prompt: 'two', maxTokens: 4 }]);
  });

  it('happy: an absolute dataset ignores baseDir', async () => {
    expect(await loadDataset(profile(join(dir, 'good.jsonl')), '/nonexistent', 'p.yaml')).toHaveLength(2);
  });

  it('happy: no dataset → undefined, nothing read', async () => {
    expect(await loadDataset(profile(), '/nonexistent', 'p.yaml')).toBeUndefined();
  });

  it('sad: a missing file is a profile error naming the profile, the field and the file', async () => {
    const e = await loadDataset(profile('missing.jsonl'), dir, 'p.yaml').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BudgetgateError);
    expect((e as BudgetgateError).kind).toBe('profile');
    expect((e as Error).message).toMatch(/^p\.yaml: target\.dataset: cannot read .*missing\.jsonl \(ENOENT\)$/);
  });

  it('sad: a bad line is a profile error naming its line', async () => {
    const e = await loadDataset(profile('bad.jsonl'), dir, 'p.yaml').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProfileError);
    expect((e as Error).message).toMatch(/bad\.jsonl.*2/);
  });

  it('sad: a file of blank lines holds no prompts', async () => {
    const e = await loadDataset(profile('empty.jsonl'), dir, 'p.yaml').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProfileError);
    expect((e as Error).message).toMatch(/empty\.jsonl: no prompts/);
  });
});

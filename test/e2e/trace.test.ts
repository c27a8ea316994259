/**
 * The shipped trace profiles from the command line: `validate` prints each trace phase's plan
 * (records, span, mean rate) from its file, a bad trace is exit 2 naming file and line before
 * anything is sent, and a trace profile runs against the embedded simulated endpoint with per-phase
 * figures and budgets for the replay phase.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectVerdict, readReport, runCli, tempDir } from './cli.js';

describe('trace profiles from the CLI', () => {
  it.each([
    ['happy', 'trace-mooncake', /replay +2s +14\.87s +trace mooncake traces\/mooncake\.jsonl \(as recorded\): mean 4\.662\/s over 12\.87s +60/],
    ['happy', 'trace-bailian', /replay .*trace bailian traces\/bailian\.jsonl \(speed 2\): mean 2\.966\/s .* 22/],
    ['happy', 'trace-azure', /replay .*trace azure traces\/azure\.csv \(rescaled to 8\/s\): mean 8\/s over 3\.25s +26/],
    ['happy', 'trace-burstgpt', /replay .*trace burstgpt traces\/burstgpt\.csv \(as recorded\): mean 2\.5\/s over 12s +30/],
    ['happy', 'trace-prefix-shared', /replay .*mooncake-shared\.jsonl .* 24/],
    ['happy', 'trace-prefix-unshared', /replay .*mooncake-unshared\.jsonl .* 24/],
  ])('%s: validate profiles/%s.yaml prints the trace phase from its file', async (_l, name, line) => {
    const r = await runCli(['validate', `profiles/${name}.yaml`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(line);
  });

  it('sad: a bad trace record is exit 2 naming the file and line, for validate and run alike', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't.csv'), 'Timestamp,Model,Request tokens,Response tokens\n0,m,1,1\n1,m,x,1\n');
    writeFileSync(join(dir, 'p.yaml'), 'name: p\ntarget: { body: { messages: [] } }\nphases:\n  - { name: r, trace: { file: t.csv, format: burstgpt } }\n');
    for (const cmd of ['validate', 'run']) {
      const r = await runCli([cmd, join(dir, 'p.yaml')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${join(dir, 't.csv')}:3: expected "Request tokens" to be a whole number of tokens, got "x"`);
    }
  });

  it('happy: trace-azure.yaml runs against the embedded endpoint: the replay phase sends its 26 records, budgeted', async () => {
    const out = tempDir();
    const r = await runCli(['run', 'profiles/trace-azure.yaml', '--out', out], { timeoutMs: 60_000 });
    const report = readReport(out);
    expectVerdict(r.code, report, ['load delivered']);
    const replay = report.phases.find((p) => p.name === 'replay');
    expect(replay && [replay.scheduled, replay.sent, replay.completed, replay.rate]).toEqual([26, 26, 26, 8]);
    expect(report.budgets.find((b) => b.id === 'total{phase=replay} p50')?.samples).toBe(26);
  });
});

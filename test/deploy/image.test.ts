/**
 * The Dockerfile, checked without a Docker engine (none runs on these machines): its instructions are
 * parsed, everything it copies must exist in the package (or be made by its build stage), what runs in
 * the image must need only the package's runtime dependencies (the image prunes the dev ones), and the
 * entrypoint is executed the way the image would execute it, from a folder laid out as the final
 * stage lays out /app.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/cli.js';

type Instruction = { op: string; args: string; line: number };

/** Dockerfile instructions: comments dropped, `\` continuations joined, the keyword upper-cased. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const m = /^(\S+)\s*(.*)$/.exec(pending);
    if (m) out.push({ op: (m[1] ?? '').toUpperCase(), args: m[2] ?? '', line: start });
    pending = '';
  });
  return out;
}

/** Splits the instructions into stages at each FROM. */
function stages(ins: readonly Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const i of ins) {
    if (i.op === 'FROM') out.push([]);
    out.at(-1)?.push(i);
  }
  return out;
}

/** COPY's flags, sources and destination (the shell form: the last word is the destination). */
function copyArgs(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: rest.slice(0, -1), dest: rest.at(-1) ?? '' };
}

/** Bare module specifiers the built JavaScript imports, as package names. */
function runtimeImports(dir: string): Set<string> {
  const names = new Set<string>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js')) {
        const src = readFileSync(p, 'utf8');
        // static `import … from 'x'` / `export … from 'x'` (bindings only: names, braces, commas, *),
        // side-effect `import 'x'`, and dynamic `import('x')`
        for (const m of src.matchAll(/^(?:import|export)\s+[\w$*{},\s]*?\bfrom\s*'([^']+)'|^import\s+'([^']+)'|\bimport\('([^']+)'\)/gm)) {
          const spec = m[1] ?? m[2] ?? m[3] ?? '';
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const parts = spec.split('/');
          names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
        }
      }
    }
  };
  walk(dir);
  return names;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const [build = [], final = []] = stages(dockerfile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; files: string[]; bin: Record<string, string> };
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('happy: parses continuation lines and comments', () => {
    expect(parseDockerfile('# c\nFROM a AS b\nRUN x \\\n  && y\n\nUSER node\n')).toEqual([
      { op: 'FROM', args: 'a AS b', line: 2 },
      { op: 'RUN', args: 'x && y', line: 3 },
      { op: 'USER', args: 'node', line: 6 },
    ]);
  });

  it('happy: two stages on Node 20 slim, the final one non-root with tini as PID 1 running budgetgate', () => {
    expect(stages(dockerfile)).toHaveLength(2);
    for (const s of stages(dockerfile)) expect(s[0]?.args).toMatch(/^node:20-slim\b/);
    expect(build[0]?.args).toMatch(/\bAS build$/);
    const user = final.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(final.some((i) => i.op === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args))).toBe(true);
    const entry = JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')?.args ?? 'null') as string[];
    expect(entry.slice(0, 3)).toEqual(['tini', '-g', '--']);
    expect(entry.slice(3)).toEqual(['node', `/app/${pkg.bin.budgetgate}`]);
  });

  it('happy: every file the build context copies exists in the package and is not .dockerignore-d', () => {
    for (const i of dockerfile.filter((x) => x.op === 'COPY')) {
      const c = copyArgs(i.args);
      if (c.from) continue;
      for (const s of c.sources) {
        expect(existsSync(join(ROOT, s)), `line ${i.line}: ${s}`).toBe(true);
        expect(ignored, `line ${i.line}: ${s} is in .dockerignore`).not.toContain(s);
      }
    }
  });

  it('happy: what the final stage takes from the build stage is copied or made there', () => {
    const copiedInBuild = build.filter((i) => i.op === 'COPY').flatMap((i) => copyArgs(i.args).sources);
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    const made = new Map<string, boolean>([
      [tsconfig.compilerOptions.outDir, build.some((i) => i.op === 'RUN' && /npm run build/.test(i.args))],
      ['node_modules', build.some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args)) && build.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args))],
    ]);
    for (const i of final.filter((x) => x.op === 'COPY' && copyArgs(x.args).from === 'build')) {
      for (const s of copyArgs(i.args).sources) {
        const rel = relative('/app', s);
        expect(copiedInBuild.includes(rel) || made.get(rel) === true, `line ${i.line}: ${s}`).toBe(true);
      }
    }
  });

  it('happy: the image holds every folder the npm package ships, and the built code imports only runtime dependencies', () => {
    const inImage = final.filter((i) => i.op === 'COPY').map((i) => copyArgs(i.args).dest.replace(/^\.\//, ''));
    for (const f of pkg.files) expect(inImage, f).toContain(f);
    expect(existsSync(join(ROOT, 'dist')), 'dist/ is built by `npm test` before vitest runs').toBe(true);
    const deps = new Set(Object.keys(pkg.dependencies));
    for (const name of runtimeImports(join(ROOT, 'dist'))) expect(deps.has(name), `dist imports ${name}, which is not a runtime dependency`).toBe(true);
  });

  describe('the entrypoint, run as the image runs it', () => {
    const app = mkdtempSync(join(tmpdir(), 'bg-image-'));
    afterAll(() => rmSync(app, { recursive: true, force: true }));

    it('happy: `--help` (the image\'s CMD) prints the usage and exits 0', () => {
      // lay /app out as the final stage does: its COPYs, with node_modules linked (dev deps included
      // here; the previous test checks that nothing outside `dependencies` is imported)
      for (const i of final.filter((x) => x.op === 'COPY')) {
        const c = copyArgs(i.args);
        const dest = join(app, c.dest.replace(/^\.\//, ''));
        for (const s of c.sources) {
          const src = join(ROOT, c.from ? relative('/app', s) : s);
          if (src.endsWith('node_modules')) symlinkSync(src, dest, 'dir');
          else cpSync(src, dest, { recursive: true });
        }
      }
      const work = join(app, 'work');
      mkdirSync(work);
      const entry = (JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[]).slice(3).map((a) => a.replace(/^\/app\//, `${app}/`));
      const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? '[]') as string[];
      const [exe = 'node', ...rest] = entry;
      const r = spawnSync(exe, [...rest, ...cmd], { cwd: work, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOME: work } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: budgetgate/);
      expect(r.stdout).toMatch(/\brun\b.*\bmerge\b/s);
    });
  });
});

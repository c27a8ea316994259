/**
 * The deploy/ manifests, checked without a cluster. With kubectl on the PATH the client-side dry run
 * is used as well; without it (as on most CI and dev machines) a small structural checker written from
 * the Kubernetes API reference (batch/v1 Job, v1 ConfigMap, v1 PersistentVolumeClaim, the PodSpec
 * fields used) validates every document: required fields, types, enums, and the cross-references
 * between documents (volumes → ConfigMaps and claims, configMapKeyRef keys). The embedded profile is
 * parsed by budgetgate itself, and the shard flags must agree with the Job's completions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseProfileText } from '../../src/core/profile/index.js';
import { ROOT } from '../e2e/cli.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** A schema node: the few JSON-schema ideas the API reference needs here. */
type Schema =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'integer'; min?: number }
  | { type: 'boolean' }
  | { type: 'array'; items: Schema; minItems?: number }
  | { type: 'object'; properties?: Record<string, Schema>; required?: readonly string[]; additional?: Schema | false };

/** Walks `value` against `schema`, collecting "path: problem" lines. */
export function validate(value: unknown, schema: Schema, path = '$'): string[] {
  const out: string[] = [];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected a string, got ${JSON.stringify(value)}`];
      if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: expected one of ${schema.enum.join(', ')}, got ${JSON.stringify(value)}`);
      if (schema.pattern && !schema.pattern.test(value)) out.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      return out;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${path}: expected an integer, got ${JSON.stringify(value)}`];
      if (schema.min !== undefined && value < schema.min) out.push(`${path}: expected ≥ ${schema.min}, got ${value}`);
      return out;
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${JSON.stringify(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${JSON.stringify(value)}`];
      if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${path}: expected at least ${schema.minItems} items`);
      value.forEach((v, i) => out.push(...validate(v, schema.items, `${path}[${i}]`)));
      return out;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object, got ${JSON.stringify(value)}`];
      const o = value as Record<string, unknown>;
      for (const k of schema.required ?? []) if (!(k in o)) out.push(`${path}: missing required field ${k}`);
      for (const [k, v] of Object.entries(o)) {
        const p = schema.properties?.[k];
        if (p) out.push(...validate(v, p, `${path}.${k}`));
        else if (schema.additional === false) out.push(`${path}: unknown field ${k}`);
        else if (schema.additional) out.push(...validate(v, schema.additional, `${path}.${k}`));
      }
      return out;
    }
  }
}

// --- from the Kubernetes API reference (v1.30) --------------------------------------------------
const str: Schema = { type: 'string' };
const strings: Schema = { type: 'array', items: str };
/** RFC 1123 subdomain (object names) and label (container, volume and port names) */
const dnsSubdomain: Schema = { type: 'string', pattern: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/ };
const dnsLabel: Schema = { type: 'string', pattern: /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ };
/** resource.Quantity in its string form: 1, 250m, 1Gi, 256Mi, 1e3 */
const quantity: Schema = { type: 'string', pattern: /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/ };
const stringMap: Schema = { type: 'object', additional: str };
const objectMeta: Schema = {
  type: 'object',
  required: ['name'],
  properties: { name: dnsSubdomain, namespace: dnsLabel, labels: stringMap, annotations: stringMap },
  additional: false,
};
const resources: Schema = { type: 'object', properties: { requests: { type: 'object', additional: quantity }, limits: { type: 'object', additional: quantity } }, additional: false };
const envVar: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: str,
    value: str,
    valueFrom: {
      type: 'object',
      properties: {
        configMapKeyRef: { type: 'object', required: ['key'], properties: { name: str, key: str, optional: { type: 'boolean' } }, additional: false },
        secretKeyRef: { type: 'object', required: ['key'], properties: { name: str, key: str, optional: { type: 'boolean' } }, additional: false },
        fieldRef: { type: 'object', required: ['fieldPath'], properties: { fieldPath: str, apiVersion: str }, additional: false },
      },
      additional: false,
    },
  },
  additional: false,
};
const container: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: dnsLabel,
    image: str,
    command: strings,
    args: strings,
    workingDir: str,
    env: { type: 'array', items: envVar },
    resources,
    imagePullPolicy: { type: 'string', enum: ['Always', 'Never', 'IfNotPresent'] },
    volumeMounts: {
      type: 'array',
      items: { type: 'object', required: ['name', 'mountPath'], properties: { name: str, mountPath: str, readOnly: { type: 'boolean' }, subPath: str }, additional: false },
    },
  },
  additional: false,
};
const volume: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: dnsLabel,
    configMap: { type: 'object', properties: { name: str, optional: { type: 'boolean' }, defaultMode: { type: 'integer', min: 0 } }, additional: false },
    persistentVolumeClaim: { type: 'object', required: ['claimName'], properties: { claimName: str, readOnly: { type: 'boolean' } }, additional: false },
    emptyDir: { type: 'object' },
  },
  additional: false,
};
const podSpec: Schema = {
  type: 'object',
  required: ['containers'],
  properties: {
    containers: { type: 'array', items: container, minItems: 1 },
    // a Job's pods may not restart "Always": the API server rejects it
    restartPolicy: { type: 'string', enum: ['Never', 'OnFailure'] },
    volumes: { type: 'array', items: volume },
    serviceAccountName: str,
    nodeSelector: stringMap,
  },
  additional: false,
};
const schemas: Record<string, Schema> = {
  'batch/v1/Job': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: str,
      kind: str,
      metadata: objectMeta,
      spec: {
        type: 'object',
        required: ['template'],
        properties: {
          completions: { type: 'integer', min: 0 },
          parallelism: { type: 'integer', min: 0 },
          completionMode: { type: 'string', enum: ['NonIndexed', 'Indexed'] },
          backoffLimit: { type: 'integer', min: 0 },
          activeDeadlineSeconds: { type: 'integer', min: 1 },
          ttlSecondsAfterFinished: { type: 'integer', min: 0 },
          template: { type: 'object', required: ['spec'], properties: { metadata: { ...objectMeta, required: [] } as Schema, spec: podSpec }, additional: false },
        },
        additional: false,
      },
    },
    additional: false,
  },
  'v1/ConfigMap': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata'],
    properties: { apiVersion: str, kind: str, metadata: objectMeta, data: stringMap, immutable: { type: 'boolean' } },
    additional: false,
  },
  'v1/PersistentVolumeClaim': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: str,
      kind: str,
      metadata: objectMeta,
      spec: {
        type: 'object',
        required: ['accessModes', 'resources'],
        properties: {
          accessModes: { type: 'array', minItems: 1, items: { type: 'string', enum: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] } },
          resources: { type: 'object', required: ['requests'], properties: { requests: { type: 'object', required: ['storage'], additional: quantity } }, additional: false },
          storageClassName: str,
        },
        additional: false,
      },
    },
    additional: false,
  },
};

/** The documents' own rules beyond field types, and the cross-references between documents. */
export function checkManifests(docs: readonly Obj[]): string[] {
  const out: string[] = [];
  const at = (d: Obj): string => `${String(d.kind)}/${String((d.metadata as Obj | undefined)?.name)}`;
  for (const d of docs) {
    const key = `${String(d.apiVersion)}/${String(d.kind)}`;
    const schema = schemas[key];
    if (!schema) {
      out.push(`${at(d)}: unsupported apiVersion/kind ${key}`);
      continue;
    }
    out.push(...validate(d, schema, at(d)));
  }
  if (out.length > 0) return out;
  const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((d) => [(d.metadata as Obj).name as string, (d.data ?? {}) as Record<string, string>]));
  const claims = new Set(docs.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => (d.metadata as Obj).name as string));
  for (const job of docs.filter((d) => d.kind === 'Job')) {
    const spec = job.spec as Obj;
    const pod = (spec.template as Obj).spec as Obj;
    if (spec.completionMode === 'Indexed' && typeof spec.completions !== 'number') out.push(`${at(job)}: an Indexed Job needs spec.completions`);
    if (pod.restartPolicy === undefined) out.push(`${at(job)}: a Job's pod template needs restartPolicy Never or OnFailure`);
    const volumes = new Map(((pod.volumes ?? []) as Obj[]).map((v) => [v.name as string, v]));
    for (const v of volumes.values()) {
      const cm = (v.configMap as Obj | undefined)?.name;
      if (cm !== undefined && !configMaps.has(cm as string)) out.push(`${at(job)}: volume ${String(v.name)} names ConfigMap ${String(cm)}, not in the manifests`);
      const claim = (v.persistentVolumeClaim as Obj | undefined)?.claimName;
      if (claim !== undefined && !claims.has(claim as string)) out.push(`${at(job)}: volume ${String(v.name)} names claim ${String(claim)}, not in the manifests`);
    }
    for (const c of pod.containers as Obj[]) {
      for (const m of (c.volumeMounts ?? []) as Obj[]) if (!volumes.has(m.name as string)) out.push(`${at(job)}: container ${String(c.name)} mounts ${String(m.name)}, which is no volume`);
      for (const e of (c.env ?? []) as Obj[]) {
        const ref = (e.valueFrom as Obj | undefined)?.configMapKeyRef as Obj | undefined;
        if (ref && configMaps.get(ref.name as string)?.[ref.key as string] === undefined) out.push(`${at(job)}: env ${String(e.name)} reads ${String(ref.name)}/${String(ref.key)}, which no ConfigMap has`);
      }
      const line = [...((c.command ?? []) as string[]), ...((c.args ?? []) as string[])].join(' ');
      const shard = /--shard\s+(\S+)\/(\d+)/.exec(line);
      if (shard) {
        const n = Number(shard[2]);
        if (spec.completionMode !== 'Indexed') out.push(`${at(job)}: --shard needs completionMode: Indexed`);
        if (shard[1] === 'auto' && (spec.completions !== n || spec.parallelism !== n)) out.push(`${at(job)}: --shard auto/${n} needs completions and parallelism ${n}, got ${String(spec.completions)} and ${String(spec.parallelism)}`);
        if (!/\$\{?JOB_COMPLETION_INDEX/.test(line)) out.push(`${at(job)}: each shard must write its own folder (…/shard-$JOB_COMPLETION_INDEX)`);
      }
    }
  }
  return out;
}

const DIR = join(ROOT, 'deploy/kubernetes');
/** The kustomizations `kubectl apply -k` is given: the shards, then the merge. */
const KUSTOMIZATIONS = [DIR, join(DIR, 'merge')];
/** Made anew before each run (README), so in no kustomization: `apply -k` must not reset it. */
const PER_RUN = join(DIR, 'start.yaml');
const docsOf = (f: string): Obj[] =>
  parseAllDocuments(readFileSync(f, 'utf8')).flatMap((d) => {
    expect(d.errors, f).toEqual([]);
    const v = d.toJS() as Obj | null;
    return v === null ? [] : [v];
  });
type Kustomization = { resources?: string[]; components?: string[]; images?: { name: string; newName?: string; newTag?: string }[] };
const readKustomization = (dir: string): Kustomization => parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
const containersOf = (docs: readonly Obj[]): Obj[] => docs.filter((d) => d.kind === 'Job').flatMap((d) => ((((d.spec as Obj).template as Obj).spec as Obj).containers as Obj[]));

/** A kustomization's resources as written (before kustomize's image transform), and the images its components set. */
function kustomization(dir: string): { docs: Obj[]; files: string[]; images: NonNullable<Kustomization['images']> } {
  const k = readKustomization(dir);
  const files = (k.resources ?? []).map((r) => join(dir, r));
  const docs = files.flatMap(docsOf);
  const images = [...(k.images ?? []), ...(k.components ?? []).flatMap((c) => readKustomization(join(dir, c)).images ?? [])];
  return { docs, files, images };
}
/** Every document of every kustomization, with the image transform applied as kustomize applies it, and the per-run start time. */
function load(): Obj[] {
  return [...docsOf(PER_RUN), ...KUSTOMIZATIONS.flatMap((dir) => {
    const { docs, images } = kustomization(dir);
    for (const c of containersOf(docs)) {
      const set = images.find((i) => i.name === c.image);
      if (set) c.image = `${set.newName ?? set.name}${set.newTag ? `:${set.newTag}` : ''}`;
    }
    return docs;
  })];
}
const clone = <T,>(x: T): T => structuredClone(x);
// client-side dry run still asks a server for its API groups: it needs kubectl *and* a reachable cluster
const kubectl = spawnSync('kubectl', ['version', '--request-timeout=3s'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

describe('deploy/kubernetes', () => {
  it('happy: every manifest passes the API-reference checks', () => {
    const docs = load();
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Job', 'Job', 'PersistentVolumeClaim']);
    expect(checkManifests(docs)).toEqual([]);
  });

  it('happy: the profile in the ConfigMap is a valid budgetgate profile', () => {
    const cm = load().find((d) => d.kind === 'ConfigMap' && (d.metadata as Obj).name === 'budgetgate-profile');
    const text = (cm?.data as Record<string, string>)['profile.yaml'] ?? '';
    const r = parseProfileText(text, () => undefined);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it('happy: the shard Job is an Indexed Job of 3 writing reports/shard-$JOB_COMPLETION_INDEX, and the merge job reads them', () => {
    const docs = load();
    const shards = docs.find((d) => (d.metadata as Obj).name === 'budgetgate-shards');
    expect(shards?.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 0 });
    const merge = JSON.stringify(docs.find((d) => (d.metadata as Obj).name === 'budgetgate-merge'));
    expect(merge).toMatch(/budgetgate merge \/reports\/shard-\*\/report\.json --profile \/etc\/budgetgate\/profile\.yaml/);
  });

  it.each<[string, (docs: Obj[]) => void, RegExp]>([
    ['a Job without a template', (d) => delete ((d.find((x) => x.kind === 'Job') as Obj).spec as Obj).template, /missing required field template/],
    ['completions as a string', (d) => (((d.find((x) => x.kind === 'Job') as Obj).spec as Obj).completions = '3'), /completions: expected an integer/],
    ['an unknown completionMode', (d) => (((d.find((x) => x.kind === 'Job') as Obj).spec as Obj).completionMode = 'indexed'), /expected one of NonIndexed, Indexed/],
    ['restartPolicy Always', (d) => ((((d.find((x) => x.kind === 'Job') as Obj).spec as Obj).template as Obj).spec as Obj).restartPolicy = 'Always', /expected one of Never, OnFailure/],
    ['a misspelt field', (d) => ((((d.find((x) => x.kind === 'Job') as Obj).spec as Obj).template as Obj).spec as Obj).restartpolicy = 'Never', /unknown field restartpolicy/],
    ['an upper-case name', (d) => (((d.find((x) => x.kind === 'PersistentVolumeClaim') as Obj).metadata as Obj).name = 'Reports'), /does not match/],
    ['a bad storage quantity', (d) => ((((d.find((x) => x.kind === 'PersistentVolumeClaim') as Obj).spec as Obj).resources as Obj).requests as Obj).storage = '1 GB', /does not match/],
    ['an unknown access mode', (d) => (((d.find((x) => x.kind === 'PersistentVolumeClaim') as Obj).spec as Obj).accessModes = ['ReadWriteAll']), /expected one of ReadWriteOnce/],
    ['ConfigMap data that is not a string', (d) => (((d.find((x) => x.kind === 'ConfigMap') as Obj).data as Obj)['profile.yaml'] = 3), /expected a string/],
    ['a claim not in the manifests', (d) => d.splice(d.findIndex((x) => x.kind === 'PersistentVolumeClaim'), 1), /names claim budgetgate-reports, not in the manifests/],
    ['a start time key no ConfigMap has', (d) => delete ((d.find((x) => (x.metadata as Obj).name === 'budgetgate-start') as Obj).data as Obj)['start-at'], /reads budgetgate-start\/start-at/],
    ['completions that disagree with --shard auto/3', (d) => (((d.find((x) => (x.metadata as Obj).name === 'budgetgate-shards') as Obj).spec as Obj).completions = 4), /--shard auto\/3 needs completions and parallelism 3/],
    ['a shard Job that is not Indexed', (d) => delete ((d.find((x) => (x.metadata as Obj).name === 'budgetgate-shards') as Obj).spec as Obj).completionMode, /--shard needs completionMode: Indexed/],
    ['an unsupported kind', (d) => d.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }), /unsupported apiVersion\/kind apps\/v1\/Deployment/],
  ])('sad: %s is caught', (_what, mutate, re) => {
    const docs = clone(load());
    mutate(docs);
    expect(checkManifests(docs).join('\n')).toMatch(re);
  });

  it('happy: every manifest but the per-run start time belongs to a kustomization, and the one image setting names every Job\'s image', () => {
    const listed = [PER_RUN, ...KUSTOMIZATIONS.flatMap((d) => kustomization(d).files)].map((f) => relative(DIR, f)).sort();
    const onDisk = (function walk(d: string): string[] {
      return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : /\.ya?ml$/.test(e.name) && e.name !== 'kustomization.yaml' ? [relative(DIR, join(d, e.name))] : []));
    })(DIR).sort();
    expect(listed).toEqual(onDisk);
    for (const dir of KUSTOMIZATIONS) {
      const { docs, images } = kustomization(dir);
      expect(images, dir).toEqual([{ name: 'budgetgate', newName: 'ghcr.io/example/budgetgate', newTag: '0.1.0' }]);
      for (const c of containersOf(docs)) expect(c.image, `${dir}: ${String(c.name)}`).toBe('budgetgate');
    }
    for (const c of containersOf(load())) expect(c.image).toBe('ghcr.io/example/budgetgate:0.1.0');
  });

  it('happy: every Job runs under tini -g, so pod termination reaches budgetgate past the shell', () => {
    for (const c of containersOf(load())) {
      expect(c.command).toEqual(['tini', '-g', '--', 'sh', '-c']);
      expect(((c.args ?? []) as string[]).join(' ')).toMatch(/^trap '' TERM INT;/);
    }
  });

  it.skipIf(!kubectl)('kubectl apply -k --dry-run=client accepts the kustomizations', () => {
    execFileSync('kubectl', ['apply', '--dry-run=client', '-f', PER_RUN], { stdio: 'pipe' });
    for (const dir of KUSTOMIZATIONS) expect(() => execFileSync('kubectl', ['apply', '--dry-run=client', '-k', dir], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('deploy/github-actions/distributed.yml', () => {
  const wf = parseAllDocuments(readFileSync(join(ROOT, 'deploy/github-actions/distributed.yml'), 'utf8'))[0]?.toJS() as Obj;
  const jobs = wf.jobs as Record<string, Obj>;

  it('happy: a matrix of shards 0..2 uploading one artifact each, and a merge job downloading them all', () => {
    const shard = jobs.shard as Obj;
    expect((shard.strategy as Obj).matrix).toEqual({ shard: [0, 1, 2] });
    const steps = JSON.stringify(shard.steps);
    expect(steps).toMatch(/--shard \$\{\{ matrix\.shard \}\}\/3 --start-at \$\{\{ needs\.start\.outputs\.at \}\}/);
    expect(steps).toMatch(/actions\/upload-artifact@v4/);
    expect(steps).toMatch(/report-shard-\$\{\{ matrix\.shard \}\}/);
    const merge = jobs.merge as Obj;
    expect(merge.needs).toBe('shard');
    const mergeSteps = JSON.stringify(merge.steps);
    expect(mergeSteps).toMatch(/actions\/download-artifact@v4/);
    expect(mergeSteps).toMatch(/\$BUDGETGATE_IMAGE\\" merge reports\/report-shard-\*\/report\.json --profile .* --require-all/);
  });

  it('happy: every budgetgate step runs the image named once, in env.BUDGETGATE_IMAGE', () => {
    expect((wf.env as Obj).BUDGETGATE_IMAGE).toBe('ghcr.io/example/budgetgate:0.1.0');
    const text = readFileSync(join(ROOT, 'deploy/github-actions/distributed.yml'), 'utf8');
    expect(text.match(/ghcr\.io\/example\/budgetgate/g)).toHaveLength(1);
    const runs = Object.values(jobs).flatMap((j) => (j.steps as Obj[]).map((s) => s.run)).filter((r): r is string => typeof r === 'string' && /\b(run|merge) (profiles|reports)\//.test(r));
    expect(runs).toHaveLength(2);
    for (const r of runs) expect(r).toMatch(/^docker run --rm --user "\$\(id -u\):\$\(id -g\)" -v "\$PWD:\/work" -w \/work "\$BUDGETGATE_IMAGE" /);
  });

  it('sad: every job needs runs-on and steps (what Actions rejects a workflow for)', () => {
    for (const [name, job] of Object.entries(jobs)) {
      expect(job['runs-on'], name).toBe('ubuntu-latest');
      expect(Array.isArray(job.steps), name).toBe(true);
      for (const s of job.steps as Obj[]) expect('uses' in s || 'run' in s, `${name}: ${JSON.stringify(s)}`).toBe(true);
    }
  });
});

import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  computeClusterKind,
  computeJobKind,
  validateCluster,
  validateJob,
  validateObject,
  type ComputeCluster,
  type ComputeClusterSpec,
  type ComputeJob,
  type ComputeJobSpec,
  type ResolvedComputeClusterSpec,
  type ResolvedComputeJobSpec,
  type ValidComputeCluster,
  type ValidComputeJob,
  validateStoredCluster,
  validateStoredJob,
} from '../../src/api/v1alpha1/index.ts';
import { DEFAULTED } from '../../src/api/v1alpha1/dsl.ts';
import { invalidCases, minimalCluster, minimalJob } from '../fixtures/specs.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return p.endsWith('.yaml') ? [p] : [];
  });
}

describe('offline validation (the schema the CRDs carry)', () => {
  for (const file of yamlFiles('examples')) {
    it(`accepts ${file}`, () => {
      // Other kinds (the ConfigMaps, Services and Deployments of examples/real/) are not Gaffer's to check.
      const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
      for (const obj of docs.filter((o) => String(o?.apiVersion).startsWith('compute.gaffer.dev/'))) {
        const r = validateObject(obj);
        expect(r.errors, JSON.stringify(r.errors)).to.deep.equal([]);
      }
    });
  }

  it('applies the defaults the API server applies', () => {
    const r = validateObject<any>(minimalCluster());
    expect(r.ok).to.equal(true);
    const s = r.value.spec;
    expect(s.suspend).to.equal(false);
    expect(s.master.serviceType).to.equal('ClusterIP');
    expect(s.master.failurePolicy).to.deep.equal({ action: 'RecreateMaster', maxRestarts: 5, windowSeconds: 3600 });
    expect(s.workers).to.include({ minReplicas: 0, maxReplicas: 1000, replicas: 2 });
    expect(s.workers.updateStrategy).to.deep.equal({ type: 'RollingUpdate', maxUnavailable: 1 });
    expect(s.podRecovery).to.deep.equal({
      backoff: { initialSeconds: 10, maxSeconds: 360 },
      resetAfterSeconds: 600,
      crashLoop: { maxContainerRestarts: 5, windowSeconds: 600 },
      nodeLossSeconds: 60,
      startupDeadlineSeconds: 900,
    });
    expect(s.master.template.spec.containers[0].ports[0].protocol).to.equal('TCP');
  });

  it('defaults a job the way docs/api.md says', () => {
    const r = validateObject<any>(minimalJob());
    expect(r.ok).to.equal(true);
    expect(r.value.spec).to.include({
      backoffLimit: 3,
      startupDeadlineSeconds: 900,
      clusterReadyTimeoutSeconds: 600,
      suspend: false,
      cleanupPolicy: 'Delete',
    });
    expect(r.value.spec.backoff).to.deep.equal({ initialSeconds: 10, maxSeconds: 360 });
    expect(r.value.spec.failurePolicy.rules).to.deep.equal([
      {
        action: 'Ignore',
        onReasons: [
          'MasterRestarted',
          'NodeLost',
          'Evicted',
          'EvictionByEvictionAPI',
          'PreemptionByScheduler',
          'DeletionByTaintManager',
          'TerminationByKubelet',
        ],
      },
    ]);
  });

  it('accepts master.ports[].nodePort with serviceType NodePort or LoadBalancer (issue 11 #3)', () => {
    for (const serviceType of ['NodePort', 'LoadBalancer']) {
      const c = minimalCluster();
      c.spec.master.serviceType = serviceType;
      c.spec.master.ports = [{ name: 'rpc', port: 7077, nodePort: 30077 }];
      expect(validateObject(c).errors).to.deep.equal([]);
    }
  });

  it('does not change the object it is given', () => {
    const c = minimalCluster();
    const before = JSON.stringify(c);
    validateObject(c);
    expect(JSON.stringify(c)).to.equal(before);
  });

  it('rejects a wrong apiVersion or kind by name', () => {
    expect(validateObject({ ...minimalCluster(), apiVersion: 'compute.gaffer.dev/v1' }).errors[0]!.field).to.equal(
      'apiVersion',
    );
    expect(validateObject({ ...minimalCluster(), kind: 'ComputeClustr' }).errors[0]!.field).to.equal('kind');
  });

  describe('rejects each invalid spec with a message naming the field', () => {
    for (const c of invalidCases) {
      it(c.name, () => {
        const r = validateObject(c.build());
        expect(r.ok).to.equal(false);
        const messages = r.errors.map((e) => `${e.field}: ${e.message}`);
        for (const text of c.expect) {
          expect(
            messages.some((m) => m.includes(text)),
            `${JSON.stringify(messages)} should mention ${text}`,
          ).to.equal(true);
        }
      });
    }
  });
});

/** Every place in a schema that has a `default`, as paths such as `spec.podRecovery.crashLoop.maxContainerRestarts`. */
function defaultedPaths(schema: any, path = ''): { path: string; node: any }[] {
  const out: { path: string; node: any }[] = [];
  for (const [k, s] of Object.entries<any>(schema.properties ?? {})) {
    const p = path ? `${path}.${k}` : k;
    if (s.default !== undefined) out.push({ path: p, node: s });
    out.push(...defaultedPaths(s, p));
  }
  if (schema.items) out.push(...defaultedPaths(schema.items, `${path}[]`));
  return out;
}

/** The values at a path (`[]` fans out over lists); only where the path's parent exists. */
function parentsAt(value: any, path: string): { parent: any; key: string }[] {
  const parts = path.replace(/\[\]/g, '.[]').split('.');
  const key = parts.pop()!;
  let nodes = [value];
  for (const part of parts) {
    nodes = nodes.flatMap((n) => {
      if (part === '[]') return Array.isArray(n) ? n : [];
      return n && typeof n === 'object' && n[part] !== undefined ? [n[part]] : [];
    });
  }
  return nodes.filter((n) => n && typeof n === 'object' && !Array.isArray(n)).map((parent) => ({ parent, key }));
}

describe('validated objects carry every schema default (Resolved types)', () => {
  const jobWithTemplate = () => {
    const j = minimalJob();
    delete j.spec.clusterRef;
    j.spec.clusterTemplate = { spec: minimalCluster().spec };
    return j;
  };
  const cases = [
    {
      name: 'a minimal cluster',
      kind: computeClusterKind,
      atLeast: 20,
      value: () => validateCluster(minimalCluster()),
    },
    { name: 'a minimal job', kind: computeJobKind, atLeast: 10, value: () => validateJob(minimalJob()) },
    {
      name: 'a job with a clusterTemplate',
      kind: computeJobKind,
      atLeast: 30,
      value: () => validateJob(jobWithTemplate()),
    },
  ];

  for (const c of cases) {
    it(`fills in every defaulted field whose parent is present: ${c.name}`, () => {
      const r = c.value();
      expect(r.errors).to.deep.equal([]);
      const missing: string[] = [];
      let checked = 0;
      for (const { path } of defaultedPaths(c.kind.schema)) {
        for (const { parent, key } of parentsAt(r.value, path)) {
          checked++;
          if (parent[key] === undefined) missing.push(path);
        }
      }
      expect(missing).to.deep.equal([]);
      expect(checked, `defaulted fields checked`).to.be.at.least(c.atLeast);
    });
  }

  it('fills nested defaults inside the defaults it inserted', () => {
    const c = validateCluster(minimalCluster()).value;
    expect(c.spec.podRecovery.crashLoop.maxContainerRestarts).to.equal(5);
    expect(c.spec.podRecovery.backoff.maxSeconds).to.equal(360);
    expect(c.spec.workers.updateStrategy.maxUnavailable).to.equal(1);
    const j = validateJob(jobWithTemplate()).value;
    expect(j.spec.clusterTemplate!.spec.podRecovery.crashLoop.windowSeconds).to.equal(600);
    expect(j.spec.clusterTemplate!.spec.master.failurePolicy.windowSeconds).to.equal(3600);
  });

  it('leaves fields without a default out', () => {
    const j = validateJob(minimalJob()).value;
    expect(j.spec).not.to.have.any.keys('activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'clusterTemplate');
    expect(validateCluster(minimalCluster()).value.spec.master).not.to.have.key('ports');
  });

  it('declares every default of its own schema through opt(schema, { default }), so the types know it', () => {
    const undeclared: string[] = [];
    for (const kind of [computeClusterKind, computeJobKind]) {
      // Defaults inside the embedded pod templates are Kubernetes' (their type is V1PodTemplateSpec).
      const own = defaultedPaths(kind.schema).filter(({ path }) => !/(^|\.)template\./.test(path));
      for (const { path, node } of own) if (!node[DEFAULTED]) undeclared.push(`${kind.kind} ${path}`);
    }
    expect(undeclared).to.deep.equal([]);
  });
});

// ---- compile time: `npm test` type-checks this file (tsc), these lines are the test ----
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type IsOptional<T, K extends keyof T> = Pick<T, K> extends Required<Pick<T, K>> ? false : true;
type Workers = ResolvedComputeClusterSpec['workers'];
type Recovery = ResolvedComputeClusterSpec['podRecovery'];
type Ephemeral = NonNullable<ResolvedComputeJobSpec['clusterTemplate']>['spec'];
export const typeChecks: true[] = [
  // defaulted fields are present, at every depth
  true satisfies Equals<Workers['minReplicas'], number>,
  true satisfies Equals<Workers['updateStrategy']['type'], 'RollingUpdate' | 'Recreate' | 'OnDelete'>,
  true satisfies Equals<Recovery['crashLoop']['maxContainerRestarts'], number>,
  true satisfies Equals<Recovery['backoff']['initialSeconds'], number>,
  true satisfies Equals<ResolvedComputeClusterSpec['master']['failurePolicy']['windowSeconds'], number>,
  true satisfies Equals<ResolvedComputeClusterSpec['suspend'], boolean>,
  true satisfies Equals<ResolvedComputeJobSpec['startupDeadlineSeconds'], number>,
  true satisfies Equals<ResolvedComputeJobSpec['cleanupPolicy'], 'Delete' | 'KeepOnFailure' | 'Keep'>,
  true satisfies Equals<
    ResolvedComputeJobSpec['failurePolicy']['rules'][number]['action'],
    'FailJob' | 'Ignore' | 'Count'
  >,
  true satisfies Equals<Ephemeral['podRecovery']['nodeLossSeconds'], number>,
  true satisfies Equals<ValidComputeCluster['spec'], ResolvedComputeClusterSpec>,
  true satisfies Equals<ValidComputeJob['spec'], ResolvedComputeJobSpec>,
  // fields without a default stay optional
  true satisfies IsOptional<Workers, 'replicas'>,
  true satisfies IsOptional<ResolvedComputeJobSpec, 'activeDeadlineSeconds'>,
  true satisfies IsOptional<ResolvedComputeJobSpec, 'ttlSecondsAfterFinished'>,
  true satisfies IsOptional<ResolvedComputeJobSpec, 'clusterTemplate'>,
  true satisfies IsOptional<ResolvedComputeClusterSpec['master'], 'ports'>,
  // on input (what users write) defaulted fields are optional, and a valid object is still an input
  true satisfies IsOptional<ComputeClusterSpec, 'podRecovery'>,
  true satisfies IsOptional<NonNullable<ComputeJobSpec['backoff']>, 'initialSeconds'>,
  true satisfies ValidComputeCluster extends ComputeCluster ? true : false,
  true satisfies ValidComputeJob extends ComputeJob ? true : false,
  true satisfies Equals<ReturnType<typeof validateCluster>['value'], ValidComputeCluster>,
  true satisfies Equals<ReturnType<typeof validateJob>['value'], ValidComputeJob>,
];

describe('validateCluster and validateJob types', () => {
  it('type a defaulted field as a plain number, and leave the others optional', () => {
    const c: ValidComputeCluster = validateCluster(minimalCluster()).value;
    const reset: number = c.spec.podRecovery.resetAfterSeconds; // no `?? 600`
    // @ts-expect-error workers.replicas has no default: it may be undefined
    const replicas: number = c.spec.workers.replicas;
    expect([reset, replicas]).to.deep.equal([600, 2]);
    expect(typeChecks.every((t) => t)).to.equal(true);
  });
});

describe('stored-object validation (the operator: pod templates already checked by the API server)', () => {
  const full = (o: any) => (o.kind === 'ComputeJob' ? validateJob(o) : validateCluster(o));
  const stored = (o: any) => (o.kind === 'ComputeJob' ? validateStoredJob(o) : validateStoredCluster(o));
  const inTemplate = (field: string) => /\.template\.(spec|metadata)\./.test(field);

  for (const o of [minimalCluster(), minimalJob()]) {
    it(`gives a ${o.kind} the API server has defaulted exactly what the full validation gives`, () => {
      const served = full(o).value; // what the cache holds: the server applied every default on write
      expect(stored(served)).to.deep.equal(full(served));
    });
  }
  describe('finds every error of an invalid spec that is not in a pod template, and no other', () => {
    const key = (e: { field: string; message: string }) => `${e.field}: ${e.message}`;
    for (const c of invalidCases) {
      it(c.name, () => {
        const all = full(c.build()).errors.map(key);
        const got = stored(c.build()).errors.map(key);
        expect(all, 'no error the full validation does not find').to.include.members(got);
        const outside = full(c.build())
          .errors.filter((e) => !inTemplate(e.field))
          .map(key);
        expect(got, 'every error outside the pod templates').to.include.members(outside);
      });
    }
  });
});

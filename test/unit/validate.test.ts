import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateObject } from '../../src/api/v1alpha1/index.ts';
import { invalidCases, minimalCluster, minimalJob } from '../fixtures/specs.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
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
    });
    expect(s.master.template.spec.containers[0].ports[0].protocol).to.equal('TCP');
  });

  it('defaults a job the way api.md says', () => {
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
      { action: 'Ignore', onReasons: ['MasterRestarted', 'NodeLost', 'Evicted'] },
    ]);
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

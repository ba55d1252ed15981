// What GitOps tools (Argo CD, Flux) rely on: no drift, no spec fields owned by the
// operator, and conditions that `kubectl wait` and kstatus understand.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { argoHealth } from '../fixtures/argocd-health.ts';
import { cond, setup, sleep, toYaml } from './harness.ts';

describe('GitOps behaviour', function () {
  this.timeout(180_000);
  const s = setup('gitops', { operator: [] });

  const manifests = [
    ...parseAllDocuments(readFileSync('examples/quickstart/cluster.yaml', 'utf8')),
    ...parseAllDocuments(readFileSync('examples/quickstart/job.yaml', 'utf8')),
  ].map((d) => d.toJS());
  /** As Argo CD syncs: server-side apply under its own field manager. */
  const sync = { serverSide: true, fieldManager: 'argocd-controller' };
  const objects: [string, string][] = [
    ['cc', 'quickstart'],
    ['cjob', 'quickstart-pi'],
  ];
  const getAll = () => Promise.all(objects.map(([kind, name]) => s.ns.get(kind, name)));

  it('reaches Ready for both kinds (kubectl wait --for=condition=Ready)', async () => {
    await s.ns.apply(manifests, sync);
    await s.ns.k(['wait', '--for=condition=Ready', 'computecluster/quickstart', '--timeout=60s']);
    await s.ns.k(['wait', '--for=condition=Ready', 'computejob/quickstart-pi', '--timeout=90s']);
    const job = await s.ns.get('cjob', 'quickstart-pi');
    expect(job.status.phase).to.equal('Succeeded');
    // The Argo CD health check shipped with the chart agrees.
    expect(argoHealth(await s.ns.get('cc', 'quickstart')).status).to.equal('Healthy');
    expect(argoHealth(job).status).to.equal('Healthy');
  });

  it('shows no change when the same manifests are applied again with server-side apply', async () => {
    const before = await getAll();
    await s.ns.apply(manifests, sync);
    await sleep(2000);
    const after = await getAll();
    for (let i = 0; i < 2; i++) {
      expect(after[i].metadata.generation).to.equal(before[i].metadata.generation);
      expect(after[i].metadata.resourceVersion).to.equal(before[i].metadata.resourceVersion);
    }
    const diff = await s.ns
      .k(['diff', '--server-side', `--field-manager=${sync.fieldManager}`, '-f', '-'], toYaml(manifests))
      .catch((e) => String(e));
    expect(diff).to.equal('');
  });

  for (const [kind, name] of objects) {
    it(`the operator's field manager owns no spec field of ${kind} ${name}`, async () => {
      const o = await s.ns.get(kind, name, '--show-managed-fields');
      const ours = o.metadata.managedFields.filter((m: any) => m.manager === 'gaffer');
      expect(ours.length, `${kind} status written by gaffer`).to.be.greaterThan(0);
      for (const m of ours) {
        expect(m.subresource).to.equal('status');
        expect(Object.keys(m.fieldsV1)).to.not.include('f:spec');
      }
      const spec = o.metadata.managedFields.filter((m: any) => m.fieldsV1?.['f:spec']);
      expect(spec.map((m: any) => m.manager)).to.deep.equal(['argocd-controller']);
    });
  }

  it('follows edits: observedGeneration on status and on each condition', async () => {
    await s.ns.patch('cc', 'quickstart', { spec: { workers: { replicas: 4 } } });
    const c = await s.ns.until(
      'cc',
      'quickstart',
      'observed',
      (c) => c.status.observedGeneration === c.metadata.generation && c.status.workers.readyReplicas === 4,
    );
    expect(cond(c, 'Ready').observedGeneration).to.equal(c.metadata.generation);
  });
});

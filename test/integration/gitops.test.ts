// What GitOps tools (Argo CD, Flux) rely on: no drift, no spec fields owned by the
// operator, and conditions that `kubectl wait` and kstatus understand.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { deleteNamespace, ensureCluster, k, kjson, testNamespace, waitFor } from './cluster.ts';
import { OperatorProcess } from './operator-process.ts';
import { argoHealth } from '../fixtures/argocd-health.ts';

describe('GitOps behaviour', function () {
  this.timeout(180_000);
  let ns: string;
  let op: OperatorProcess;
  before(async () => {
    await ensureCluster();
    ns = await testNamespace('gitops');
    op = new OperatorProcess(['--leader-elect=false', '--namespaces', ns]);
    await op.started();
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(ns);
  });

  const manifests = [
    ...parseAllDocuments(readFileSync('examples/quickstart/cluster.yaml', 'utf8')),
    ...parseAllDocuments(readFileSync('examples/quickstart/job.yaml', 'utf8')),
  ].map((d) => d.toJS());
  const applyAll = () =>
    k(
      ['apply', '-n', ns, '--server-side', '--field-manager=argocd-controller', '-f', '-'],
      manifests.map((m) => stringify(m)).join('---\n'),
    );

  it('reaches Ready for both kinds (kubectl wait --for=condition=Ready)', async () => {
    await applyAll();
    await k(['wait', '-n', ns, '--for=condition=Ready', 'computecluster/quickstart', '--timeout=60s']);
    await k(['wait', '-n', ns, '--for=condition=Ready', 'computejob/quickstart-pi', '--timeout=90s']);
    const job = await kjson(['get', '-n', ns, 'cjob', 'quickstart-pi']);
    expect(job.status.phase).to.equal('Succeeded');
    // The Argo CD health check shipped with the chart agrees.
    expect(argoHealth(await kjson(['get', '-n', ns, 'cc', 'quickstart'])).status).to.equal('Healthy');
    expect(argoHealth(job).status).to.equal('Healthy');
  });

  it('shows no change when the same manifests are applied again with server-side apply', async () => {
    const before = await Promise.all([
      kjson(['get', '-n', ns, 'cc', 'quickstart']),
      kjson(['get', '-n', ns, 'cjob', 'quickstart-pi']),
    ]);
    await applyAll();
    await new Promise((r) => setTimeout(r, 2000));
    const after = await Promise.all([
      kjson(['get', '-n', ns, 'cc', 'quickstart']),
      kjson(['get', '-n', ns, 'cjob', 'quickstart-pi']),
    ]);
    for (let i = 0; i < 2; i++) {
      expect(after[i].metadata.generation).to.equal(before[i].metadata.generation);
      expect(after[i].metadata.resourceVersion).to.equal(before[i].metadata.resourceVersion);
    }
    const diff = await k(
      ['diff', '-n', ns, '--server-side', '--field-manager=argocd-controller', '-f', '-'],
      manifests.map((m) => stringify(m)).join('---\n'),
    ).catch((e) => String(e));
    expect(diff).to.equal('');
  });

  it("the operator's field manager owns no spec field", async () => {
    for (const [kind, name] of [
      ['cc', 'quickstart'],
      ['cjob', 'quickstart-pi'],
    ]) {
      const o = await kjson(['get', '-n', ns, kind!, name!, '--show-managed-fields']);
      const ours = o.metadata.managedFields.filter((m: any) => m.manager === 'gaffer');
      expect(ours.length, `${kind} status written by gaffer`).to.be.greaterThan(0);
      for (const m of ours) {
        expect(m.subresource).to.equal('status');
        expect(Object.keys(m.fieldsV1)).to.not.include('f:spec');
      }
      const spec = o.metadata.managedFields.filter((m: any) => m.fieldsV1?.['f:spec']);
      expect(spec.map((m: any) => m.manager)).to.deep.equal(['argocd-controller']);
    }
  });

  it('follows edits: observedGeneration on status and on each condition', async () => {
    await k(['patch', '-n', ns, 'cc', 'quickstart', '--type=merge', '-p', '{"spec":{"workers":{"replicas":4}}}']);
    const c = await waitFor('observed', async () => {
      const c = await kjson(['get', '-n', ns, 'cc', 'quickstart']);
      return c.status.observedGeneration === c.metadata.generation && c.status.workers.readyReplicas === 4 && c;
    });
    expect(c.status.conditions.find((x: any) => x.type === 'Ready').observedGeneration).to.equal(c.metadata.generation);
  });
});

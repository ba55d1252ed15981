// The Helm chart: lint, templates, least-privilege RBAC, values schema, and a real
// helm install / upgrade / uninstall on the local control plane.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import {
  CLUSTER_DIR,
  KUBECONFIG,
  Namespace,
  OPERATOR_NAMESPACE,
  ROOT,
  deleteNamespace,
  ensureCluster,
  k,
  kjson,
  kubectl,
  testNamespace,
  waitFor,
} from './harness.ts';

const chart = `${ROOT}charts/gaffer`;
function helm(args: string[]) {
  const r = spawnSync(`${CLUSTER_DIR}/bin/helm`, ['--kubeconfig', KUBECONFIG, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const render = (...set: string[]) => {
  const r = helm(['template', 'gaffer', chart, '-n', 'ops', ...set.flatMap((s) => ['--set', s])]);
  if (r.code !== 0) throw new Error(r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJS())
    .filter(Boolean);
};

/** What the operator needs and nothing more: `kubectl auth can-i` as the chart's ServiceAccount. */
const permissions: { verb: string; what: string; ns: string; subresource?: string; answer: 'yes' | 'no' }[] = [
  { verb: 'create', what: 'pods', ns: 'default', answer: 'yes' },
  { verb: 'update', what: 'computeclusters.compute.gaffer.dev', ns: 'default', subresource: 'status', answer: 'yes' },
  { verb: 'create', what: 'leases.coordination.k8s.io', ns: OPERATOR_NAMESPACE, answer: 'yes' },
  { verb: 'create', what: 'leases.coordination.k8s.io', ns: 'default', answer: 'no' },
  { verb: 'update', what: 'computeclusters.compute.gaffer.dev', ns: 'default', answer: 'no' }, // never writes spec
  { verb: 'get', what: 'secrets', ns: 'default', answer: 'no' },
  { verb: 'delete', what: 'nodes', ns: 'default', answer: 'no' },
  { verb: 'update', what: 'pods', ns: 'default', answer: 'no' },
];

/** Values that values.schema.json rejects, and the name the error must give. */
const badValues: [string, string][] = [
  ['replicaCount=-1', 'replicaCount'],
  ['operator.logLevel=loud', 'logLevel'],
  ['leaderElection.leaseDuration=soon', 'leaseDuration'],
  ['unknownKey=1', 'unknownKey'],
];

describe('Helm chart', function () {
  this.timeout(180_000);
  before(() => ensureCluster());

  it('passes helm lint', () => {
    const r = helm(['lint', chart]);
    expect(r.code, r.out + r.err).to.equal(0);
  });

  it('renders the operator with leader election, 2 replicas, a PDB and Pod Security "restricted" settings', () => {
    const objs = render();
    const kinds = objs.map((o) => o.kind).sort();
    expect(kinds).to.deep.equal([
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const d = objs.find((o) => o.kind === 'Deployment');
    expect(d.spec.replicas).to.equal(2);
    const pod = d.spec.template.spec;
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0];
    expect(c.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.args).to.include('--leader-elect=true').and.to.include('operator');
    expect(c.readinessProbe.httpGet.path).to.equal('/readyz');
    const crd = objs.find((o) => o.kind === 'CustomResourceDefinition');
    expect(crd.metadata.annotations['helm.sh/resource-policy']).to.equal('keep');
    expect(render('serviceMonitor.enabled=true').some((o) => o.kind === 'ServiceMonitor')).to.equal(true);
  });

  it('grants least privilege: no wildcards, and namespaced Roles when watchNamespaces is set', () => {
    for (const objs of [render(), render('watchNamespaces={team-a,team-b}')]) {
      for (const o of objs.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
        for (const r of o.rules)
          for (const v of [...r.verbs, ...r.resources, ...r.apiGroups])
            expect(v, `${o.kind} ${o.metadata.name}`).to.not.equal('*');
      }
    }
    const ns = render('watchNamespaces={team-a,team-b}');
    expect(
      ns
        .filter((o) => o.kind === 'Role')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort(),
    ).to.deep.equal(['ops/gaffer-leader-election', 'team-a/gaffer', 'team-b/gaffer']);
    expect(ns.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).to.deep.equal(['gaffer-nodes']); // nodes are cluster-scoped
    expect(ns.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].args).to.include(
      '--namespaces=team-a,team-b',
    );
  });

  it('grants Kueue RBAC only with integrations.kueue.enabled, and passes --kueue to the operator', () => {
    const kueueRules = (objs: any[]) =>
      objs
        .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
        .flatMap((o) =>
          o.rules
            .filter((r: any) => r.apiGroups.includes('kueue.x-k8s.io'))
            .map((r: any) => [o.metadata.name, ...r.resources]),
        );
    const args = (objs: any[]) => objs.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].args;
    const off = render();
    expect(kueueRules(off)).to.deep.equal([]);
    expect(args(off)).to.include('--kueue=false');
    const on = render('integrations.kueue.enabled=true');
    expect(kueueRules(on)).to.deep.equal([
      ['gaffer-kueue', 'resourceflavors'],
      ['gaffer-kueue', 'workloadpriorityclasses'],
      ['gaffer', 'workloads'],
      ['gaffer', 'workloads/status'],
    ]);
    expect(args(on)).to.include('--kueue=true');
  });

  for (const p of permissions) {
    const sub = p.subresource ? `/${p.subresource}` : '';
    it(`the chart ServiceAccount ${p.answer === 'yes' ? 'may' : 'may not'} ${p.verb} ${p.what}${sub} in ${p.ns}`, async () => {
      const r = await kubectl([
        'auth',
        'can-i',
        p.verb,
        p.what,
        '-n',
        p.ns,
        `--as=system:serviceaccount:${OPERATOR_NAMESPACE}:gaffer`,
        ...(p.subresource ? [`--subresource=${p.subresource}`] : []),
      ]);
      expect(r.stdout.trim()).to.equal(p.answer);
    });
  }

  for (const [set, field] of badValues) {
    it(`rejects ${set} through values.schema.json, naming ${field}`, () => {
      const r = helm(['template', 'gaffer', chart, '--set', set]);
      expect(r.code).to.not.equal(0);
      expect(r.err).to.include(field);
    });
  }

  it('installs into a restricted namespace, upgrades (CRDs included), and uninstalls keeping the CRDs', async () => {
    const ns = await testNamespace('helm');
    const t = new Namespace(ns);
    try {
      await k(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
      // The CRDs already exist (kubectl apply); let this release adopt them.
      for (const crd of ['computeclusters.compute.gaffer.dev', 'computejobs.compute.gaffer.dev']) {
        await k(['label', 'crd', crd, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
        await k([
          'annotate',
          'crd',
          crd,
          'meta.helm.sh/release-name=gaffer-test',
          `meta.helm.sh/release-namespace=${ns}`,
          '--overwrite',
        ]);
      }
      const install = helm(['install', 'gaffer-test', chart, '-n', ns]);
      expect(install.code, install.err).to.equal(0);
      // Pod Security admitted the operator pods (KWOK runs them; the image is never pulled).
      await waitFor(
        '2 operator pods',
        async () => (await t.list('pods', 'app.kubernetes.io/instance=gaffer-test')).length === 2,
        60_000,
      );
      const upgrade = helm(['upgrade', 'gaffer-test', chart, '-n', ns, '--set', 'operator.workers=8']);
      expect(upgrade.code, upgrade.err).to.equal(0);
      const crd = await kjson(['get', 'crd', 'computeclusters.compute.gaffer.dev']);
      expect(crd.metadata.annotations['meta.helm.sh/release-name']).to.equal('gaffer-test');
      expect(crd.metadata.annotations['helm.sh/resource-policy']).to.equal('keep');
      const d = await t.get('deployment', 'gaffer-test');
      expect(d.spec.template.spec.containers[0].args).to.include('--workers=8');
      const uninstall = helm(['uninstall', 'gaffer-test', '-n', ns]);
      expect(uninstall.code, uninstall.err).to.equal(0);
      await k(['get', 'crd', 'computeclusters.compute.gaffer.dev', 'computejobs.compute.gaffer.dev']);
    } finally {
      await kubectl([
        'delete',
        'clusterrole,clusterrolebinding',
        'gaffer-test',
        'gaffer-test-nodes',
        '--ignore-not-found',
      ]);
      await deleteNamespace(ns);
    }
  });
});

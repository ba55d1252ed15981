// The operator as users install it, on the real node: the image `npm run image` built, run by
// `helm install` of charts/gaffer in a namespace enforcing Pod Security "restricted", with
// in-cluster credentials (the `kubernetes` Service and its ServiceAccount token).
import { expect } from 'chai';
import { stringify } from 'yaml';
import {
  NODE_NAME,
  OPERATOR_NS,
  RELEASE,
  deleteNamespace,
  ensureOperator,
  k,
  kjson,
  kubectl,
  leaseHolder,
  testNamespace,
  waitFor,
} from './real.ts';

const operatorPods = async () =>
  (await kjson(['get', 'pods', '-n', OPERATOR_NS, '-l', `app.kubernetes.io/instance=${RELEASE}`])).items as any[];
const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

describe('the operator image on a real node', function () {
  before(() => ensureOperator());

  it('runs as 2 Ready pods from localhost/gaffer:dev under Pod Security "restricted", one holding the Lease', async () => {
    const nsLabels = (await kjson(['get', 'namespace', OPERATOR_NS])).metadata.labels;
    expect(nsLabels['pod-security.kubernetes.io/enforce']).to.equal('restricted');
    const pods = await operatorPods();
    expect(pods).to.have.length(2);
    for (const p of pods) {
      expect(ready(p), `${p.metadata.name} Ready`).to.equal(true);
      expect(p.spec.nodeName).to.equal(NODE_NAME);
      const c = p.spec.containers[0];
      expect(c.image).to.equal('localhost/gaffer:dev');
      expect(c.securityContext.readOnlyRootFilesystem).to.equal(true);
      expect(c.args.join(' '), 'in-cluster credentials, no kubeconfig').to.not.include('kubeconfig');
      // A real process: the container started, and its image ID is the one containerd loaded.
      expect(p.status.containerStatuses[0].state.running).to.be.an('object');
      expect(p.status.containerStatuses[0].imageID).to.match(/^sha256:|localhost\/gaffer/);
    }
    const holder = await leaseHolder();
    expect(pods.map((p) => p.metadata.name)).to.include(holder!.split('_')[0]);
  });

  it('is distroless: non-root (uid 65532) and no shell in the image', async () => {
    const pod = (await operatorPods())[0].metadata.name;
    const sh = await kubectl(['exec', '-n', OPERATOR_NS, pod, '--', '/bin/sh', '-c', 'true']);
    expect(sh.code).to.not.equal(0);
    expect(sh.stderr).to.match(/no such file|not found/i);
    const id = await k([
      'exec',
      '-n',
      OPERATOR_NS,
      pod,
      '--',
      '/nodejs/bin/node',
      '-e',
      'console.log(process.getuid(), process.version)',
    ]);
    expect(id.trim()).to.match(/^65532 v24\./);
  });

  it('hands the Lease over on a rolling restart of its Deployment and keeps reconciling', async () => {
    const before = await leaseHolder();
    const oldPods = (await operatorPods()).map((p) => p.metadata.name);
    await k(['rollout', 'restart', '-n', OPERATOR_NS, `deployment/${RELEASE}`]);
    await k(['rollout', 'status', '-n', OPERATOR_NS, `deployment/${RELEASE}`, '--timeout=180s']);
    const holder = await waitFor(
      'a new pod to hold the Lease',
      async () => {
        const h = await leaseHolder();
        return h && h !== before && !oldPods.includes(h.split('_')[0]!) ? h : undefined;
      },
      120_000,
    );
    const pods = await waitFor('2 new Ready operator pods', async () => {
      const ps = (await operatorPods()).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 2 && ps.every(ready) && ps.every((p) => !oldPods.includes(p.metadata.name)) ? ps : undefined;
    });
    expect(pods.map((p: any) => p.metadata.name)).to.include(holder.split('_')[0]);

    // The new leader reconciles: a ComputeCluster gets real, running pods.
    const ns = await testNamespace('handover');
    try {
      const py = { image: 'localhost/gaffer-py:1', imagePullPolicy: 'Never' };
      const cc = {
        apiVersion: 'compute.gaffer.dev/v1alpha1',
        kind: 'ComputeCluster',
        metadata: { name: 'echo' },
        spec: {
          master: {
            ports: [{ name: 'http', port: 8000 }],
            template: {
              spec: { containers: [{ name: 'm', ...py, command: ['python3', '-m', 'http.server', '8000'] }] },
            },
          },
          workers: {
            replicas: 1,
            template: { spec: { containers: [{ name: 'w', ...py, command: ['sleep', 'infinity'] }] } },
          },
        },
      };
      await k(['apply', '-n', ns, '-f', '-'], stringify(cc));
      await waitFor(
        'the cluster Running with its pods Ready',
        async () => {
          const pods = (await kjson(['get', 'pods', '-n', ns])).items as any[];
          return pods.length === 2 && pods.every(ready);
        },
        120_000,
      );
    } finally {
      await deleteNamespace(ns);
    }
  });
});

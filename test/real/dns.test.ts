// DNS and the GAFFER_* wiring on the real node: each worker's stable name
// <cluster>-worker-<i>.<cluster>-workers.<ns>.svc resolves inside pods to that worker's pod IP,
// and GAFFER_MASTER_ADDR (set by the operator, nothing hard-coded) connects to the master.
import { expect } from 'chai';
import { stringify } from 'yaml';
import { deleteNamespace, ensureOperator, k, kjson, testNamespace, waitFor } from './real.ts';

describe('DNS and GAFFER_* wiring on a real node', function () {
  let ns: string;
  const py = { image: 'localhost/gaffer-py:1', imagePullPolicy: 'Never' };
  before(async () => {
    await ensureOperator();
    ns = await testNamespace('dns');
    const cc = {
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name: 'names' },
      spec: {
        master: {
          ports: [{ name: 'rpc', port: 7000 }],
          template: {
            spec: { containers: [{ name: 'master', ...py, command: ['python3', '-m', 'http.server', '7000'] }] },
          },
        },
        workers: {
          replicas: 3,
          template: { spec: { containers: [{ name: 'worker', ...py, command: ['sleep', 'infinity'] }] } },
        },
      },
    };
    await k(['apply', '-n', ns, '-f', '-'], stringify(cc));
    await waitFor(
      '4 Ready pods',
      async () => {
        const pods = (await kjson(['get', 'pods', '-n', ns])).items as any[];
        return (
          pods.length === 4 &&
          pods.every((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
        );
      },
      120_000,
    );
  });
  after(async () => {
    if (ns) await deleteNamespace(ns);
  });

  const py3 = (pod: string, code: string) => k(['exec', '-n', ns, pod, '--', 'python3', '-c', code]);

  it("resolves every worker's stable name, from the master and from another worker, to its pod IP", async () => {
    const ips: Record<string, string> = {};
    for (const p of (await kjson(['get', 'pods', '-n', ns, '-l', 'compute.gaffer.dev/role=worker'])).items)
      ips[p.metadata.name] = p.status.podIP;
    expect(Object.keys(ips).sort()).to.deep.equal(['names-worker-0', 'names-worker-1', 'names-worker-2']);
    for (const from of ['names-master', 'names-worker-2']) {
      for (const [name, ip] of Object.entries(ips)) {
        const fqdn = `${name}.names-workers.${ns}.svc`;
        const got = await waitFor(`${fqdn} from ${from}`, async () =>
          (await py3(from, `import socket; print(socket.gethostbyname("${fqdn}"))`)).trim(),
        );
        expect(got, `${fqdn} from ${from}`).to.equal(ip);
      }
    }
  });

  it('connects to GAFFER_MASTER_ADDR from a worker (the master Service, through kube-proxy)', async () => {
    const out = await py3(
      'names-worker-0',
      'import os, urllib.request; a = os.environ["GAFFER_MASTER_ADDR"]; print(a, urllib.request.urlopen("http://" + a + "/").status)',
    );
    expect(out.trim()).to.match(new RegExp(`^names-master\\.${ns}\\.svc:7000 200$`));
  });
});

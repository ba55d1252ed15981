// Benchmark: how long a ComputeCluster of N workers takes to converge on the local KWOK
// control plane (npm run cluster:up first). Prints figures; asserts nothing.
//   npm run bench -- [workers=500]
import { stringify } from 'yaml';
import { ensureCluster, k, kjson, testNamespace, deleteNamespace, waitFor } from '../test/integration/cluster.ts';
import { OperatorProcess } from '../test/integration/operator-process.ts';

const workers = Number(process.argv[2] ?? 500);
const perNode = 110;
await ensureCluster();
const nodeCount = (await kjson(['get', 'nodes'])).items.length;
const extra = Math.max(0, Math.ceil((workers + 10) / perNode) - nodeCount);
const extraNodes = Array.from({ length: extra }, (_, i) => `kwok-bench-${i}`);
for (const name of extraNodes) {
  await k(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
        labels: { type: 'kwok', 'kubernetes.io/hostname': name },
      },
      status: {
        allocatable: { cpu: '32', memory: '256Gi', pods: String(perNode) },
        capacity: { cpu: '32', memory: '256Gi', pods: String(perNode) },
      },
    }),
  );
}
const ns = await testNamespace('bench');
const op = new OperatorProcess(['--leader-elect=false', '--namespaces', ns]);
try {
  await op.started();
  await waitFor('operator ready', async () => (await op.readyz()).status === 200);
  const start = Date.now();
  await k(
    ['apply', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'compute.gaffer.dev/v1alpha1',
      kind: 'ComputeCluster',
      metadata: { name: 'bench' },
      spec: {
        master: {
          template: {
            spec: { containers: [{ name: 'm', image: 'registry.invalid/m:1', ports: [{ containerPort: 7077 }] }] },
          },
        },
        workers: {
          replicas: workers,
          maxReplicas: Math.max(1000, workers),
          template: { spec: { containers: [{ name: 'w', image: 'registry.invalid/w:1' }] } },
        },
      },
    }),
  );
  let created = 0;
  const createdAt = await waitFor(
    'all pods created',
    async () => {
      created = (await k(['get', 'pods', '-n', ns, '-o', 'name'])).trim().split('\n').filter(Boolean).length;
      return created >= workers + 1 && Date.now();
    },
    600_000,
    500,
  );
  const readyAt = await waitFor(
    'cluster Ready',
    async () => {
      const c = await kjson(['get', 'cc', '-n', ns, 'bench']);
      return (
        c.status?.conditions?.find((x: any) => x.type === 'Ready')?.status === 'True' &&
        c.status.workers.readyReplicas === workers &&
        Date.now()
      );
    },
    600_000,
    500,
  );
  const { body } = await op.get(op.metricsPort, '/metrics');
  const requests = body
    .split('\n')
    .filter((l) => l.startsWith('rest_client_requests_total{'))
    .map((l) => l.replace('rest_client_requests_total', '  '));
  const reconciles = body.split('\n').filter((l) => l.startsWith('controller_runtime_reconcile_total{'));
  console.log(`ComputeCluster with ${workers} workers on ${nodeCount + extra} KWOK nodes:`);
  console.log(
    `  all ${workers + 1} pods created:  ${((createdAt - start) / 1000).toFixed(1)} s (${((workers + 1) / ((createdAt - start) / 1000)).toFixed(0)} pods/s)`,
  );
  console.log(`  Ready (all workers ready): ${((readyAt - start) / 1000).toFixed(1)} s`);
  console.log(`  operator API requests:\n${requests.join('\n')}`);
  console.log(`  reconciles:\n${reconciles.map((l) => `  ${l}`).join('\n')}`);
  console.log(
    `  operator RSS: ${(((await op.metric('process_resident_memory_bytes')) ?? 0) / 2 ** 20).toFixed(0)} MiB`,
  );
} finally {
  await op.stop();
  await deleteNamespace(ns);
  for (const name of extraNodes) await k(['delete', 'node', name, '--wait=false']);
}

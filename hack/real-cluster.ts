// The control plane with its real node (hack/real-node-up.sh) for `npm run demo -- --real` and
// the end-to-end tests (test/real/): the operator installed from the chart and the locally built
// image, and containerd's CLI on the node's socket.
import { execFileSync, spawnSync } from 'node:child_process';
import { CLUSTER_DIR, ROOT } from './kubectl.ts';
import { k, kjson, kubectl, waitFor } from './local-cluster.ts';

export { CLUSTER_DIR, ROOT };

export const NODE_NAME = 'gaffer-real-node';
export const NODE_DIR = process.env.GAFFER_NODE_DIR ?? `${CLUSTER_DIR}/node`;
export const OPERATOR_NS = 'gaffer-real';
export const RELEASE = 'gaffer-op';

export function helm(args: string[]) {
  const r = spawnSync(`${CLUSTER_DIR}/bin/helm`, ['--kubeconfig', `${CLUSTER_DIR}/kubeconfig`, ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let cluster: Promise<void> | undefined;
/** The control plane with its real node (cluster-up.sh reuses a running one), Ready. */
export function ensureRealCluster(): Promise<void> {
  cluster ??= (async () => {
    execFileSync('bash', [`${ROOT}hack/cluster-up.sh`, '--real-node'], { stdio: ['ignore', 'inherit', 'inherit'] });
    await k(['wait', '--for=condition=Ready', `node/${NODE_NAME}`, '--timeout=60s']);
  })();
  return cluster;
}

let operator: Promise<void> | undefined;
/**
 * The operator as users install it: `helm install` of charts/gaffer with the image `npm run image`
 * built (loaded into the node by cluster-up), in a namespace that enforces Pod Security
 * "restricted". Waits until it is Ready and holds the Lease.
 */
export function ensureOperator(): Promise<void> {
  operator ??= (async () => {
    await ensureRealCluster();
    if ((await kubectl(['get', 'namespace', OPERATOR_NS])).code !== 0) {
      await k(['create', 'namespace', OPERATOR_NS]);
    }
    await k(['label', 'namespace', OPERATOR_NS, 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
    const r = helm([
      'upgrade',
      '--install',
      RELEASE,
      `${ROOT}charts/gaffer`,
      '-n',
      OPERATOR_NS,
      '--set',
      'image.repository=localhost/gaffer,image.tag=dev,image.pullPolicy=Never',
      '--wait',
      '--timeout',
      '180s',
    ]);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.err}`);
    await waitFor('the operator to hold its Lease', async () => (await leaseHolder()) !== undefined, 60_000);
  })();
  return operator;
}

export async function leaseHolder(): Promise<string | undefined> {
  const r = await kubectl(['get', 'lease', '-n', OPERATOR_NS, 'gaffer-operator', '-o', 'json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout).spec?.holderIdentity || undefined;
}

/** containerd's CLI on the node's own socket, namespace k8s.io (the CRI's). */
export function ctr(args: string[]): string {
  return execFileSync('ctr', ['-a', `${NODE_DIR}/containerd/containerd.sock`, '-n', 'k8s.io', ...args], {
    encoding: 'utf8',
  });
}

/** SIGKILLs a pod's container through the runtime (as an OOM kill or a crash would), not the API. */
export async function killContainer(ns: string, pod: string): Promise<string> {
  const p = await kjson(['get', 'pod', '-n', ns, pod]);
  const id = String(p.status.containerStatuses[0].containerID).replace('containerd://', '');
  ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
  return p.metadata.uid;
}

export async function podLogs(ns: string, pod: string): Promise<string> {
  const r = await kubectl(['logs', '-n', ns, pod]);
  return r.code === 0 ? r.stdout : '';
}

// What the soak runs: standing ComputeClusters, and a stream of ComputeJobs on them or on
// ephemeral clusters of their own. Recovery is tuned to act within a soak's minutes (backoffs of
// seconds, nodes lost after 15 s, a crash loop after 3 restarts, no master restart limit).
import type { Api } from '../bench/api.ts';

export const GROUP = '/apis/compute.gaffer.dev/v1alpha1';
const IMAGE = 'busybox:1.36';
export const NODE_LOSS_SECONDS = 15;

const podRecovery = {
  backoff: { initialSeconds: 1, maxSeconds: 8 },
  resetAfterSeconds: 60,
  crashLoop: { maxContainerRestarts: 3, windowSeconds: 600 },
  nodeLossSeconds: NODE_LOSS_SECONDS,
};

export function clusterSpec(workers: number): Record<string, unknown> {
  const container = (name: string) => ({ name, image: IMAGE, command: ['sh', '-c', 'sleep infinity'] });
  return {
    master: {
      template: { spec: { containers: [{ ...container('master'), ports: [{ name: 'rpc', containerPort: 7000 }] }] } },
      failurePolicy: { maxRestarts: 1000, windowSeconds: 3600 },
    },
    workers: {
      replicas: workers,
      minReplicas: 1,
      maxReplicas: 6,
      template: { spec: { containers: [container('worker')] } },
    },
    podRecovery,
  };
}

export const clusterManifest = (name: string, workers: number) => ({
  apiVersion: 'compute.gaffer.dev/v1alpha1',
  kind: 'ComputeCluster',
  metadata: { name, labels: { 'soak.gaffer.dev/run': 'true' } },
  spec: clusterSpec(workers),
});

/** A job whose driver exits 0 after `seconds`, on `cluster` or (undefined) an ephemeral cluster. */
export function jobManifest(name: string, cluster: string | undefined, seconds: number) {
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeJob',
    metadata: { name },
    spec: {
      ...(cluster ? { clusterRef: { name: cluster } } : { clusterTemplate: { spec: clusterSpec(1) } }),
      backoffLimit: 100,
      backoff: { initialSeconds: 1, maxSeconds: 8 },
      template: {
        metadata: { annotations: { 'sim.gaffer.dev/complete-after': `${seconds}s` } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'driver', image: IMAGE, command: ['sh', '-c', 'true'] }] },
      },
    },
  };
}

export const clustersPath = (ns: string) => `${GROUP}/namespaces/${ns}/computeclusters`;
export const jobsPath = (ns: string) => `${GROUP}/namespaces/${ns}/computejobs`;

export async function createCluster(api: Api, ns: string, name: string, workers: number): Promise<void> {
  await api.req('POST', clustersPath(ns), clusterManifest(name, workers));
}

export async function createJob(api: Api, ns: string, name: string, cluster: string | undefined, seconds: number) {
  await api.req('POST', jobsPath(ns), jobManifest(name, cluster, seconds));
}

export async function scaleCluster(api: Api, ns: string, name: string, replicas: number): Promise<void> {
  await api.req(
    'PATCH',
    `${clustersPath(ns)}/${name}`,
    { spec: { workers: { replicas } } },
    [],
    'application/merge-patch+json',
  );
}

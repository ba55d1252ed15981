// The objects each system is given: Gaffer's own pods and Services (raw client), ReplicaSets and batch/v1 Jobs
// (kube-controller-manager), ComputeClusters and ComputeJobs (Gaffer), all of the same sizes.
import { validateCluster } from '../../src/api/v1alpha1/index.ts';
import { buildMasterPod, buildWorkerPod } from '../../src/builders/pods.ts';
import { buildMasterService, buildWorkersService } from '../../src/builders/services.ts';
export const GROUP = '/apis/compute.gaffer.dev/v1alpha1';
export const paths = (ns: string) => ({
  pods: `/api/v1/namespaces/${ns}/pods`,
  services: `/api/v1/namespaces/${ns}/services`,
  replicasets: `/apis/apps/v1/namespaces/${ns}/replicasets`,
  jobs: `/apis/batch/v1/namespaces/${ns}/jobs`,
  clusters: `${GROUP}/namespaces/${ns}/computeclusters`,
  computejobs: `${GROUP}/namespaces/${ns}/computejobs`,
});

export const FAIL_AFTER = 'sim.gaffer.dev/fail-after';
export const COMPLETE_AFTER = 'sim.gaffer.dev/complete-after';

const container = (name: string) => ({ name, image: `registry.invalid/${name}:1` });

export function pod(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
  never = false,
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, annotations },
    spec: { containers: [container('w')], ...(never ? { restartPolicy: 'Never' } : {}) },
  };
}

export function replicaSet(name: string, replicas: number) {
  const labels = { app: name, 'bench.gaffer.dev/role': 'worker' };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels }, spec: { containers: [container('w')] } },
    },
  };
}

export function batchJob(name: string, completeAfter: string) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 0,
      template: {
        metadata: { annotations: { [COMPLETE_AFTER]: completeAfter } },
        spec: { restartPolicy: 'Never', containers: [container('driver')] },
      },
    },
  };
}

export function computeCluster(name: string, workers: number) {
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeCluster',
    metadata: { name },
    spec: {
      master: { template: { spec: { containers: [{ ...container('m'), ports: [{ containerPort: 7077 }] }] } } },
      workers: {
        replicas: workers,
        maxReplicas: Math.max(1000, workers),
        template: { spec: { containers: [container('w')] } },
      },
    },
  };
}

export function computeJob(name: string, cluster: string, completeAfter: string) {
  return {
    apiVersion: 'compute.gaffer.dev/v1alpha1',
    kind: 'ComputeJob',
    metadata: { name },
    spec: {
      clusterRef: { name: cluster },
      template: {
        metadata: { annotations: { [COMPLETE_AFTER]: completeAfter } },
        spec: { restartPolicy: 'Never', containers: [container('driver')] },
      },
    },
  };
}

/** What the trackers keep of an object. */
export interface PodView {
  uid: string;
  phase: string;
  ready: boolean;
  deleting: boolean;
  role?: string;
}
export const podView = (p: any): PodView => ({
  uid: p.metadata.uid,
  phase: p.status?.phase ?? 'Pending',
  ready: !!p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
  deleting: !!p.metadata.deletionTimestamp,
  role: p.metadata.labels?.['compute.gaffer.dev/role'] ?? p.metadata.labels?.['bench.gaffer.dev/role'],
});

export interface CrView {
  ready: boolean;
  readyReplicas: number;
  phase?: string;
  current: boolean;
}
export const ccView = (c: any): CrView => ({
  ready: !!c.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'),
  readyReplicas: c.status?.workers?.readyReplicas ?? 0,
  phase: c.status?.phase,
  current: c.status?.observedGeneration === c.metadata.generation,
});
export const rsView = (r: any): CrView => ({
  ready: (r.status?.readyReplicas ?? 0) === r.spec.replicas,
  readyReplicas: r.status?.readyReplicas ?? 0,
  current: r.status?.observedGeneration === r.metadata.generation,
});
export const cjView = (j: any): CrView => ({
  ready: j.status?.phase === 'Succeeded',
  readyReplicas: 0,
  phase: j.status?.phase,
  current: true,
});
export const jobView = (j: any): CrView => ({
  ready: (j.status?.succeeded ?? 0) >= 1 && !!j.status?.completionTime,
  readyReplicas: 0,
  current: true,
});

/**
 * What Gaffer makes of computeCluster(name, workers) in `ns` — its two Services and every pod,
 * built by Gaffer's own builders — without the owner references (the raw anchor has no
 * ComputeCluster; the garbage collector would delete pods owned by a missing one). The raw
 * anchor creates these, so it is measured on the same pods: the same labels, environment,
 * hostname and headless Service, whose EndpointSlices kube-controller-manager keeps too.
 */
export function gafferObjects(name: string, ns: string, workers: number): { services: object[]; pods: object[] } {
  const res = validateCluster({
    ...computeCluster(name, workers),
    metadata: { name, namespace: ns, uid: `raw-${name}` },
  });
  if (!res.ok)
    throw new Error(`bench cluster ${name}: ${res.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  const c = res.value;
  const unowned = <T extends { metadata?: { ownerReferences?: unknown } }>(o: T): T => {
    delete o.metadata?.ownerReferences;
    return o;
  };
  return {
    services: [buildMasterService(c), buildWorkersService(c)].map(unowned),
    pods: [buildMasterPod(c), ...Array.from({ length: workers }, (_, i) => buildWorkerPod(c, i, workers))].map(unowned),
  };
}

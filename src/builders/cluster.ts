// Pure builder of the ephemeral ComputeCluster a clusterTemplate job runs on.
import { API_VERSION, KINDS } from '../api/v1alpha1/group.ts';
import type { ComputeCluster, ValidComputeJob } from '../api/v1alpha1/index.ts';
import { nameOf, namespaceOf } from '../kube/meta.ts';
import { LABELS } from './labels.ts';
import { controllerRef } from './owner.ts';

/** Named after the job and controlled by it: deleting the job deletes the cluster (GC). */
export function buildEphemeralCluster(job: ValidComputeJob): ComputeCluster | undefined {
  const t = job.spec.clusterTemplate;
  if (!t) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: KINDS.ComputeCluster.kind,
    metadata: {
      name: nameOf(job),
      namespace: namespaceOf(job),
      labels: { ...(t.metadata?.labels ?? {}), [LABELS.job]: nameOf(job), [LABELS.managedBy]: 'gaffer' },
      annotations: t.metadata?.annotations ?? {},
      ownerReferences: [controllerRef(job, API_VERSION, KINDS.ComputeJob.kind)],
    },
    spec: structuredClone(t.spec),
  };
}

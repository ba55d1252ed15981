// spec.scheduling.gang: the PodGroup kube-scheduler's gang scheduling places all at once (pure).
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { nameOf, namespaceOf } from '../kube/meta.ts';
import type { V1ObjectMeta, V1Pod } from '../kube/types.ts';
import { desiredCount, workerGroups } from './groups.ts';
import { baseLabels, names } from './labels.ts';
import { controllerRef } from './owner.ts';

/** scheduling.k8s.io/v1beta1 PodGroup (Kubernetes 1.37, feature gate GenericWorkload): what Gaffer sets of it. */
export interface PodGroup {
  apiVersion: 'scheduling.k8s.io/v1beta1';
  kind: 'PodGroup';
  metadata: V1ObjectMeta;
  spec: { schedulingPolicy: { gang: { minCount: number } }; priorityClassName?: string };
}

/** The PodGroup a pod names (spec.schedulingGroup, newer than the client's types). */
export const podGroupOf = (p: V1Pod): string | undefined =>
  (p.spec as { schedulingGroup?: { podGroupName?: string } } | undefined)?.schedulingGroup?.podGroupName;

/** Whether the pod is of the cluster's gang: pods made before the gang was turned on are not. */
export const isGangMember = (c: ComputeCluster, p: V1Pod): boolean => podGroupOf(p) === names.podGroup(nameOf(c));

/**
 * The pods that must be bound together: the master and, per group, its minReplicas workers
 * (MinReplicas) or all its desired workers (AllReplicas), never more than the group wants.
 */
export function gangMinCount(c: ComputeCluster): number {
  const gang = c.spec.scheduling?.gang;
  if (!gang) return 0;
  const workers = workerGroups(c).reduce((n, g) => {
    const desired = desiredCount(c, g);
    return n + (gang.minMember === 'AllReplicas' ? desired : Math.min(g.pool.minReplicas, desired));
  }, 0);
  return 1 + workers;
}

/** The gang's PodGroup <cluster>, owned by the cluster; undefined without spec.scheduling.gang. */
export function buildPodGroup(c: ComputeCluster): PodGroup | undefined {
  if (!c.spec.scheduling?.gang) return undefined;
  return {
    apiVersion: 'scheduling.k8s.io/v1beta1',
    kind: 'PodGroup',
    metadata: {
      name: names.podGroup(nameOf(c)),
      namespace: namespaceOf(c),
      labels: baseLabels(nameOf(c)),
      ownerReferences: [controllerRef(c, API_VERSION, 'ComputeCluster')],
    },
    // The scheduler places a group only if its pods and the PodGroup have one priority.
    spec: {
      schedulingPolicy: { gang: { minCount: gangMinCount(c) } },
      ...(c.spec.scheduling.priorityClassName ? { priorityClassName: c.spec.scheduling.priorityClassName } : {}),
    },
  };
}

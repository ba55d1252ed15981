// spec.scheduling.gang: the PodGroup a gang scheduler places all at once, and how each pod
// joins it, per provider (pure):
//   Kubernetes    scheduling.k8s.io/v1beta1 PodGroup (kube-scheduler, feature gate GenericWorkload);
//                 pods name it in spec.schedulingGroup.podGroupName.
//   Coscheduling  scheduling.x-k8s.io/v1alpha1 PodGroup (kubernetes-sigs/scheduler-plugins);
//                 pods carry the label scheduling.x-k8s.io/pod-group.
//   Volcano       scheduling.volcano.sh/v1beta1 PodGroup (the Volcano scheduler); pods carry the
//                 annotation scheduling.k8s.io/group-name, and volcano.sh/task-spec naming their
//                 role or worker group, which minTaskMember counts.
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { labelOf, nameOf, namespaceOf } from '../kube/meta.ts';
import type { V1ObjectMeta, V1Pod } from '../kube/types.ts';
import { desiredCount, workerGroups } from './groups.ts';
import { revisionHash } from './hash.ts';
import { baseLabels, names } from './labels.ts';
import { controllerRef } from './owner.ts';
import { addPods, resourceList, type Resources } from './quantity.ts';

export type GangProvider = 'Kubernetes' | 'Coscheduling' | 'Volcano';

/** Where each provider's PodGroup is served. */
export const PODGROUP_APIS: Record<GangProvider, { group: string; version: string }> = {
  Kubernetes: { group: 'scheduling.k8s.io', version: 'v1beta1' },
  Coscheduling: { group: 'scheduling.x-k8s.io', version: 'v1alpha1' },
  Volcano: { group: 'scheduling.volcano.sh', version: 'v1beta1' },
};

/** The scheduler a provider's pods go to when spec.scheduling.schedulerName is unset (KubeRay's choice too). */
export const PROVIDER_SCHEDULERS: Partial<Record<GangProvider, string>> = {
  Coscheduling: 'scheduler-plugins-scheduler',
  Volcano: 'volcano',
};

/** How a pod names its gang, per provider (not Kubernetes': a pod spec field). */
export const GANG_KEYS = {
  /** scheduler-plugins' PodGroupLabel. */
  coschedulingLabel: 'scheduling.x-k8s.io/pod-group',
  /** Volcano's KubeGroupNameAnnotationKey. */
  volcanoGroup: 'scheduling.k8s.io/group-name',
  /** Volcano's TaskSpecKey: the task (role or worker group) minTaskMember counts the pod in. */
  volcanoTask: 'volcano.sh/task-spec',
} as const;

/**
 * What Gaffer applied to a PodGroup, as annotations of it: compared instead of the fields, which
 * the API server may default or change (admission's default PriorityClass, Volcano's queue from
 * the namespace), so that a defaulted field is never fought over.
 */
export const PODGROUP_ANNOTATIONS = {
  /** The hash of the spec applied. */
  spec: 'compute.gaffer.dev/podgroup-spec',
  /** spec.scheduling.priorityClassName as applied ('' for none). */
  priorityClassName: 'compute.gaffer.dev/priority-class-name',
} as const;

/** A PodGroup of any provider: what Gaffer sets of it. */
export interface PodGroup {
  apiVersion: string;
  kind: 'PodGroup';
  metadata: V1ObjectMeta;
  spec: Record<string, unknown>;
}

export const gangProvider = (c: ComputeCluster): GangProvider | undefined => c.spec.scheduling?.gang?.provider;

/** The PodGroup a pod names in spec.schedulingGroup (newer than the client's types). */
export const podGroupOf = (p: V1Pod): string | undefined =>
  (p.spec as { schedulingGroup?: { podGroupName?: string } } | undefined)?.schedulingGroup?.podGroupName;

/** The PodGroup the pod joins under `provider`, as the pod says it. */
function gangOfPod(provider: GangProvider, p: V1Pod): string | undefined {
  if (provider === 'Kubernetes') return podGroupOf(p);
  if (provider === 'Coscheduling') return labelOf(p, GANG_KEYS.coschedulingLabel);
  return p.metadata?.annotations?.[GANG_KEYS.volcanoGroup];
}

/** Whether the pod is of the cluster's gang: pods made before it was turned on (or under another provider) are not. */
export function isGangMember(c: ComputeCluster, p: V1Pod): boolean {
  const provider = gangProvider(c);
  return !!provider && gangOfPod(provider, p) === names.podGroup(nameOf(c));
}

/**
 * What a master or worker pod carries to join the gang, by provider; `task` is its role or
 * worker group (Volcano's task). Nothing without a gang.
 */
export function gangMembership(
  c: ComputeCluster,
  task: string,
): { spec?: Record<string, unknown>; labels?: Record<string, string>; annotations?: Record<string, string> } {
  const provider = gangProvider(c);
  const group = names.podGroup(nameOf(c));
  if (provider === 'Kubernetes') return { spec: { schedulingGroup: { podGroupName: group } } };
  if (provider === 'Coscheduling') return { labels: { [GANG_KEYS.coschedulingLabel]: group } };
  if (provider === 'Volcano')
    return { annotations: { [GANG_KEYS.volcanoGroup]: group, [GANG_KEYS.volcanoTask]: task } };
  return {};
}

/**
 * The members that must be bound together, per task: the master, and per worker group its
 * minReplicas workers (MinReplicas) or all its desired workers (AllReplicas), never more than
 * the group wants.
 */
export function gangTasks(
  c: ComputeCluster,
): { task: string; count: number; spec: ComputeCluster['spec']['master']['template']['spec'] }[] {
  const gang = c.spec.scheduling?.gang;
  if (!gang) return [];
  return [
    { task: 'master', count: 1, spec: c.spec.master.template.spec },
    ...workerGroups(c).map((g) => {
      const desired = desiredCount(c, g);
      const count = gang.minMember === 'AllReplicas' ? desired : Math.min(g.pool.minReplicas, desired);
      return { task: g.name, count, spec: g.pool.template.spec };
    }),
  ];
}

/** How many pods the gang needs bound at once. */
export const gangMinCount = (c: ComputeCluster): number => gangTasks(c).reduce((n, t) => n + t.count, 0);

/** What those pods request together (minResources). */
export const gangMinResources = (c: ComputeCluster): Record<string, string> =>
  resourceList(gangTasks(c).reduce((sum: Resources, t) => addPods(sum, t.spec, t.count), {}));

/** The spec of the provider's PodGroup: its size, and what else that provider takes from the cluster. */
function podGroupSpec(c: ComputeCluster, provider: GangProvider): Record<string, unknown> {
  const s = c.spec.scheduling!;
  const priority = s.priorityClassName ? { priorityClassName: s.priorityClassName } : {};
  if (provider === 'Kubernetes') {
    // The scheduler places a group only if its pods and the PodGroup have one priority.
    return { schedulingPolicy: { gang: { minCount: gangMinCount(c) } }, ...priority };
  }
  const minResources = gangMinResources(c);
  const resources = Object.keys(minResources).length ? { minResources } : {};
  if (provider === 'Coscheduling') {
    return { minMember: gangMinCount(c), ...resources, scheduleTimeoutSeconds: s.gang!.timeoutSeconds };
  }
  const tasks = gangTasks(c).filter((t) => t.count > 0);
  const minTaskMember = Object.fromEntries(tasks.map((t) => [t.task, t.count]));
  // No queue asked for: Volcano's (the namespace's, else default) is left to Volcano.
  const queue = s.gang!.queue ? { queue: s.gang!.queue } : {};
  return { minMember: gangMinCount(c), minTaskMember, ...resources, ...queue, ...priority };
}

/** The gang's PodGroup <cluster>, owned by the cluster; undefined without spec.scheduling.gang. */
export function buildPodGroup(c: ComputeCluster): PodGroup | undefined {
  const provider = gangProvider(c);
  if (!provider) return undefined;
  const api = PODGROUP_APIS[provider];
  const spec = podGroupSpec(c, provider);
  return {
    apiVersion: `${api.group}/${api.version}`,
    kind: 'PodGroup',
    metadata: {
      name: names.podGroup(nameOf(c)),
      namespace: namespaceOf(c),
      labels: baseLabels(nameOf(c)),
      annotations: {
        [PODGROUP_ANNOTATIONS.spec]: revisionHash(spec),
        [PODGROUP_ANNOTATIONS.priorityClassName]: c.spec.scheduling?.priorityClassName ?? '',
      },
      ownerReferences: [controllerRef(c, API_VERSION, 'ComputeCluster')],
    },
    spec,
  };
}

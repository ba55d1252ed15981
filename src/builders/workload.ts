// Kueue's Workload of a queued ComputeJob (pure): its pod sets, built from the job's spec, and
// what an admission puts on the pods (the assigned flavors' node labels and tolerations).
// Kueue's own job integrations (its Go jobframework) do the same for batch/v1 Job, JobSet and
// RayJob; Gaffer implements the protocol itself (README "Queueing with Kueue").
import { API_VERSION, KINDS } from '../api/v1alpha1/group.ts';
import type { ComputeCluster, ValidComputeCluster, ValidComputeJob } from '../api/v1alpha1/index.ts';
import { nameOf, namespaceOf, uidOf } from '../kube/meta.ts';
import type { V1ObjectMeta, V1PodSpec, V1PodTemplateSpec } from '../kube/types.ts';
import { revisionHash, stableStringify } from './hash.ts';
import { desiredCount, workerGroups } from './groups.ts';
import { parseQuantity } from './quantity.ts';
import { DEFAULT_GROUP, LABELS } from './labels.ts';
import { controllerRef } from './owner.ts';

/** Kueue's API group, version, labels and names that Gaffer reads or writes. */
export const KUEUE = {
  group: 'kueue.x-k8s.io',
  version: 'v1beta2',
  /** On a ComputeJob: the LocalQueue it waits in; it makes the job a Kueue workload. */
  queueLabel: 'kueue.x-k8s.io/queue-name',
  /** On a ComputeJob: a WorkloadPriorityClass, which wins over the pods' PriorityClass. */
  priorityLabel: 'kueue.x-k8s.io/priority-class',
  /** On a Workload: the uid of the job it is for (as Kueue's own integrations label theirs). */
  jobUidLabel: 'kueue.x-k8s.io/job-uid',
} as const;

/**
 * The pod set names: the master, the default workers (`worker`), each named group by its name, the
 * driver. Group names cannot be worker, master or driver, so none collides.
 */
export const POD_SETS = { master: 'master', workers: DEFAULT_GROUP, driver: 'driver' } as const;

export interface PodSet {
  name: string;
  count: number;
  template: V1PodTemplateSpec;
}

export interface PriorityClassRef {
  group: 'scheduling.k8s.io' | 'kueue.x-k8s.io';
  kind: 'PriorityClass' | 'WorkloadPriorityClass';
  name: string;
}

export interface WorkloadCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface PodSetAssignment {
  name: string;
  /** Resource name to the ResourceFlavor assigned for it. */
  flavors?: Record<string, string>;
  count?: number;
}

export interface Workload {
  apiVersion: string;
  kind: 'Workload';
  metadata: V1ObjectMeta;
  spec: {
    podSets: PodSet[];
    queueName: string;
    priorityClassRef?: PriorityClassRef;
    priority?: number;
  };
  status?: {
    conditions?: WorkloadCondition[];
    admission?: { clusterQueue: string; podSetAssignments: PodSetAssignment[] };
    [k: string]: unknown;
  };
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** A ResourceFlavor, as far as pods are concerned: the node labels and tolerations it gives them. */
export interface ResourceFlavor {
  metadata: V1ObjectMeta;
  spec?: { nodeLabels?: Record<string, string>; tolerations?: Toleration[] };
}

/** The queue a job waits in, or undefined when it is not a Kueue workload. */
export const queueOf = (job: { metadata: V1ObjectMeta }): string | undefined =>
  job.metadata.labels?.[KUEUE.queueLabel] || undefined;

/** The kinds that can be Kueue workloads, and the label that names the owner on its Workload. */
export type OwnerKind = 'ComputeJob' | 'ComputeCluster';
const OWNER_LABEL: Record<OwnerKind, string> = { ComputeJob: LABELS.job, ComputeCluster: LABELS.cluster };

/**
 * The Workload's name: Kueue's convention for its integrations (`<kind>-<name>-<hash>`), the hash
 * of the owner's uid, so an object recreated under the same name gets a Workload of its own.
 */
export const workloadName = (kind: OwnerKind, owner: { metadata: V1ObjectMeta }): string =>
  `${kind.toLowerCase()}-${nameOf(owner)}-${revisionHash(uidOf(owner)).slice(0, 5)}`;

/**
 * The part of a pod template that Kueue reads: requests (containers, init containers and sidecars,
 * pod-level resources, overhead) for the quota, and node selection for the flavors that fit.
 */
function quotaTemplate(spec: V1PodSpec | undefined, priorityClassName: string | undefined): V1PodTemplateSpec {
  const s = spec ?? { containers: [] };
  const resources = <T extends { name: string; resources?: unknown; restartPolicy?: string }>(cs: T[] = []) =>
    cs.map((c) => ({
      name: c.name,
      ...(c.resources ? { resources: c.resources } : {}),
      ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}),
    }));
  const picked: V1PodSpec = {
    containers: resources(s.containers) as V1PodSpec['containers'],
    ...(s.initContainers?.length ? { initContainers: resources(s.initContainers) as V1PodSpec['initContainers'] } : {}),
    ...(s.resources ? { resources: s.resources } : {}),
    ...(s.overhead ? { overhead: s.overhead } : {}),
    ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.affinity ? { affinity: s.affinity } : {}),
    ...(s.tolerations ? { tolerations: s.tolerations } : {}),
    ...(s.priorityClassName || priorityClassName
      ? { priorityClassName: s.priorityClassName ?? priorityClassName }
      : {}),
  };
  return { spec: picked };
}

/** The pod sets of a cluster: the master, then each worker group with its desired count. */
export function clusterPodSets(c: ValidComputeCluster): PodSet[] {
  const priority = c.spec.scheduling?.priorityClassName;
  const sets: PodSet[] = [
    { name: POD_SETS.master, count: 1, template: quotaTemplate(c.spec.master.template.spec, priority) },
  ];
  for (const g of workerGroups(c)) {
    const count = desiredCount(c, g);
    if (count === 0) continue; // an empty group needs no quota
    sets.push({ name: g.name, count, template: quotaTemplate(g.pool.template.spec, priority) });
  }
  return sets;
}

/**
 * The job's pod sets: the driver, and with a clusterTemplate the cluster's master and workers too
 * (a job on a shared cluster asks quota for its driver only: the cluster is not its own).
 */
export function jobPodSets(job: ValidComputeJob, shared: ComputeCluster | undefined): PodSet[] {
  const cluster = job.spec.clusterTemplate ? (ephemeralSpecOf(job) as ValidComputeCluster) : undefined;
  const priority = (cluster ?? shared)?.spec.scheduling?.priorityClassName;
  const driver = { name: POD_SETS.driver, count: 1, template: quotaTemplate(job.spec.template.spec, priority) };
  return [...(cluster ? clusterPodSets(cluster) : []), driver];
}

/** The clusterTemplate as a cluster object, for the group helpers (validated with the job). */
const ephemeralSpecOf = (job: ValidComputeJob): Pick<ComputeCluster, 'metadata' | 'spec'> => ({
  metadata: { name: nameOf(job), namespace: namespaceOf(job) },
  spec: job.spec.clusterTemplate!.spec,
});

/** The PriorityClass Kueue orders the owner by: its WorkloadPriorityClass label, else its pods'. */
export function priorityClassOf(owner: { metadata: V1ObjectMeta }, podSets: PodSet[]): PriorityClassRef | undefined {
  const wpc = owner.metadata.labels?.[KUEUE.priorityLabel];
  if (wpc) return { group: 'kueue.x-k8s.io', kind: 'WorkloadPriorityClass', name: wpc };
  const pc = podSets.map((p) => p.template.spec?.priorityClassName).find((n) => !!n);
  return pc ? { group: 'scheduling.k8s.io', kind: 'PriorityClass', name: pc } : undefined;
}

/** The Workload of a queued job or cluster, controlled by it (deleting the owner deletes it). */
export function buildWorkload(
  kind: OwnerKind,
  owner: { metadata: V1ObjectMeta },
  podSets: PodSet[],
  priority: { ref?: PriorityClassRef; value: number },
): Workload {
  return {
    apiVersion: `${KUEUE.group}/${KUEUE.version}`,
    kind: 'Workload',
    metadata: {
      name: workloadName(kind, owner),
      namespace: namespaceOf(owner),
      labels: { [LABELS.managedBy]: 'gaffer', [OWNER_LABEL[kind]]: nameOf(owner), [KUEUE.jobUidLabel]: uidOf(owner) },
      ownerReferences: [controllerRef(owner, API_VERSION, KINDS[kind].kind)],
    },
    spec: {
      queueName: queueOf(owner)!,
      podSets,
      ...(priority.ref ? { priorityClassRef: priority.ref } : {}),
      priority: priority.value,
    },
  };
}

/**
 * Whether the Workload still asks for what the job needs: the same pod sets, counts and
 * templates. Kueue keeps pod sets as they were admitted; a job whose needs changed gets a new one.
 */
export function podSetsMatch(w: Workload, want: PodSet[]): boolean {
  const have = w.spec.podSets;
  return (
    have.length === want.length &&
    want.every(
      (p, i) => have[i]?.name === p.name && have[i]?.count === p.count && sameTemplate(have[i].template, p.template),
    )
  );
}

/**
 * Whether a pod set in both asks for other pods than were admitted (requests, node selection):
 * counts aside, and sets added or emptied aside (those are scales, held at the admitted count).
 */
export function templatesChanged(w: Workload, want: PodSet[]): boolean {
  const have = new Map(w.spec.podSets.map((p) => [p.name, p]));
  return want.some((p) => {
    const admitted = have.get(p.name);
    return !!admitted && !sameTemplate(admitted.template, p.template);
  });
}

/** Templates compared by what Kueue reads (the server adds nothing to them but may drop empty fields). */
const sameTemplate = (a: V1PodTemplateSpec, b: V1PodTemplateSpec): boolean =>
  stableStringify(normalize(a.spec)) === stableStringify(normalize(b.spec));

/** What a Go client writes back or leaves out alike: nothing, an empty list, an empty object (`resources: {}`). */
const isEmpty = (x: unknown): boolean =>
  x === undefined ||
  x === null ||
  (Array.isArray(x) && x.length === 0) ||
  (typeof x === 'object' && !Array.isArray(x) && Object.values(x as object).every(isEmpty));

/** Resource lists, whose quantities a Go client rewrites in canonical form (`cpu: 2` as "2", 1024Mi as 1Gi). */
const QUANTITY_LISTS = new Set(['requests', 'limits', 'overhead']);

function normalize(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => !isEmpty(x))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (QUANTITY_LISTS.has(key)) return Object.fromEntries(entries.map(([k, x]) => [k, byValue(x)]));
    return Object.fromEntries(entries.map(([k, x]) => [k, normalize(x, k)]));
  }
  return v;
}

/** A quantity by its value (milli-units), so that equal amounts written alike compare equal. */
const byValue = (q: unknown): unknown => {
  const n = typeof q === 'string' || typeof q === 'number' ? parseQuantity(q) : undefined;
  return n === undefined ? q : n.toString();
};

/** What an admission puts on one pod set's pods: its flavors' node labels and tolerations. */
export interface Placement {
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
}

/**
 * The placement of each admitted pod set, from the flavors Kueue assigned it (as Kueue's
 * jobframework does when it starts a job); undefined when a flavor is not known (yet).
 */
export function placements(
  w: Workload,
  flavor: (name: string) => ResourceFlavor | undefined,
): Map<string, Placement> | undefined {
  const out = new Map<string, Placement>();
  for (const a of w.status?.admission?.podSetAssignments ?? []) {
    const p: Placement = { nodeSelector: {}, tolerations: [] };
    for (const name of new Set(Object.values(a.flavors ?? {}))) {
      const f = flavor(name);
      if (!f) return undefined;
      Object.assign(p.nodeSelector, f.spec?.nodeLabels ?? {});
      p.tolerations.push(...(f.spec?.tolerations ?? []));
    }
    out.set(a.name, p);
  }
  return out;
}

/** A pod spec with a placement applied: node labels merged into its selector, tolerations added. */
export function placeSpec<T extends { nodeSelector?: Record<string, string>; tolerations?: Toleration[] }>(
  spec: T,
  p: Placement | undefined,
): T {
  if (!p || (!Object.keys(p.nodeSelector).length && !p.tolerations.length)) return spec;
  return {
    ...spec,
    nodeSelector: { ...(spec.nodeSelector ?? {}), ...p.nodeSelector },
    tolerations: [...(spec.tolerations ?? []), ...p.tolerations],
  };
}

/** The ephemeral cluster with each pod set's placement on its template (master, each group). */
export function placeCluster(c: ComputeCluster, ps: Map<string, Placement>): ComputeCluster {
  const out = structuredClone(c);
  const place = (t: V1PodTemplateSpec, set: string) => {
    if (t.spec) t.spec = placeSpec(t.spec, ps.get(set));
  };
  place(out.spec.master.template, POD_SETS.master);
  place(out.spec.workers.template, POD_SETS.workers);
  for (const g of out.spec.workerGroups ?? []) place(g.template, g.name);
  return out;
}

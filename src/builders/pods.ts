// Pure builders of the pods Gaffer creates: (cluster or job, settings) -> V1Pod.
import type { V1Container, V1EnvVar, V1Pod, V1PodTemplateSpec } from '../kube/types.ts';
import { API_VERSION } from '../api/v1alpha1/group.ts';
import type { ValidComputeCluster as ComputeCluster } from '../api/v1alpha1/index.ts';
import { labelOf, nameOf, namespaceOf, uidOf } from '../kube/meta.ts';
import { revisionHash } from './hash.ts';
import { LABELS, baseLabels, names, type Role } from './labels.ts';
import { defaultGroup, groupNamed, groupOf, type WorkerGroup } from './groups.ts';
import { gangMembership, gangProvider, PROVIDER_SCHEDULERS } from './gang.ts';
import { controllerRef, type Owner } from './owner.ts';
import { masterPorts } from './services.ts';

export interface Wiring {
  cluster: string;
  namespace: string;
  masterPort?: number;
}

/** The GAFFER_* environment of docs/api.md; `extra` adds the role's own variables. */
export function gafferEnv(w: Wiring, role: Role, extra: Record<string, string> = {}): V1EnvVar[] {
  const host = `${names.masterService(w.cluster)}.${w.namespace}.svc`;
  const vars: Record<string, string> = {
    GAFFER_CLUSTER: w.cluster,
    GAFFER_NAMESPACE: w.namespace,
    GAFFER_ROLE: role,
    GAFFER_MASTER_HOST: host,
    ...(w.masterPort !== undefined
      ? { GAFFER_MASTER_PORT: String(w.masterPort), GAFFER_MASTER_ADDR: `${host}:${w.masterPort}` }
      : {}),
    ...extra,
  };
  return Object.entries(vars).map(([name, value]) => ({ name, value }));
}

/** Adds each variable to every container and init container that does not set it itself. */
function injectEnv(containers: V1Container[] | undefined, env: V1EnvVar[]): V1Container[] | undefined {
  return containers?.map((c) => {
    const taken = new Set((c.env ?? []).map((e) => e.name));
    return { ...c, env: [...(c.env ?? []), ...env.filter((e) => !taken.has(e.name))] };
  });
}

/**
 * spec.scheduling as the pods are built from it: the scheduler and priority of every pod whose
 * template sets none, and whether the master and workers belong to the gang (its PodGroup,
 * named after the cluster). Only whether there is a gang is here: its size and timeout change
 * no pod.
 */
export interface Scheduling {
  schedulerName?: string;
  priorityClassName?: string;
  gang?: true;
  /** The gang's provider but Kubernetes (absent for it, so that its pods keep their revision). */
  gangProvider?: 'Coscheduling' | 'Volcano';
}

interface PodParts {
  name: string;
  scheduling?: Scheduling;
  /** How the pod joins the gang's PodGroup when scheduling.gang is set (masters and workers; gangMembership). */
  gang?: ReturnType<typeof gangMembership>;
  namespace: string;
  template: V1PodTemplateSpec;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  owner: { ref: Owner; apiVersion: string; kind: string };
  env: V1EnvVar[];
  hostname?: string;
  subdomain?: string;
}

function buildPod(p: PodParts): V1Pod {
  const spec = structuredClone(p.template.spec ?? { containers: [] });
  spec.containers = injectEnv(spec.containers, p.env) ?? [];
  if (spec.initContainers) spec.initContainers = injectEnv(spec.initContainers, p.env);
  if (p.scheduling?.schedulerName) spec.schedulerName ??= p.scheduling.schedulerName;
  if (p.scheduling?.priorityClassName) spec.priorityClassName ??= p.scheduling.priorityClassName;
  // spec.schedulingGroup is newer than the client's types (core/v1 PodSpec, Kubernetes 1.36).
  if (p.gang?.spec) Object.assign(spec, p.gang.spec);
  if (p.hostname) spec.hostname = p.hostname;
  if (p.subdomain) spec.subdomain = p.subdomain;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      // The template's labels first: Gaffer's own must win, the selectors depend on them.
      labels: { ...(p.template.metadata?.labels ?? {}), ...p.labels, ...(p.gang?.labels ?? {}) },
      annotations: {
        ...(p.template.metadata?.annotations ?? {}),
        ...(p.annotations ?? {}),
        ...(p.gang?.annotations ?? {}),
      },
      ownerReferences: [controllerRef(p.owner.ref, p.owner.apiVersion, p.owner.kind)],
    },
    spec,
  };
}

const wiringOf = (c: ComputeCluster): Wiring => ({
  cluster: nameOf(c),
  namespace: namespaceOf(c),
  masterPort: masterPorts(c)[0]?.port,
});

/**
 * Everything a master or worker pod is built from but what differs between workers (the index,
 * GAFFER_WORKERS as of the pod's creation): the template and the wiring of GAFFER_*. The
 * revision hashes this, so a change of any of it (the master's port too) is rolled out.
 */
interface PodInputs {
  template: V1PodTemplateSpec;
  wiring: Wiring;
  /** Absent when nothing is set, so that clusters without it keep the revision they had. */
  scheduling?: Scheduling;
}

/**
 * spec.scheduling as it applies to a pod, if it sets anything (absent keys left out: the
 * revision hashes it). A gang member goes to the provider's scheduler when none is named;
 * a driver is no member.
 */
const schedulingOf = (c: ComputeCluster, member: boolean): Scheduling | undefined => {
  const s = c.spec.scheduling;
  const provider = member ? gangProvider(c) : undefined;
  const schedulerName = s?.schedulerName ?? (provider && PROVIDER_SCHEDULERS[provider]);
  const out: Scheduling = {
    ...(schedulerName ? { schedulerName } : {}),
    ...(s?.priorityClassName ? { priorityClassName: s.priorityClassName } : {}),
    ...(provider ? { gang: true as const } : {}),
    ...(provider && provider !== 'Kubernetes' ? { gangProvider: provider } : {}),
  };
  return Object.keys(out).length ? out : undefined;
};
const inputs = (c: ComputeCluster, template: V1PodTemplateSpec): PodInputs => {
  const scheduling = schedulingOf(c, true);
  return { template, wiring: wiringOf(c), ...(scheduling ? { scheduling } : {}) };
};
const masterInputs = (c: ComputeCluster): PodInputs => inputs(c, c.spec.master.template);
const workerInputs = (c: ComputeCluster, g: WorkerGroup): PodInputs => inputs(c, g.pool.template);

/** What a revision is of: the master, or one worker group (by name). */
type RevisionOf = 'master' | { group: WorkerGroup };

/** A role's revision (of its inputs) and the template-only revision pods of an older operator carry. */
interface Revisions {
  full: string;
  templateOnly: string;
}

/**
 * Revisions per cluster object, computed once: every pod of a reconcile is checked against them
 * (a 100-worker cluster hashed its template 200 times per reconcile). Cached objects are never
 * mutated (a change arrives as a new object), so the object is the key and a WeakMap forgets it.
 */
const revisionMemo = new WeakMap<ComputeCluster, Map<string, Revisions>>();

function revisionsOf(c: ComputeCluster, of: RevisionOf): Revisions {
  let memo = revisionMemo.get(c);
  if (!memo) revisionMemo.set(c, (memo = new Map()));
  const key = of === 'master' ? 'master' : `group:${of.group.name}`;
  let r = memo.get(key);
  if (!r) memo.set(key, (r = hashInputs(of === 'master' ? masterInputs(c) : workerInputs(c, of.group))));
  return r;
}

const hashInputs = (inputs: PodInputs): Revisions => ({
  full: revisionHash(inputs),
  templateOnly: revisionHash(inputs.template),
});

export const masterRevision = (c: ComputeCluster) => revisionsOf(c, 'master').full;
/** A worker group's revision (the default group's when none is named). */
export const workerRevision = (c: ComputeCluster, g: WorkerGroup = defaultGroup(c)) =>
  revisionsOf(c, { group: g }).full;

/**
 * Whether a pod is of the current revision. Pods created before the revision covered the wiring
 * carry a hash of the template alone; they count as current while the template is unchanged, so
 * upgrading the operator does not restart every master and worker (a master restart ends the
 * running job attempts), unless their live GAFFER_* env was found to be an older wiring
 * (`staleWiring`, their uids: see hasCurrentWiring). The reconciler relabels the others with the
 * full revision (revisionToRelabel), so a later change of the wiring (the master's port) rolls them.
 */
const isTemplateOnly = (rev: string | undefined, r: Revisions) => rev !== r.full && rev === r.templateOnly;

/** Uids of template-only pods whose live GAFFER_* env is not the current wiring: outdated, they roll. */
export type StaleWiring = ReadonlySet<string>;
const NONE: StaleWiring = new Set();

function isCurrent(pod: V1Pod, r: Revisions, stale: StaleWiring): boolean {
  const rev = labelOf(pod, LABELS.revision);
  return rev === r.full || (rev === r.templateOnly && !stale.has(uidOf(pod)));
}
export const isCurrentMaster = (c: ComputeCluster, pod: V1Pod, stale = NONE) =>
  isCurrent(pod, revisionsOf(c, 'master'), stale);
/** A worker of a group the spec no longer has is never current. */
export function isCurrentWorker(c: ComputeCluster, pod: V1Pod, stale = NONE): boolean {
  const g = groupNamed(c, groupOf(pod));
  return !!g && isCurrent(pod, revisionsOf(c, { group: g }), stale);
}

/**
 * The revision label a master or worker labelled with a current template-only revision should
 * carry now (the full revision); undefined for any other pod. The reconciler relabels it only
 * once its live env is found to have the current wiring (hasCurrentWiring).
 */
export function revisionToRelabel(c: ComputeCluster, pod: V1Pod): string | undefined {
  const of = revisionOfPod(c, pod);
  if (!of) return undefined;
  const r = revisionsOf(c, of);
  return isTemplateOnly(labelOf(pod, LABELS.revision), r) ? r.full : undefined;
}

/** The master, or the worker's group if the spec still has it. */
function revisionOfPod(c: ComputeCluster, pod: V1Pod): RevisionOf | undefined {
  const role = labelOf(pod, LABELS.role);
  if (role === 'master') return 'master';
  const group = role === 'worker' ? groupNamed(c, groupOf(pod)) : undefined;
  return group && { group };
}

/**
 * GAFFER_* variables that are not the cluster's wiring: the worker count as of the pod's
 * creation, and the group (its pod name says it; workers of older operators lack it).
 */
const UNWIRED = new Set(['GAFFER_WORKERS', 'GAFFER_WORKER_GROUP']);

/**
 * A pod's GAFFER_* wiring as `container NAME=value` lines, sorted. A variable set from elsewhere
 * (valueFrom) is the template's, which the revision covers already: only that it is so counts.
 * The API server drops empty values, so none reads as empty.
 */
const wiringEnv = (pod: V1Pod): string[] =>
  [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]
    .flatMap((k) =>
      (k.env ?? [])
        .filter((e) => e.name.startsWith('GAFFER_') && !UNWIRED.has(e.name))
        .map((e) => `${k.name} ${e.name}=${e.valueFrom ? '(valueFrom)' : (e.value ?? '')}`),
    )
    .sort();

/**
 * Whether a master or worker as read live (the cache keeps no container env) carries the GAFFER_*
 * variables the builder gives that pod now (the same containers, the template's own values
 * first), but GAFFER_WORKERS. A template-only label says nothing of the wiring: the master port
 * may have changed before the pod was relabelled (with the operator's upgrade, while it was
 * down, or while the relabel was held or refused). Only such a pod is relabelled; the others roll.
 */
export function hasCurrentWiring(c: ComputeCluster, live: V1Pod): boolean {
  const of = revisionOfPod(c, live);
  if (!of) return false;
  const index = Number(labelOf(live, LABELS.workerIndex));
  const want = of === 'master' ? buildMasterPod(c) : buildWorkerPod(c, index, 0, of.group);
  const [a, b] = [wiringEnv(want), wiringEnv(live)];
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

export function buildMasterPod(c: ComputeCluster): V1Pod {
  const cluster = nameOf(c);
  const { template, wiring, scheduling } = masterInputs(c);
  return buildPod({
    name: names.master(cluster),
    scheduling,
    gang: gangMembership(c, 'master'),
    namespace: namespaceOf(c),
    template,
    labels: { ...baseLabels(cluster), [LABELS.role]: 'master', [LABELS.revision]: masterRevision(c) },
    owner: { ref: c, apiVersion: API_VERSION, kind: 'ComputeCluster' },
    env: gafferEnv(wiring, 'master'),
  });
}

/** Worker `index` of group `g`; `desiredWorkers` (GAFFER_WORKERS) is the group's desired count. */
export function buildWorkerPod(
  c: ComputeCluster,
  index: number,
  desiredWorkers: number,
  g: WorkerGroup = defaultGroup(c),
): V1Pod {
  const cluster = nameOf(c);
  const { template, wiring, scheduling } = workerInputs(c, g);
  const name = names.worker(cluster, index, g.name);
  return buildPod({
    name,
    scheduling,
    gang: gangMembership(c, g.name),
    namespace: namespaceOf(c),
    template,
    labels: {
      ...baseLabels(cluster),
      [LABELS.role]: 'worker',
      [LABELS.workerGroup]: g.name,
      [LABELS.workerIndex]: String(index),
      [LABELS.revision]: workerRevision(c, g),
    },
    owner: { ref: c, apiVersion: API_VERSION, kind: 'ComputeCluster' },
    env: gafferEnv(wiring, 'worker', {
      GAFFER_WORKER_GROUP: g.name,
      GAFFER_WORKER_INDEX: String(index),
      GAFFER_WORKERS: String(desiredWorkers),
    }),
    // Stable DNS per worker: <cluster>-<group>-<i>.<cluster>-workers.<ns>.svc
    hostname: name,
    subdomain: names.workersService(cluster),
  });
}

/** A job's driver pod for one attempt, wired to the cluster's master. */
export function buildDriverPod(
  job: Owner & { metadata: { namespace?: string }; spec: { template: V1PodTemplateSpec } },
  cluster: ComputeCluster,
  attempt: number,
  desiredWorkers: number,
): V1Pod {
  const jobName = nameOf(job);
  const template = structuredClone(job.spec.template);
  template.spec = { ...(template.spec ?? { containers: [] }), restartPolicy: 'Never' };
  return buildPod({
    name: names.driver(jobName, attempt),
    // The driver is no member of the gang: it starts once the cluster is Ready, never with it.
    scheduling: schedulingOf(cluster, false),
    namespace: namespaceOf(job),
    template,
    labels: {
      ...baseLabels(nameOf(cluster)),
      [LABELS.role]: 'driver',
      [LABELS.job]: jobName,
      [LABELS.jobUid]: uidOf(job),
      [LABELS.attempt]: String(attempt),
    },
    owner: { ref: job, apiVersion: API_VERSION, kind: 'ComputeJob' },
    env: gafferEnv(wiringOf(cluster), 'driver', {
      GAFFER_JOB: jobName,
      GAFFER_ATTEMPT: String(attempt),
      GAFFER_WORKERS: String(desiredWorkers),
    }),
  });
}

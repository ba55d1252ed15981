// What makes a ComputeJob be reconciled: its own changes, its driver pods, its cluster's
// master (status and pod) and readiness, and the nodes its drivers run on. Handlers only
// enqueue keys, and lower the job's expectations as its driver writes show.
import type { ComputeCluster, ComputeJob } from '../../api/v1alpha1/index.ts';
import { LABELS } from '../../builders/labels.ts';
import { KUEUE } from '../../builders/workload.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { KObject } from '../../runtime/informer.ts';
import { namespacedKey, nameOf, namespaceOf, objectKey } from '../../runtime/keys.ts';
import { observePodEvent, type Expectations } from '../common/expectations.ts';
import {
  anyOf,
  changedBy,
  conditionStatus,
  deletionStarted,
  filterUpdates,
  generationChanged,
  nodeReadyChanged,
} from '../../runtime/predicates.ts';
import type { JobDeps } from './reconciler.ts';
import { watchKueue } from '../computecluster/watches.ts';

/** The job a driver pod runs for, by its job label (other pods: none). */
export const jobKeyOf = (p: KObject): string[] => {
  const j = p.metadata?.labels?.[LABELS.job];
  return j && p.metadata?.labels?.[LABELS.role] === 'driver' ? [namespacedKey(namespaceOf(p), j)] : [];
};
/** The cluster a job runs on: its clusterRef, or its own ephemeral cluster of the same name. */
const targetClusterKey = (j: ComputeJob): string =>
  namespacedKey(namespaceOf(j), j.spec?.clusterRef?.name ?? nameOf(j));

/** What a job waits for in its cluster: a new master, readiness, and a spec the cluster has caught up with. */
const clusterSignalChanged = changedBy((c: ComputeCluster) => [
  c.status?.master?.uid,
  conditionStatus(c.status?.conditions, 'Ready'),
  c.metadata?.generation,
  c.status?.observedGeneration,
]);

export function addJobIndexes(d: Pick<JobDeps, 'pods' | 'jobs' | 'kueue'>): void {
  d.pods.addIndex('job', jobKeyOf);
  d.jobs.addIndex('target', (j) => [targetClusterKey(j)]);
  d.kueue?.workloads.addIndex('job', workloadJobKey);
}

/** The job a Workload of Gaffer's is for, by its job label. */
const workloadJobKey = (w: KObject): string[] => {
  const j = w.metadata?.labels?.[LABELS.job];
  return j ? [namespacedKey(namespaceOf(w), j)] : [];
};

/** A job's queue: adding, changing or removing kueue.x-k8s.io/queue-name changes what the job waits for. */
const queueChanged = changedBy((j: ComputeJob) => [j.metadata?.labels?.[KUEUE.queueLabel]]);

/** A master pod's change that can end the attempts running against it: it failed, exited or is going. */
const masterEnded = changedBy((p: V1Pod) => [p.status?.phase, !!p.metadata?.deletionTimestamp]);

export function watchJobs(
  ctl: Controller,
  d: Pick<JobDeps, 'jobs' | 'pods' | 'clusters' | 'nodes' | 'kueue'>,
  expectations: Expectations,
): void {
  watchKueue(ctl, d.kueue, workloadJobKey, () => d.jobs.list());
  const enqueueJobOf = (p: KObject) => {
    for (const k of jobKeyOf(p)) ctl.enqueue(k);
  };
  const enqueueJobsOn = (clusterKey: string) => {
    for (const j of d.jobs.byIndex('target', clusterKey)) ctl.enqueue(objectKey(j));
  };
  d.jobs.on(
    filterUpdates(anyOf(generationChanged, deletionStarted, queueChanged), (e) => ctl.enqueue(objectKey(e.obj))),
  );
  // Not batched (unlike the cluster's pods): a driver's events are few, and an evicted driver's
  // intermediate state (DisruptionTarget while terminating) must be read before it is gone.
  d.pods.on((e) => {
    observePodEvent(expectations, jobKeyOf(e.obj), e); // before the reconcile it wakes can ask
    enqueueJobOf(e.obj);
  });
  // The jobs on a cluster learn of its master's failure from the pod, before the cluster's status says so.
  d.pods.on(
    filterUpdates(masterEnded, (e) => {
      if (e.obj.metadata?.labels?.[LABELS.role] !== 'master') return;
      const cluster = e.obj.metadata.labels[LABELS.cluster];
      if (cluster) enqueueJobsOn(namespacedKey(namespaceOf(e.obj), cluster));
    }),
  );
  d.clusters.on(
    filterUpdates(clusterSignalChanged, (e) => {
      enqueueJobsOn(objectKey(e.obj));
    }),
  );
  d.nodes.on(
    filterUpdates(nodeReadyChanged, (e) => {
      for (const p of d.pods.byIndex('node', nameOf(e.obj))) enqueueJobOf(p);
    }),
  );
}

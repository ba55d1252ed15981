// What makes a ComputeCluster be reconciled: its own changes, and those of its pods,
// Services, PodDisruptionBudgets, nodes and jobs. Handlers only enqueue keys.
import type { ComputeJob } from '../../api/v1alpha1/index.ts';
import { KUEUE } from '../../builders/workload.ts';
import type { KueueCaches } from '../common/workloads.ts';
import { LABELS } from '../../builders/labels.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { Controller } from '../../runtime/controller.ts';
import type { InformerEvent, KObject } from '../../runtime/informer.ts';
import { observePodEvent, type Expectations } from '../common/expectations.ts';
import { namespacedKey, nameOf, namespaceOf, objectKey } from '../../runtime/keys.ts';
import {
  annotationsChanged,
  anyOf,
  deletionStarted,
  filterUpdates,
  generationChanged,
  labelsChanged,
  nodeReadyChanged,
  type UpdatePredicate,
} from '../../runtime/predicates.ts';
import { POD_EVENT_BATCH_MS } from '../common/batching.ts';
import type { ClusterDeps } from './reconciler.ts';

/** The cluster a pod or Service belongs to, by its cluster label. */
const clusterKeyOf = (o: KObject): string[] => {
  const c = o.metadata?.labels?.[LABELS.cluster];
  return c ? [namespacedKey(namespaceOf(o), c)] : [];
};
/** The cluster a job runs on, once it has chosen one. */
const jobClusterKey = (j: ComputeJob): string[] =>
  j.status?.clusterName ? [namespacedKey(namespaceOf(j), j.status.clusterName)] : [];

/** Our own status writes do not need a reconcile; spec and metadata changes do. */
const specOrMetadataChanged = anyOf(generationChanged, labelsChanged, annotationsChanged, deletionStarted);
/** A budget's spec (its generation) or labels changed, or it is being deleted; not its status. */
const budgetChanged = anyOf(generationChanged, labelsChanged, deletionStarted);
/** A job started or stopped running on a cluster: the cluster's active job count moves. */
const jobPhaseOrClusterChanged: UpdatePredicate<ComputeJob> = ({ old, obj }) =>
  old.status?.phase !== obj.status?.phase || old.status?.clusterName !== obj.status?.clusterName;

/** Lowers the cluster's expectations as the cache shows its writes (common/expectations.ts). */
export const observeExpectations = (expectations: Expectations, e: InformerEvent<V1Pod>): void =>
  observePodEvent(expectations, clusterKeyOf(e.obj), e);

export function addIndexes(d: Pick<ClusterDeps, 'pods' | 'services' | 'budgets' | 'jobs' | 'kueue'>): void {
  d.kueue?.workloads.addIndex('cluster', clusterKeyOf);
  d.pods.addIndex('cluster', clusterKeyOf);
  d.pods.addIndex('node', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  d.services.addIndex('cluster', clusterKeyOf);
  d.budgets.addIndex('cluster', clusterKeyOf);
  d.jobs.addIndex('cluster', jobClusterKey);
}

export function watchClusters(
  ctl: Controller,
  d: Pick<ClusterDeps, 'clusters' | 'pods' | 'services' | 'budgets' | 'nodes' | 'jobs' | 'kueue'>,
  expectations: Expectations,
): void {
  watchKueue(ctl, d.kueue, clusterKeyOf, () => d.clusters.list());
  const enqueueClusterOf = (o: KObject) => {
    for (const k of clusterKeyOf(o)) ctl.enqueue(k);
  };
  // The master's events are not batched: a ComputeJob learns of a new master only from the
  // cluster's status, and a driver that fails right after its master must not be blamed for it.
  const batchClusterOf = (o: KObject) => {
    if (o.metadata?.labels?.[LABELS.role] === 'master') return enqueueClusterOf(o);
    for (const k of clusterKeyOf(o)) ctl.enqueueAfter(k, POD_EVENT_BATCH_MS);
  };
  d.clusters.on(filterUpdates(specOrMetadataChanged, (e) => ctl.enqueue(objectKey(e.obj))));
  d.pods.on((e) => {
    observeExpectations(expectations, e); // before the reconcile it wakes can ask
    batchClusterOf(e.obj);
  });
  d.services.on((e) => batchClusterOf(e.obj));
  // The disruption controller writes a budget's status on every pod change: only our fields matter.
  d.budgets.on(filterUpdates(budgetChanged, (e) => batchClusterOf(e.obj)));
  d.nodes.on(
    filterUpdates(nodeReadyChanged, (e) => {
      for (const p of d.pods.byIndex('node', nameOf(e.obj))) enqueueClusterOf(p);
    }),
  );
  // A job that moves to another cluster changes both: the one it left and the one it chose.
  d.jobs.on(
    filterUpdates(jobPhaseOrClusterChanged, (e) => {
      for (const j of e.type === 'update' ? [e.obj, e.old] : [e.obj]) for (const k of jobClusterKey(j)) ctl.enqueue(k);
    }),
  );
}

/**
 * Kueue's side of queued jobs or clusters: their Workloads (admission, eviction) wake their owner
 * (`ownerOf`), and a flavor change wakes every queued one (an admission may name a flavor before
 * the cache has it).
 */
export function watchKueue(
  ctl: Controller,
  kueue: KueueCaches | undefined,
  ownerOf: (w: KObject) => string[],
  owners: () => KObject[],
): void {
  if (!kueue) return;
  kueue.workloads.on((e) => {
    for (const k of ownerOf(e.obj)) ctl.enqueue(k);
  });
  kueue.flavors.on(() => {
    for (const o of owners()) if (o.metadata?.labels?.[KUEUE.queueLabel]) ctl.enqueue(objectKey(o));
  });
}

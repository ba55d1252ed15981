// A ComputeCluster queued with Kueue (labelled kueue.x-k8s.io/queue-name), as its planner sees it
// (pure): before admission, or once evicted, it runs no pod, as if suspended; once admitted, its
// pods go where the flavors Kueue assigned each pod set say, at most as many as were admitted.
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { desiredCount, workerGroups } from '../../builders/groups.ts';
import { DEFAULT_GROUP } from '../../builders/labels.ts';
import { placeCluster, POD_SETS, type Workload } from '../../builders/workload.ts';
import type { Queue } from '../common/queue.ts';

/** What the cluster's status says of its queue: why it waits, or that it runs admitted (and what was held back). */
export interface QueueStatus {
  waiting?: { reason: string; message: string };
  /** Admitted: worker groups scaled past their admitted count, held at it. */
  held?: string;
}

export interface QueuedView {
  /** The cluster to plan: suspended while not admitted, placed and capped once admitted. */
  view: ValidComputeCluster;
  status: QueueStatus;
}

const podSetOf = (group: string) => (group === DEFAULT_GROUP ? POD_SETS.workers : group);

/**
 * Each group capped at its admitted count: Kueue admitted the Workload as it was, and a workload
 * is not resized once admitted (elastic workloads are not supported): more workers wait for the
 * next admission (suspend and resume the cluster to be queued again at the new size).
 */
function capAtAdmitted(c: ValidComputeCluster, w: Workload): string | undefined {
  const admitted = new Map(w.spec.podSets.map((p) => [p.name, p.count]));
  const held: string[] = [];
  const pools = [
    { name: DEFAULT_GROUP, pool: c.spec.workers },
    ...(c.spec.workerGroups ?? []).map((g) => ({ name: g.name, pool: g })),
  ];
  for (const g of workerGroups(c)) {
    const want = desiredCount(c, g);
    const have = admitted.get(podSetOf(g.name)) ?? 0;
    if (want <= have) continue;
    // On the spec (a copy): every object the planner and status make of the view keeps the cap.
    const pool = pools.find((p) => p.name === g.name)!.pool;
    Object.assign(pool, { replicas: have, minReplicas: Math.min(pool.minReplicas, have) });
    held.push(`${g.name} ${want} > ${have}`);
  }
  return held.length
    ? `scaled past what Kueue admitted (${held.join(', ')}): held at the admitted count until the cluster is queued again (suspend and resume it)`
    : undefined;
}

export function queuedView(c: ValidComputeCluster, q: Queue, w: Workload | undefined): QueuedView {
  if (!q.admitted || !w) {
    const waiting = q.admitted ? { reason: 'Pending', message: 'waiting for its Workload' } : q;
    return {
      view: { ...c, spec: { ...c.spec, suspend: true } },
      status: { waiting: { reason: waiting.reason, message: waiting.message } },
    };
  }
  const view = placeCluster(c, q.placements) as ValidComputeCluster;
  const held = capAtAdmitted(view, w);
  // A fresh object: the groups memoized for the placed copy before the cap are not reused.
  return { view: { ...view }, status: held ? { held } : {} };
}

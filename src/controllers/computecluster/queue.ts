// A ComputeCluster queued with Kueue (labelled kueue.x-k8s.io/queue-name), as its planner sees it
// (pure): before admission, or once evicted, it runs no pod, as if suspended; once admitted, at
// most as many workers as were admitted, and new pods go where the flavors Kueue assigned each
// pod set say (running pods keep where they are: Kueue places a job once, when it starts it, and
// an edited flavor must not roll every cluster on it).
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { desiredCount, workerGroups } from '../../builders/groups.ts';
import { DEFAULT_GROUP, LABELS } from '../../builders/labels.ts';
import { placeSpec, POD_SETS, type Placement, type Workload } from '../../builders/workload.ts';
import { labelOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { RUNNING_UNQUEUED, SUSPENDED_MESSAGE, type Queue } from '../common/queue.ts';

/** What the cluster's status says of its queue: why it waits, or that it runs admitted (and what is held back). */
export interface QueueStatus {
  waiting?: { reason: string; message: string };
  /** Admitted, but something held: groups scaled past their admitted count, creates waiting for a flavor. */
  held?: string[];
  /** Runs unqueued (labelled while it ran). */
  unqueued?: string;
  /** Suspended: it asks for no quota. */
  suspended?: string;
}

export interface QueuedView {
  /** The cluster to plan: suspended while not admitted, capped at the admitted counts once admitted. */
  view: ValidComputeCluster;
  status: QueueStatus;
  /** The placement of each pod set, for the pods created now (undefined: creates are held). */
  placements?: Map<string, Placement>;
  holdCreates: boolean;
}

/**
 * Each group capped at its admitted count, on a copy: Kueue admitted the Workload as it was, and a
 * workload is not resized once admitted (elastic workloads are not supported): more workers wait
 * for the next admission (suspend and resume the cluster to be queued again at the new size).
 */
function capAtAdmitted(c: ValidComputeCluster, w: Workload): { view: ValidComputeCluster; held?: string } {
  const admitted = new Map(w.spec.podSets.map((p) => [p.name, p.count]));
  const spec = structuredClone(c.spec);
  const pools = new Map([[DEFAULT_GROUP, spec.workers], ...(spec.workerGroups ?? []).map((g) => [g.name, g] as const)]);
  const held: string[] = [];
  for (const g of workerGroups(c)) {
    const want = desiredCount(c, g);
    const have = admitted.get(g.name) ?? 0;
    if (want <= have) continue;
    const pool = pools.get(g.name)!;
    Object.assign(pool, { replicas: have, minReplicas: Math.min(pool.minReplicas, have) });
    held.push(`${g.name} ${want} > ${have}`);
  }
  if (!held.length) return { view: c };
  const message = `scaled past what Kueue admitted (${held.join(', ')}): held at the admitted count until the cluster is queued again (suspend and resume it)`;
  return { view: { ...c, spec }, held: message };
}

export function queuedView(c: ValidComputeCluster, q: Queue, w: Workload | undefined): QueuedView {
  if (!q.admitted || (!w && q.note?.reason !== RUNNING_UNQUEUED)) {
    const waiting = q.admitted ? { reason: 'Pending', message: 'waiting for its Workload' } : q;
    return {
      view: { ...c, spec: { ...c.spec, suspend: true } },
      status: { waiting: { reason: waiting.reason, message: waiting.message } },
      holdCreates: false,
    };
  }
  if (!w) return { view: c, status: { unqueued: q.note!.message }, placements: new Map(), holdCreates: false };
  const { view, held } = capAtAdmitted(c, w);
  const notes = [held, q.placements ? undefined : q.note?.message].filter((m): m is string => !!m);
  return { view, status: notes.length ? { held: notes } : {}, placements: q.placements, holdCreates: !q.placements };
}

/** A suspended labelled cluster: planned as it is (spec.suspend), its Queued condition kept. */
export const suspendedView = (c: ValidComputeCluster): QueuedView => ({
  view: c,
  status: { suspended: SUSPENDED_MESSAGE },
  holdCreates: false,
});

/** A pod about to be created, placed on its pod set's flavors (master, worker, or its group's). */
export function placePod(pod: V1Pod, ps: Map<string, Placement>): V1Pod {
  const set =
    labelOf(pod, LABELS.role) === 'master' ? POD_SETS.master : (labelOf(pod, LABELS.workerGroup) ?? DEFAULT_GROUP);
  return { ...pod, spec: placeSpec(pod.spec!, ps.get(set)) };
}

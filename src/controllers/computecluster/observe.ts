// Step 1 of planning a ComputeCluster: what its pods are and what is wrong with them (pure).
import { groupOf } from '../../builders/groups.ts';
import { DEFAULT_GROUP, LABELS } from '../../builders/labels.ts';
import type { StaleWiring } from '../../builders/pods.ts';
import { isTerminating, labelOf, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { podProblem, type NodeLookup, type PodProblem, type RecoverySettings } from '../common/podhealth.ts';
import { soonest } from '../common/time.ts';
import { deletePod, type DeletePod } from './actions.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';

export interface Observed {
  master?: V1Pod;
  masterProblem?: PodProblem;
  /**
   * Worker pods by group, then index, including terminating ones (they still hold their name);
   * a group the spec no longer has is here too (its pods are removed).
   */
  groups: Map<string, Map<number, V1Pod>>;
  /** Every worker pod, the default group first, then by group name and index. */
  workers: V1Pod[];
  /** Problems of the pods that are not terminating, by pod name. */
  problems: Map<string, PodProblem>;
  /** Template-only pods found live to lack the current wiring, by uid: outdated (isCurrentMaster). */
  staleWiring: StaleWiring;
}

export interface Observation {
  observed: Observed;
  /**
   * Pods terminating on a lost node: they stay so forever (their kubelet is gone) and keep
   * their name from the replacement, so they are force-deleted once the node counts as lost.
   */
  forceDeletes: DeletePod[];
  /** When a pod on a NotReady node would count as lost. */
  wakeAt?: number;
}

/** Sorts the cluster's pods by role; a worker without a valid index label is not Gaffer's. */
function byRole(pods: V1Pod[], staleWiring: StaleWiring): Observed {
  const observed: Observed = { groups: new Map(), workers: [], problems: new Map(), staleWiring };
  for (const p of pods) {
    const role = labelOf(p, LABELS.role);
    if (role === 'master') observed.master = p;
    if (role !== 'worker') continue;
    const index = Number(labelOf(p, LABELS.workerIndex));
    if (!Number.isInteger(index) || index < 0) continue;
    const group = groupOf(p);
    let byIndex = observed.groups.get(group);
    if (!byIndex) observed.groups.set(group, (byIndex = new Map()));
    byIndex.set(index, p);
  }
  const order = (g: string) => (g === DEFAULT_GROUP ? '' : g);
  for (const g of [...observed.groups.keys()].sort((a, b) => order(a).localeCompare(order(b)))) {
    const byIndex = observed.groups.get(g)!;
    observed.workers.push(...[...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!));
  }
  return observed;
}

export function observe(
  pods: V1Pod[],
  nodes: NodeLookup,
  recovery: RecoverySettings,
  now: number,
  staleWiring: StaleWiring = new Set(),
): Observation {
  const observed = byRole(pods, staleWiring);
  const forceDeletes: DeletePod[] = [];
  let wakeAt: number | undefined;
  for (const p of [observed.master, ...observed.workers]) {
    if (!p) continue;
    const { problem, nodeLossAt } = podProblem(p, nodes, recovery, now);
    wakeAt = soonest(wakeAt, nodeLossAt);
    if (isTerminating(p)) {
      if (problem?.reason === CLUSTER_REASONS.NodeLost) {
        forceDeletes.push(deletePod(p, problem.reason, `${problem.message}; force-deleting the pod stuck terminating`));
      }
    } else if (problem) {
      observed.problems.set(nameOf(p), problem);
    }
  }
  observed.masterProblem = observed.master ? observed.problems.get(nameOf(observed.master)) : undefined;
  return { observed, forceDeletes, wakeAt };
}

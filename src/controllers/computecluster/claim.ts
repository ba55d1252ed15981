// Which pods a ComputeCluster may count as its own (pure), as the ReplicaSet controller claims
// pods: those it controls; orphans carrying Gaffer's labels for their role and index, which
// it adopts; and, for a name it must create that is taken, why that pod is not its own
// (common/claim.ts: a conflict reported, never deleted).
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { groupOf } from '../../builders/groups.ts';
import { LABELS, names } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { labelOf, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import {
  conflictMessage as conflictMessageOf,
  whyNotAdoptable as whyNotAdoptableAs,
  type PodConflict,
} from '../common/claim.ts';

export type { PodConflict };

export interface Claim {
  /** Pods the cluster controls. */
  owned: V1Pod[];
  /** Orphans that match: adopted before planning, then counted as owned. */
  adopt: V1Pod[];
}

/** The name Gaffer gives the pod its labels describe (role and index), or undefined if they describe none. */
function nameForLabels(c: ValidComputeCluster, p: V1Pod): string | undefined {
  const cluster = nameOf(c);
  if (labelOf(p, LABELS.cluster) !== cluster || labelOf(p, LABELS.managedBy) !== 'gaffer') return undefined;
  const role = labelOf(p, LABELS.role);
  if (role === 'master') return names.master(cluster);
  const index = Number(labelOf(p, LABELS.workerIndex));
  if (role === 'worker' && Number.isInteger(index) && index >= 0) return names.worker(cluster, index, groupOf(p));
  return undefined;
}

/**
 * Why `p` cannot be adopted by the cluster; undefined when it can: no controller, not being
 * deleted, and Gaffer's labels for the role and index its name says.
 */
export const whyNotAdoptable = (c: ValidComputeCluster, p: V1Pod): string | undefined =>
  whyNotAdoptableAs(p, nameForLabels(c, p));

/** The cluster's pods (by its cluster label, drivers left out): owned ones, and orphans to adopt. */
export function claimPods(c: ValidComputeCluster, pods: V1Pod[]): Claim {
  const claim: Claim = { owned: [], adopt: [] };
  for (const p of pods) {
    if (isControlledBy(p, uidOf(c))) claim.owned.push(p);
    else if (!whyNotAdoptable(c, p)) claim.adopt.push(p);
  }
  return claim;
}

/** The message of the cluster's PodConflict condition and event. */
export const conflictMessage = (conflicts: PodConflict[]): string => conflictMessageOf('ComputeCluster', conflicts);

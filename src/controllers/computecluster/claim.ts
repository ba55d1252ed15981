// Which pods a ComputeCluster may count as its own (pure), as the ReplicaSet controller claims
// pods: those it controls; orphans carrying Gaffer's labels for their role and index, which
// it adopts (a controller ownerReference with a uid precondition); and, for a name it must
// create that is taken, why that pod is not its own (a conflict reported, never deleted).
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { LABELS, names } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { isTerminating, labelOf, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';

export interface Claim {
  /** Pods the cluster controls. */
  owned: V1Pod[];
  /** Orphans that match: adopted before planning, then counted as owned. */
  adopt: V1Pod[];
}

/** The controller ownerReference of a pod, if any. */
const controllerOf = (p: V1Pod) => p.metadata?.ownerReferences?.find((r) => r.controller);

/** The name Gaffer gives the pod its labels describe (role and index), or undefined if they describe none. */
function nameForLabels(c: ValidComputeCluster, p: V1Pod): string | undefined {
  const cluster = nameOf(c);
  if (labelOf(p, LABELS.cluster) !== cluster || labelOf(p, LABELS.managedBy) !== 'gaffer') return undefined;
  const role = labelOf(p, LABELS.role);
  if (role === 'master') return names.master(cluster);
  const index = Number(labelOf(p, LABELS.workerIndex));
  if (role === 'worker' && Number.isInteger(index) && index >= 0) return names.worker(cluster, index);
  return undefined;
}

/**
 * Why `p` cannot be adopted by the cluster; undefined when it can: no controller, not being
 * deleted, and Gaffer's labels for the role and index its name says.
 */
export function whyNotAdoptable(c: ValidComputeCluster, p: V1Pod): string | undefined {
  const ctl = controllerOf(p);
  if (ctl) return `it is controlled by ${ctl.kind} ${ctl.name}`;
  if (isTerminating(p)) return 'it is being deleted';
  if (nameForLabels(c, p) !== nameOf(p)) return "it does not carry Gaffer's labels for that role and index";
  return undefined;
}

/** The cluster's pods (by its cluster label, drivers left out): owned ones, and orphans to adopt. */
export function claimPods(c: ValidComputeCluster, pods: V1Pod[]): Claim {
  const claim: Claim = { owned: [], adopt: [] };
  for (const p of pods) {
    if (isControlledBy(p, uidOf(c))) claim.owned.push(p);
    else if (!whyNotAdoptable(c, p)) claim.adopt.push(p);
  }
  return claim;
}

/** A pod that holds a name the cluster needs and that it cannot adopt. */
export interface PodConflict {
  pod: string;
  why: string;
}

/** The message of the PodConflict condition and event. */
export const conflictMessage = (conflicts: PodConflict[]): string =>
  conflicts
    .map(
      (x) =>
        `pod ${x.pod} exists and is not controlled by this ComputeCluster: ${x.why}; delete it to let Gaffer create its own`,
    )
    .join('; ');

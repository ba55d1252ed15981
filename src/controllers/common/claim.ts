// Pods of a name Gaffer must create that it does not control (pure), shared by both kinds, as
// the ReplicaSet controller claims pods: an orphan carrying Gaffer's labels for exactly that
// name is adopted (a controller ownerReference with a uid precondition); any other pod is a
// conflict, reported with what to do, and never deleted (it may be someone's work).
import { isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';

/** A pod that holds a name the owner needs and that it cannot adopt. */
export interface PodConflict {
  pod: string;
  why: string;
}

/** The controller ownerReference of a pod, if any. */
export const controllerOf = (p: V1Pod) => p.metadata?.ownerReferences?.find((r) => r.controller);

/**
 * Why `p` cannot be adopted; undefined when it can: no controller, not being deleted, and
 * `nameForLabels` (the name Gaffer gives the pod its labels describe, for this owner) is its name.
 */
export function whyNotAdoptable(p: V1Pod, nameForLabels: string | undefined): string | undefined {
  const ctl = controllerOf(p);
  if (ctl) return `it is controlled by ${ctl.kind} ${ctl.name}`;
  if (isTerminating(p)) return 'it is being deleted';
  if (nameForLabels !== nameOf(p)) return "it does not carry Gaffer's labels for that role and index";
  return undefined;
}

/** The message of the PodConflict condition and event of an owner of this kind. */
export const conflictMessage = (kind: string, conflicts: PodConflict[]): string =>
  conflicts
    .map(
      (x) =>
        `pod ${x.pod} exists and is not controlled by this ${kind}: ${x.why}; delete it to let Gaffer create its own`,
    )
    .join('; ');

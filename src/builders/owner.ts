import { nameOf, uidOf } from '../kube/meta.ts';
import { LABELS } from './labels.ts';
import type { V1OwnerReference } from '../kube/types.ts';

export interface Owner {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; uid?: string };
}

/** A controller ownerReference: deleting the owner deletes the object (garbage collector). */
export const controllerRef = (owner: Owner, apiVersion: string, kind: string): V1OwnerReference => ({
  apiVersion,
  kind,
  name: nameOf(owner),
  uid: uidOf(owner),
  controller: true,
  blockOwnerDeletion: true,
});

/** Whether `obj` is controlled by the owner with this uid. */
export const isControlledBy = (
  obj: { metadata?: { ownerReferences?: V1OwnerReference[] } },
  uid: string | undefined,
): boolean => !!uid && !!obj.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);

/**
 * Why an object of a name the cluster needs (a PodDisruptionBudget, the gang's PodGroup) cannot
 * be taken over by it; undefined when it may be: absent, controlled by the cluster already (a
 * cache behind its own write), or an orphan of this cluster (Gaffer's labels and no controller,
 * as after `kubectl delete computecluster --cascade=orphan`). An object of the user's is never
 * overwritten: applying would take its fields and make the cluster its controller.
 */
export function whyNotOurs(
  o: { metadata?: { labels?: Record<string, string>; ownerReferences?: V1OwnerReference[] } } | undefined,
  cluster: string,
  uid: string,
): string | undefined {
  if (!o) return undefined;
  const controller = o.metadata?.ownerReferences?.find((r) => r.controller);
  if (controller?.uid === uid) return undefined;
  if (controller) return `is controlled by ${controller.kind} ${controller.name}`;
  const labels = o.metadata?.labels ?? {};
  if (labels[LABELS.managedBy] === 'gaffer' && labels[LABELS.cluster] === cluster) return undefined;
  return "exists and is not Gaffer's: delete or rename it, or turn this off";
}

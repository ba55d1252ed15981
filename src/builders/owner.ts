import { nameOf, uidOf } from '../kube/meta.ts';
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

// What a ComputeCluster plan asks the reconciler to do: typed actions, carried out in order
// (deletes, then events, then creates) by reconciler.ts.
import { CLUSTER_REASONS, type ClusterReason } from '../../api/v1alpha1/reasons.ts';
import { nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';

export interface DeletePod {
  kind: 'deletePod';
  name: string;
  /** The pod decided about: the delete is conditional on it (a newer pod of the same name is safe). */
  uid: string;
  reason: ClusterReason;
  message: string;
  /** Delete at once (grace period 0): the pod's node is lost, no kubelet will ever confirm. */
  force: boolean;
}

export interface CreatePod {
  kind: 'createPod';
  pod: V1Pod;
}

export interface ClusterEvent {
  kind: 'event';
  type: 'Normal' | 'Warning';
  reason: ClusterReason;
  message: string;
}

export type ClusterAction = DeletePod | CreatePod | ClusterEvent;

export const deletePod = (p: V1Pod, reason: ClusterReason, message: string): DeletePod => ({
  kind: 'deletePod',
  name: nameOf(p),
  uid: uidOf(p),
  reason,
  message,
  force: reason === CLUSTER_REASONS.NodeLost,
});

export const createPod = (pod: V1Pod): CreatePod => ({ kind: 'createPod', pod });

export const event = (type: ClusterEvent['type'], reason: ClusterReason, message: string): ClusterEvent => ({
  kind: 'event',
  type,
  reason,
  message,
});

export const deletesOf = (actions: ClusterAction[]) => actions.filter((a): a is DeletePod => a.kind === 'deletePod');
export const createsOf = (actions: ClusterAction[]) => actions.filter((a): a is CreatePod => a.kind === 'createPod');
export const eventsOf = (actions: ClusterAction[]) => actions.filter((a): a is ClusterEvent => a.kind === 'event');

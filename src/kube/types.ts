// The Kubernetes object types the rest of the operator uses, re-exported so that only
// src/kube imports @kubernetes/client-node (the lint's import boundary). Types only (erased
// when compiled): no code here talks to the API server, and client-node is never loaded.
import type { EventsV1Event, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';

export type {
  V1Container,
  V1ContainerStatus,
  V1EnvVar,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodCondition,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';

/** A Lease as sent and received: its MicroTimes are strings (wire.ts formatMicroTime). */
export type Lease = Omit<V1Lease, 'spec'> & {
  spec?: Omit<V1LeaseSpec, 'acquireTime' | 'renewTime'> & { acquireTime?: string; renewTime?: string };
};

/** An events.k8s.io/v1 Event as sent: eventTime is a MicroTime string. */
export type KubeEvent = Omit<EventsV1Event, 'eventTime'> & { eventTime: string };

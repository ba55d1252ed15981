// Kubernetes Events (events.k8s.io/v1) about Gaffer's objects: what users see in
// `kubectl describe` and `kubectl get events`. Best effort: a failed event is logged, never fatal.
import type { Reason } from '../api/v1alpha1/reasons.ts';
import type { KubeClient } from './client.ts';
import type { KubeEvent } from './types.ts';
import { formatMicroTime } from './wire.ts';

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** `reason` is one of Gaffer's named reasons (src/api/v1alpha1/reasons.ts), or one passed on from the kubelet. */
  record(target: EventTarget, type: 'Normal' | 'Warning', reason: Reason, note: string, action: string = reason): void {
    const ns = target.metadata?.namespace ?? 'default';
    const body: KubeEvent = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // client-go's naming: <object>.<unique hex>; a generateName ending in '.' is invalid.
      metadata: {
        name: `${target.metadata?.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
        namespace: ns,
      },
      eventTime: formatMicroTime(new Date()),
      reportingController: 'gaffer.dev/operator',
      reportingInstance: this.instance.slice(0, 128),
      action: action.slice(0, 128),
      reason: reason.slice(0, 128),
      note: note.slice(0, 1024),
      type,
      regarding: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.metadata?.name,
        namespace: ns,
        uid: target.metadata?.uid,
      },
    };
    this.client.createEvent(ns, body).catch(this.onError);
  }
}

// The operator's only door to the API server. Writes pass a client-side token bucket (so a
// burst of work cannot flood the server), every request is counted by verb, resource and
// code, and controllers see plain methods instead of client-node's request objects.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1Service,
  type V1Lease,
  type EventsV1Event,
} from '@kubernetes/client-node';
import { httpStatus } from './errors.ts';
import { nameOf, namespaceOf, type HasMetadata } from './meta.ts';

export interface RequestObserver {
  (verb: string, resource: string, code: number | 'error'): void;
}

/** Paces requests; see runtime/ratelimit.ts TokenBucket. */
export interface Pacer {
  acquire(): Promise<void>;
}

export const FIELD_MANAGER = 'gaffer';

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

export class KubeClient {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly events: EventsV1Api;

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: { writes: Pacer; events: Pacer; observe?: RequestObserver },
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
  }

  /** Runs one request, paced if `pacer` is given, and counts it. */
  async call<T>(verb: string, resource: string, fn: () => Promise<T>, pacer?: Pacer): Promise<T> {
    if (pacer) await pacer.acquire();
    try {
      const out = await fn();
      this.opts.observe?.(verb, resource, verb === 'create' ? 201 : 200);
      return out;
    } catch (e) {
      this.opts.observe?.(verb, resource, httpStatus(e) ?? 'error');
      throw e;
    }
  }

  createPod(namespace: string, body: V1Pod): Promise<V1Pod> {
    return this.call(
      'create',
      'pods',
      () => this.core.createNamespacedPod({ namespace, body, fieldManager: FIELD_MANAGER }),
      this.opts.writes,
    );
  }

  /** Deletes a pod only if it is still the one we decided about (uid precondition). */
  deletePod(namespace: string, name: string, uid?: string, gracePeriodSeconds?: number): Promise<unknown> {
    const body = {
      ...(uid ? { preconditions: { uid } } : {}),
      ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
    };
    return this.call(
      'delete',
      'pods',
      () => this.core.deleteNamespacedPod({ namespace, name, body }),
      this.opts.writes,
    );
  }

  /** Server-side apply: the operator owns exactly the fields it sends. */
  applyService(namespace: string, body: V1Service): Promise<V1Service> {
    return this.call(
      'patch',
      'services',
      () =>
        this.core.patchNamespacedService(
          { namespace, name: nameOf(body), body, fieldManager: FIELD_MANAGER, force: true },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
        ),
      this.opts.writes,
    );
  }

  /**
   * Replaces /status as a whole; the cached resourceVersion makes it conditional (409 if stale).
   * Resolves with the object as the server stored it (the custom-objects API returns it untyped).
   */
  replaceStatus<T extends HasMetadata>(ref: CustomResourceRef, obj: T): Promise<T> {
    return this.call(
      'update',
      `${ref.plural}/status`,
      async () =>
        (await this.custom.replaceNamespacedCustomObjectStatus({
          ...ref,
          namespace: namespaceOf(obj),
          name: nameOf(obj),
          body: obj,
          fieldManager: FIELD_MANAGER,
        })) as T,
      this.opts.writes,
    );
  }

  /** Creates a custom object; resolves with it as the server stored it. */
  createCustom<T>(ref: CustomResourceRef, namespace: string, body: T): Promise<T> {
    return this.call(
      'create',
      ref.plural,
      async () =>
        (await this.custom.createNamespacedCustomObject({
          ...ref,
          namespace,
          body,
          fieldManager: FIELD_MANAGER,
        })) as T,
      this.opts.writes,
    );
  }

  deleteCustom(ref: CustomResourceRef, namespace: string, name: string, uid?: string): Promise<unknown> {
    return this.call(
      'delete',
      ref.plural,
      () =>
        this.custom.deleteNamespacedCustomObject({
          ...ref,
          namespace,
          name,
          propagationPolicy: 'Background',
          body: uid ? { preconditions: { uid } } : {},
        }),
      this.opts.writes,
    );
  }

  createEvent(namespace: string, body: EventsV1Event): Promise<unknown> {
    return this.call(
      'create',
      'events',
      () => this.events.createNamespacedEvent({ namespace, body }),
      this.opts.events,
    );
  }

  // Leases bypass the write bucket: renewals must never queue behind reconcile traffic.
  readLease(namespace: string, name: string): Promise<V1Lease> {
    return this.call('get', 'leases', () => this.coordination.readNamespacedLease({ namespace, name }));
  }
  createLease(namespace: string, body: V1Lease): Promise<V1Lease> {
    return this.call('create', 'leases', () => this.coordination.createNamespacedLease({ namespace, body }));
  }
  replaceLease(namespace: string, name: string, body: V1Lease): Promise<V1Lease> {
    return this.call('update', 'leases', () => this.coordination.replaceNamespacedLease({ namespace, name, body }));
  }
}

// The operator's only door to the API server. Writes pass a client-side token bucket (so a
// burst of work cannot flood the server), every request is counted by verb, resource and
// code, and controllers see plain methods. Objects go and come as plain JSON.
import type { KubeConfig } from './config.ts';
import { httpStatus } from './errors.ts';
import { nameOf, namespaceOf, type HasMetadata } from './meta.ts';
import { Transport, type RequestOptions, type StreamHandle } from './transport.ts';
import type { KubeEvent, Lease, V1Node, V1OwnerReference, V1Pod, V1PodDisruptionBudget, V1Service } from './types.ts';
import { resourcePath, type Query } from './wire.ts';

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

/** A list response: the items as the server sent them, and where to continue. */
export interface ListResponse {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** metav1.DeleteOptions. */
interface DeleteOptions {
  preconditions?: { uid: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const core = (plural: string, namespace?: string, name?: string) =>
  resourcePath({ group: '', version: 'v1', plural, namespace, name });
/** An API group and version, as a PodGroup's provider serves it. */
export interface GroupVersion {
  group: string;
  version: string;
}
const podGroups = (api: GroupVersion, namespace: string, name: string) =>
  resourcePath({ ...api, plural: 'podgroups', namespace, name });
const budgets = (namespace: string, name: string) =>
  resourcePath({ group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespace, name });
const leases = (namespace: string, name?: string) =>
  resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, name });
const custom = (ref: CustomResourceRef, namespace: string, name?: string, subresource?: string) =>
  resourcePath({ ...ref, namespace, name, subresource });
const deleteOptions = (o: DeleteOptions) => ({ apiVersion: 'v1', kind: 'DeleteOptions', ...o });

/** A write refused by the client itself: it was fenced (fenceWrites), so it was never sent. */
export class WritesFencedError extends Error {
  override readonly name = 'WritesFencedError';
}

export class KubeClient {
  private readonly http: Transport;
  /** Leases on sockets of their own: a renewal must never wait for a socket behind reconcile traffic. */
  private readonly leaseHttp: Transport;
  /** Aborted by fenceWrites(): every write in flight is destroyed and no later one is sent. */
  private readonly fence = new AbortController();
  /** Asked before every write: a reason to fence writes now (see guardWrites). */
  private writeGuard: () => string | undefined = () => undefined;

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: { writes: Pacer; events: Pacer; observe?: RequestObserver; userAgent?: string },
  ) {
    this.http = new Transport(kc, { userAgent: opts.userAgent });
    this.leaseHttp = new Transport(kc, { maxSockets: 2, userAgent: opts.userAgent });
  }

  /**
   * Stops every write of this client for good (but the Lease's): those in flight are aborted
   * (their sockets destroyed, so a request not yet sent never reaches the server; one the server
   * has already received is not undone, and completes in its own time) and later ones fail at once
   * with WritesFencedError. Reads and watches go on. For a replica that has lost its Lease: from
   * this moment another replica may be the leader, and two writers must never overlap.
   */
  fenceWrites(reason: string): void {
    if (!this.fence.signal.aborted) this.fence.abort(new WritesFencedError(`writes fenced: ${reason}`));
  }

  get writesFenced(): boolean {
    return this.fence.signal.aborted;
  }

  /**
   * `guard` is asked before every write; a reason it returns fences writes for good. The leader
   * elector's renew deadline: a write due just after it must not leave before the renew loop has
   * noticed the loss. Lease requests are exempt from the fence: the elector alone makes them.
   */
  guardWrites(guard: () => string | undefined): void {
    this.writeGuard = guard;
  }

  /** One request of ours: paced if `pacer` is given, counted with the code the server answered. */
  private async send<T>(
    verb: string,
    resource: string,
    method: string,
    path: string,
    o: RequestOptions,
    pacer?: Pacer,
    http = this.http,
  ): Promise<T> {
    const write = method !== 'GET' && http !== this.leaseHttp;
    if (write) this.checkFence();
    if (pacer) await pacer.acquire();
    if (write) {
      // Checked again after the pacer's wait, which may have outlasted the leadership.
      this.checkFence();
      o = { ...o, signal: o.signal ? AbortSignal.any([o.signal, this.fence.signal]) : this.fence.signal };
    }
    try {
      const r = await http.send<T>(method, path, o);
      this.opts.observe?.(verb, resource, r.code);
      return r.body;
    } catch (e) {
      this.opts.observe?.(verb, resource, httpStatus(e) ?? 'error');
      throw e;
    }
  }

  private checkFence(): void {
    const blocked = this.fence.signal.aborted ? undefined : this.writeGuard();
    if (blocked) this.fenceWrites(blocked);
    if (this.fence.signal.aborted) throw this.fence.signal.reason;
  }

  /** One page of a collection (`path`: see wire.ts resourcePath); `signal` aborts it. */
  list(resource: string, path: string, query: Query, signal?: AbortSignal): Promise<ListResponse> {
    return this.send('list', resource, 'GET', path, { query, signal });
  }

  /** Watches a collection: `onEvent` per event; `onDone` once when the watch ends (see Transport.stream). */
  watch(
    path: string,
    query: Query,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err?: unknown) => void,
  ): Promise<StreamHandle> {
    return this.http.stream(
      path,
      { ...query, watch: 1 },
      (line) => {
        const e = JSON.parse(line) as { type: string; object: unknown };
        onEvent(e.type, e.object);
      },
      onDone,
    );
  }

  createPod(namespace: string, body: V1Pod): Promise<V1Pod> {
    const query = { fieldManager: FIELD_MANAGER };
    return this.send('create', 'pods', 'POST', core('pods', namespace), { body, query }, this.opts.writes);
  }

  /** Deletes a pod only if it is still the one we decided about (uid precondition). */
  deletePod(namespace: string, name: string, uid?: string, gracePeriodSeconds?: number): Promise<unknown> {
    const body = deleteOptions({
      ...(uid ? { preconditions: { uid } } : {}),
      ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
    });
    return this.send('delete', 'pods', 'DELETE', core('pods', namespace, name), { body }, this.opts.writes);
  }

  /** A live read of a pod, past the cache (the cache holds only Gaffer's pods). */
  getPod(namespace: string, name: string): Promise<V1Pod> {
    return this.send('get', 'pods', 'GET', core('pods', namespace, name), {});
  }

  /**
   * A live read of a node, past the cache: before a pod is judged lost because its node is
   * absent from the node cache, the API server must confirm the node is gone (404).
   */
  getNode(name: string): Promise<V1Node> {
    return this.send('get', 'nodes', 'GET', core('nodes', undefined, name), {});
  }

  /**
   * Adopts a pod: adds the controller ownerReference, only if the pod is still the one decided
   * about (the uid in the patch is a precondition: 409 otherwise), as the ReplicaSet controller
   * does. A strategic merge patch keeps the pod's other ownerReferences (merged by uid).
   */
  adoptPod(namespace: string, name: string, uid: string, owner: V1OwnerReference): Promise<V1Pod> {
    return this.patchPodMetadata(namespace, name, { ownerReferences: [owner], uid });
  }

  /**
   * Sets labels on a pod (its metadata only: nothing restarts), only if the pod is still the one
   * decided about (uid precondition: 409 otherwise).
   */
  labelPod(namespace: string, name: string, uid: string, labels: Record<string, string>): Promise<V1Pod> {
    return this.patchPodMetadata(namespace, name, { labels, uid });
  }

  private patchPodMetadata(namespace: string, name: string, metadata: V1Pod['metadata']): Promise<V1Pod> {
    const o = { body: { metadata }, contentType: STRATEGIC_MERGE_PATCH, query: { fieldManager: FIELD_MANAGER } };
    return this.send('patch', 'pods', 'PATCH', core('pods', namespace, name), o, this.opts.writes);
  }

  /** Server-side apply: the operator owns exactly the fields it sends (JSON is YAML). */
  applyService(namespace: string, body: V1Service): Promise<V1Service> {
    const path = core('services', namespace, nameOf(body));
    const o = { body, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: true } };
    return this.send('patch', 'services', 'PATCH', path, o, this.opts.writes);
  }

  /** Server-side apply of a gang scheduler's PodGroup (`api`: the provider's group and version). */
  applyPodGroup<T extends HasMetadata>(api: GroupVersion, namespace: string, body: T): Promise<T> {
    const path = podGroups(api, namespace, nameOf(body));
    const o = { body, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: true } };
    return this.send('patch', 'podgroups', 'PATCH', path, o, this.opts.writes);
  }

  getPodGroup<T>(api: GroupVersion, namespace: string, name: string): Promise<T> {
    return this.send('get', 'podgroups', 'GET', podGroups(api, namespace, name), {});
  }

  deletePodGroup(api: GroupVersion, namespace: string, name: string, uid: string): Promise<unknown> {
    const body = deleteOptions({ preconditions: { uid } });
    return this.send('delete', 'podgroups', 'DELETE', podGroups(api, namespace, name), { body }, this.opts.writes);
  }

  /** A live read of a PodDisruptionBudget, past the cache (the cache holds only Gaffer's). */
  getBudget(namespace: string, name: string): Promise<V1PodDisruptionBudget> {
    return this.send('get', 'poddisruptionbudgets', 'GET', budgets(namespace, name), {});
  }

  /** Server-side apply of a PodDisruptionBudget (policy/v1), as for Services. */
  applyBudget(namespace: string, body: V1PodDisruptionBudget): Promise<V1PodDisruptionBudget> {
    const path = budgets(namespace, nameOf(body));
    const o = { body, contentType: APPLY_PATCH, query: { fieldManager: FIELD_MANAGER, force: true } };
    return this.send('patch', 'poddisruptionbudgets', 'PATCH', path, o, this.opts.writes);
  }

  /** Deletes a PodDisruptionBudget, only the one decided about (uid precondition: 409 otherwise). */
  deleteBudget(namespace: string, name: string, uid: string): Promise<unknown> {
    const body = deleteOptions({ preconditions: { uid } });
    return this.send('delete', 'poddisruptionbudgets', 'DELETE', budgets(namespace, name), { body }, this.opts.writes);
  }

  /**
   * Replaces /status as a whole; the cached resourceVersion makes it conditional (409 if stale).
   * Resolves with the object as the server stored it.
   */
  replaceStatus<T extends HasMetadata>(ref: CustomResourceRef, obj: T): Promise<T> {
    const path = custom(ref, namespaceOf(obj), nameOf(obj), 'status');
    const o = { body: obj, query: { fieldManager: FIELD_MANAGER } };
    return this.send('update', `${ref.plural}/status`, 'PUT', path, o, this.opts.writes);
  }

  /** A live read of a custom object (`namespace` undefined: a cluster-scoped one). */
  getCustom<T>(ref: CustomResourceRef, namespace: string | undefined, name: string): Promise<T> {
    return this.send('get', ref.plural, 'GET', resourcePath({ ...ref, namespace, name }), {});
  }

  /** Creates a custom object; resolves with it as the server stored it. */
  createCustom<T>(ref: CustomResourceRef, namespace: string, body: T): Promise<T> {
    const o = { body, query: { fieldManager: FIELD_MANAGER } };
    return this.send('create', ref.plural, 'POST', custom(ref, namespace), o, this.opts.writes);
  }

  deleteCustom(ref: CustomResourceRef, namespace: string, name: string, uid?: string): Promise<unknown> {
    const body = deleteOptions({ propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) });
    return this.send('delete', ref.plural, 'DELETE', custom(ref, namespace, name), { body }, this.opts.writes);
  }

  createEvent(namespace: string, body: KubeEvent): Promise<unknown> {
    const path = resourcePath({ group: 'events.k8s.io', version: 'v1', plural: 'events', namespace });
    return this.send('create', 'events', 'POST', path, { body }, this.opts.events);
  }

  // Leases bypass the write bucket: renewals must never queue behind reconcile traffic. `signal`
  // aborts a try that outlived its time, so a hung request costs one try, not the lease.
  readLease(namespace: string, name: string, signal?: AbortSignal): Promise<Lease> {
    return this.send('get', 'leases', 'GET', leases(namespace, name), { signal }, undefined, this.leaseHttp);
  }
  createLease(namespace: string, body: Lease, signal?: AbortSignal): Promise<Lease> {
    return this.send('create', 'leases', 'POST', leases(namespace), { body, signal }, undefined, this.leaseHttp);
  }
  replaceLease(namespace: string, name: string, body: Lease, signal?: AbortSignal): Promise<Lease> {
    const o = { body, signal };
    return this.send('update', 'leases', 'PUT', leases(namespace, name), o, undefined, this.leaseHttp);
  }
}

// The Kueue Workload of a queued ComputeJob or ComputeCluster (the reconcile's step after the
// owner's own): created from its pod sets, removed while it holds no quota if they or the queue
// changed (and whenever the owner is suspended: a suspended object asks for no quota), its quota
// released once an evicted owner has stopped, and marked finished with a job. What Kueue's Go
// jobframework does for its own integrations (README "Queueing with Kueue").
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import {
  buildWorkload,
  KUEUE,
  podSetsMatch,
  priorityClassOf,
  queueOf,
  templatesChanged,
  workloadName,
  type OwnerKind,
  type PodSet,
  type PriorityClassRef,
  type ResourceFlavor,
  type Workload,
} from '../../builders/workload.ts';
import type { CustomResourceRef, KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1ObjectMeta } from '../../kube/types.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import {
  finishedStatus,
  hasQuota,
  isEvicted,
  isFinished,
  queueOfWorkload,
  releasedStatus,
  type Queue,
} from './queue.ts';
import { tolerated } from './writes.ts';

const kueueRef = (plural: string): CustomResourceRef => ({ group: KUEUE.group, version: KUEUE.version, plural });
export const WORKLOAD_REF = kueueRef('workloads');
export const FLAVOR_REF = kueueRef('resourceflavors');
const WPC_REF = kueueRef('workloadpriorityclasses');
const PC_REF: CustomResourceRef = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' };

/** The Kueue caches: Gaffer's Workloads (indexed by the job or cluster they are for) and the ResourceFlavors. */
export interface KueueCaches {
  workloads: Cache<Workload>;
  flavors: Cache<ResourceFlavor>;
}

/** The index of the Workloads cache that finds an owner's (watches.ts of each kind adds it). */
export const WORKLOAD_INDEX: Record<OwnerKind, string> = { ComputeJob: 'job', ComputeCluster: 'cluster' };

/** A queued job or cluster, as the Workload step sees it. */
export interface WorkloadOwner {
  kind: OwnerKind;
  obj: { metadata: V1ObjectMeta };
  /** Its cache key (namespace/name). */
  key: string;
  /** The pod sets it needs now. */
  podSets: () => PodSet[];
  /** spec.suspend: it asks for no quota, so it has no Workload. */
  suspended: boolean;
  /** A finished job: its outcome, for the Workload's Finished condition. */
  done?: { succeeded: boolean; message: string };
  /** Pods of it may still run: an evicted Workload's quota is released only once none does. */
  active: boolean;
  /** It runs unqueued (labelled while it ran): no Workload until it stops, and no polling meanwhile. */
  unqueued?: boolean;
}

/** A Workload create the API server refused (or its priority class missing): said on the owner, retried. */
interface Refusal {
  message: string;
  retryAt: number;
  generation?: number;
}

/** How long a refused Workload create waits before it is tried again (a spec change retries at once). */
const REFUSAL_RETRY_MS = 30_000;
/** How soon an owner whose pods are stopping looks again (the last pod's going may wake nothing). */
const STOPPING_RECHECK_MS = 2_000;

type Log = ReconcileContext['log'];

export class KueueWorkloads {
  private readonly refusals = new Map<string, Refusal>();

  constructor(
    private readonly client: KubeClient,
    private readonly caches: KueueCaches,
    private readonly events: EventRecorder,
  ) {}

  /** The owner's Workload, from the cache: controlled by it (its uid), preferably under its Workload name. */
  of(o: Pick<WorkloadOwner, 'kind' | 'obj' | 'key'>): Workload | undefined {
    const owned = this.caches.workloads
      .byIndex(WORKLOAD_INDEX[o.kind], o.key)
      .filter((w) => w.metadata.ownerReferences?.some((r) => r.controller && r.uid === uidOf(o.obj)));
    return owned.find((w) => nameOf(w) === workloadName(o.kind, o.obj)) ?? owned[0];
  }

  /** Where the queued owner stands (for its decision); a refused Workload create is why it waits. */
  standing(obj: { metadata: V1ObjectMeta }, w: Workload | undefined): Queue {
    const refusal = this.refusals.get(uidOf(obj));
    if (!w && refusal) return { admitted: false, reason: CLUSTER_REASONS.FailedCreate, message: refusal.message };
    return queueOfWorkload(w, queueOf(obj)!, (n) => this.caches.flavors.get(n));
  }

  forget(uid: string): void {
    this.refusals.delete(uid);
  }

  /**
   * The Workload's step, after the owner's status is written and its actions sent: what Kueue's
   * protocol asks of the owner's controller now. Returns when to look again, if a refusal waits.
   */
  async sync(o: WorkloadOwner, w: Workload | undefined, log: Log): Promise<number | undefined> {
    const queue = queueOf(o.obj);
    if (!queue) return w && this.remove(w, 'it is no longer queued', log);
    // Finished once nothing of it runs (a kept ephemeral cluster holds its quota until it goes).
    if (o.done) return w && !isFinished(w) ? this.finishWhenStopped(w, o, log) : undefined;
    // Suspended: its quota is given back once its pods are gone (not while they still terminate).
    if (o.suspended) return w && (o.active ? Date.now() + STOPPING_RECHECK_MS : this.remove(w, 'it is suspended', log));
    // A new Workload only once the pods of the last one are gone: Kueue counts only what it admits.
    if (!w && o.active) return o.unqueued ? undefined : Date.now() + STOPPING_RECHECK_MS;
    if (!w) return this.create(o, log);
    if (!hasQuota(w) && (w.spec.queueName !== queue || !podSetsMatch(w, o.podSets())))
      return this.remove(w, 'its pod sets or queue changed while it held no quota', log);
    if (hasQuota(w) && isEvicted(w) && !o.active) return this.release(w, log);
    // A cluster's templates changed while admitted (requests, node selection): Kueue's quota no
    // longer says what its pods take, so it is queued again, as Kueue stops a job that no longer
    // matches its Workload (a count change is held at the admitted count instead: queue.ts).
    if (o.kind === 'ComputeCluster' && hasQuota(w) && templatesChanged(w, o.podSets()))
      return o.active
        ? Date.now() + STOPPING_RECHECK_MS
        : this.remove(w, 'its pod templates changed while admitted: queued again', log);
    return undefined;
  }

  private async create(o: WorkloadOwner, log: Log): Promise<number | undefined> {
    const uid = uidOf(o.obj);
    const refused = this.refusals.get(uid);
    const now = Date.now();
    if (refused && refused.generation === o.obj.metadata.generation && now < refused.retryAt) return refused.retryAt;
    const podSets = o.podSets();
    try {
      const priority = await this.priorityOf(o.obj, podSets);
      await this.client.createCustom(WORKLOAD_REF, namespaceOf(o.obj), buildWorkload(o.kind, o.obj, podSets, priority));
      this.refusals.delete(uid);
      log.info('created Kueue Workload', { workload: workloadName(o.kind, o.obj), queue: queueOf(o.obj) });
    } catch (e) {
      if (isAlreadyExists(e)) return undefined; // the cache has not shown it yet
      if (!isRefused(e) && !(e instanceof MissingPriorityClass)) throw e;
      return this.refused(o.obj, e, now, log);
    }
    return undefined;
  }

  private refused(obj: { metadata: V1ObjectMeta }, e: unknown, now: number, log: Log): number {
    const message = `the Workload for Kueue was not created: ${errorMessage(e)}`;
    if (this.refusals.get(uidOf(obj))?.message !== message) {
      this.events.record(obj, 'Warning', CLUSTER_REASONS.FailedCreate, message);
      log.warn('the Workload was refused', { error: errorMessage(e) });
    }
    this.refusals.set(uidOf(obj), { message, retryAt: now + REFUSAL_RETRY_MS, generation: obj.metadata.generation });
    return now; // reconciled again at once, to say it on the owner's status
  }

  /** Kueue's priority: the WorkloadPriorityClass of its label, else its pods' PriorityClass, else 0. */
  private async priorityOf(
    obj: { metadata: V1ObjectMeta },
    podSets: PodSet[],
  ): Promise<{ ref?: PriorityClassRef; value: number }> {
    const ref = priorityClassOf(obj, podSets);
    if (!ref) return { value: 0 };
    const api = ref.kind === 'WorkloadPriorityClass' ? WPC_REF : PC_REF;
    try {
      const pc = await this.client.getCustom<{ value?: number }>(api, undefined, ref.name);
      return { ref, value: pc.value ?? 0 };
    } catch (e) {
      if (isNotFound(e)) throw new MissingPriorityClass(`${ref.kind} ${ref.name} not found`);
      throw e;
    }
  }

  private async remove(w: Workload, why: string, log: Log): Promise<undefined> {
    try {
      await this.client.deleteCustom(WORKLOAD_REF, namespaceOf(w), nameOf(w), uidOf(w));
      log.info('deleted Kueue Workload', { workload: nameOf(w), why });
    } catch (e) {
      if (!tolerated(e, [isNotFound, isConflict])) throw e;
    }
    return undefined;
  }

  /** An evicted Workload whose owner has stopped: its quota released, so that Kueue may queue it again. */
  private async release(w: Workload, log: Log): Promise<undefined> {
    await this.writeStatus(w, releasedStatus(w, Date.now()));
    log.info('released the quota of the evicted Workload', { workload: nameOf(w) });
    return undefined;
  }

  private async finishWhenStopped(w: Workload, o: WorkloadOwner, log: Log): Promise<number | undefined> {
    if (o.active) return Date.now() + STOPPING_RECHECK_MS;
    const done = o.done!;
    await this.writeStatus(w, finishedStatus(w, done.succeeded, done.message, Date.now()));
    log.info('marked the Kueue Workload finished', { workload: nameOf(w), succeeded: done.succeeded });
    return undefined;
  }

  /** /status replaced, conditional on the cached resourceVersion (a 409 retries with the next reconcile). */
  private async writeStatus(w: Workload, status: Workload['status']): Promise<void> {
    try {
      await this.client.replaceStatus(WORKLOAD_REF, { ...w, status });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** The owner's PriorityClass or WorkloadPriorityClass does not exist: the Workload cannot be made yet. */
class MissingPriorityClass extends Error {}

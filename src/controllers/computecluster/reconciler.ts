// ComputeCluster reconcile: a thin sequence of idempotent steps (KubeRay style).
//   1. Services   2. plan from the caches   3. record intent in status
//   4. delete, then create pods   5. write status if it changed   6. requeue when something is due
import {
  GROUP,
  KINDS,
  VERSION,
  validateStoredCluster,
  type ComputeCluster,
  type ComputeJob,
  type ValidComputeCluster,
} from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { LABELS } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { buildMasterService, buildWorkersService } from '../../builders/services.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { labelOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1Node, V1Pod, V1Service } from '../../kube/types.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import { stallInvalidSpec, statusEqual, tolerated, writeStatus, type ApiErrorTest } from '../common/writes.ts';
import { createsOf, deletesOf, eventsOf, type ClusterAction } from './actions.ts';
import { planCluster, type ClusterPlan } from './plan.ts';
import { Refusals } from './refusals.ts';
import { serviceMatches } from './services.ts';
import { computeClusterStatus } from './status.ts';

export { serviceMatches }; // tests import it from here

export const CLUSTER_REF = { group: GROUP, version: VERSION, plural: KINDS.ComputeCluster.plural };

export interface ClusterDeps {
  client: KubeClient;
  clusters: Cache<ComputeCluster>;
  pods: Cache<V1Pod>;
  services: Cache<V1Service>;
  nodes: Cache<V1Node>;
  jobs: Cache<ComputeJob>;
  events: EventRecorder;
  resyncMs: number;
}

/** API errors each action takes as done already. */
const TOLERATES: Record<ClusterAction['kind'], readonly ApiErrorTest[]> = {
  // Gone already, or (409 on the uid precondition) a different pod of that name by now.
  deletePod: [isNotFound, isConflict],
  // A pod of that name exists already (ours, from a reconcile the cache has not caught up with).
  createPod: [isAlreadyExists],
  event: [],
};

const ACTIVE_JOB_PHASES = new Set(['Running']);

export class ComputeClusterReconciler implements Reconciler {
  /** Pod creations the API server refused. */
  private readonly createFailures = new Refusals();
  /** Service applies the API server refused. */
  private readonly serviceFailures = new Refusals();

  constructor(private readonly d: ClusterDeps) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.clusters.get(key);
    if (!obj || obj.metadata.deletionTimestamp) {
      this.createFailures.clear(key); // owned objects go with it (GC)
      this.serviceFailures.clear(key);
      return;
    }
    const checked = validateStoredCluster(obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, CLUSTER_REF, obj, checked.errors, { phase: 'Failed' });
    const c = checked.value;
    const now = Date.now();

    const serviceError = await this.ensureServices(key, obj, c, now, log);
    const plan = planCluster(c, this.podsOf(key, c), this.d.nodes, now);
    const activeJobs = this.d.jobs.byIndex('cluster', key).filter((j) => ACTIVE_JOB_PHASES.has(j.status?.phase ?? ''));

    let current: ComputeCluster = obj;
    if (plan.intent) {
      // Written before acting: an operator killed between the two never forgets a replacement.
      const createError = this.createFailures.message(key);
      const inputs = { plan, activeJobs: activeJobs.length, now: new Date(now), createError, serviceError };
      const status = computeClusterStatus(c, inputs);
      current = await writeStatus(this.d.client, CLUSTER_REF, obj, status);
    }
    await this.act(obj, plan, log);
    const createError = await this.createPods(key, obj, c, createsOf(plan.actions), now, log);

    const status = computeClusterStatus(
      { ...c, status: current.status },
      { plan, activeJobs: activeJobs.length, now: new Date(now), createError, serviceError },
    );
    if (!statusEqual(status, current.status)) await writeStatus(this.d.client, CLUSTER_REF, current, status);
    return { requeueAfterMs: this.requeueAfter(key, plan) };
  }

  /** The cluster's master and worker pods (drivers are the jobs'). */
  private podsOf(key: string, c: ValidComputeCluster): V1Pod[] {
    return this.d.pods
      .byIndex('cluster', key)
      .filter((p) => isControlledBy(p, uidOf(c)) && labelOf(p, LABELS.role) !== 'driver');
  }

  /** Deletes first (a replacement needs its name back), then the events. */
  private async act(obj: ComputeCluster, plan: ClusterPlan, log: ReconcileContext['log']): Promise<void> {
    for (const del of deletesOf(plan.actions)) {
      try {
        await this.d.client.deletePod(namespaceOf(obj), del.name, del.uid, del.force ? 0 : undefined);
        log.info('deleted pod', { pod: del.name, reason: del.reason });
      } catch (e) {
        if (!tolerated(e, TOLERATES.deletePod)) throw e;
      }
    }
    for (const ev of eventsOf(plan.actions)) this.d.events.record(obj, ev.type, ev.reason, ev.message);
  }

  private requeueAfter(key: string, plan: ClusterPlan): number {
    const due = [plan.wakeAt, this.createFailures.retryAt(key), this.serviceFailures.retryAt(key)]
      .filter((t): t is number => t !== undefined)
      .map((t) => Math.max(0, t - Date.now()) + 50);
    return Math.min(this.d.resyncMs, ...due);
  }

  /**
   * Server-side apply of both Services when what we own differs from the cache. A refusal
   * (quota, admission, validation) does not stop the reconcile: the pods go on, and the server's
   * message is returned for ServicesReady=False. Retried after podRecovery.backoff, or at once
   * when the spec changes.
   */
  private async ensureServices(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    now: number,
    log: ReconcileContext['log'],
  ): Promise<string | undefined> {
    const pending = this.serviceFailures.pending(key, now, c.metadata.generation);
    if (pending) return pending.message;
    const refused: string[] = [];
    for (const desired of [buildMasterService(c), buildWorkersService(c)]) {
      const name = desired.metadata?.name ?? '';
      const existing = this.d.services.get(namespacedKey(namespaceOf(c), name));
      if (existing && serviceMatches(existing, desired)) continue;
      try {
        await this.d.client.applyService(namespaceOf(c), desired);
      } catch (e) {
        if (!isRefused(e)) throw e;
        refused.push(`Service ${name}: ${errorMessage(e)}`);
      }
    }
    if (!refused.length) return void this.serviceFailures.clear(key);
    const message = refused.join('; ');
    const { failures } = this.serviceFailures.record(
      key,
      message,
      now,
      c.spec.podRecovery.backoff,
      c.metadata.generation,
    );
    log.warn('the API server refused a Service', { error: message, failures });
    this.d.events.record(obj, 'Warning', CLUSTER_REASONS.ServiceRefused, message);
    return message;
  }

  /**
   * Creates pods in doubling batches (1, 2, 4, ...) and stops at the first refusal, so a
   * quota or admission denial costs one request, not hundreds. Returns the refusal message.
   */
  private async createPods(
    key: string,
    obj: ComputeCluster,
    c: ValidComputeCluster,
    creates: { pod: V1Pod }[],
    now: number,
    log: ReconcileContext['log'],
  ): Promise<string | undefined> {
    if (!creates.length) {
      this.createFailures.clear(key);
      return undefined;
    }
    const pending = this.createFailures.pending(key, now);
    if (pending) return pending.message;
    for (let i = 0, batch = 1; i < creates.length; i += batch, batch *= 2) {
      const slice = creates.slice(i, i + batch);
      const results = await Promise.allSettled(slice.map((a) => this.d.client.createPod(namespaceOf(c), a.pod)));
      const refused = results.find((r) => r.status === 'rejected' && !tolerated(r.reason, TOLERATES.createPod));
      if (refused?.status !== 'rejected') continue;
      if (!isRefused(refused.reason)) throw refused.reason;
      const message = errorMessage(refused.reason);
      const { failures } = this.createFailures.record(key, message, now, c.spec.podRecovery.backoff);
      log.warn('the API server refused a pod', { error: message, failures });
      this.d.events.record(obj, 'Warning', CLUSTER_REASONS.FailedCreate, message);
      return message;
    }
    this.createFailures.clear(key);
    return undefined;
  }
}

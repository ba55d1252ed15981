// ComputeCluster reconcile: a thin sequence of idempotent steps (KubeRay style).
//   1. Services   2. plan from the caches   3. record intent in status
//   4. delete, then create pods   5. write status if it changed   6. requeue when something is due
import type { V1Node, V1Pod, V1Service } from '../../kube/types.ts';
import {
  GROUP,
  KINDS,
  VERSION,
  computeClusterKind,
  validateAs,
  type ComputeCluster,
  type ComputeJob,
} from '../../api/v1alpha1/index.ts';
import { LABELS } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { buildMasterService, buildWorkersService } from '../../builders/services.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { stallInvalidSpec, statusEqual } from '../shared/status.ts';
import { backoffSeconds } from '../shared/time.ts';
import { planCluster } from './plan.ts';
import { computeClusterStatus } from './status.ts';

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

/** Pod creation refused by the API server, per cluster: retried with backoff, not in a hot loop. */
interface CreateFailure {
  failures: number;
  retryAt: number;
  message: string;
}

const ACTIVE_JOB_PHASES = new Set(['Running']);

export class ComputeClusterReconciler implements Reconciler {
  private readonly createFailures = new Map<string, CreateFailure>();

  constructor(private readonly d: ClusterDeps) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.clusters.get(key);
    if (!obj || obj.metadata.deletionTimestamp) {
      this.createFailures.delete(key);
      return;
    } // owned objects go with it (GC)
    const checked = validateAs<ComputeCluster>(computeClusterKind, obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, CLUSTER_REF, obj, checked.errors, { phase: 'Failed' });
    const c = checked.value;
    const now = Date.now();

    await this.ensureServices(c);

    const pods: V1Pod[] = this.d.pods
      .byIndex('cluster', key)
      .filter((p) => isControlledBy(p, c.metadata.uid) && p.metadata?.labels?.[LABELS.role] !== 'driver');
    const nodes = { get: (name: string) => this.d.nodes.get(name) }; // cluster-scoped: the key is the name
    const plan = planCluster(c, pods, nodes, now);
    const activeJobs = this.d.jobs.byIndex('cluster', key).filter((j) => ACTIVE_JOB_PHASES.has(j.status?.phase ?? '')).length;

    let current = obj;
    if (plan.intent) {
      // Written before acting: an operator killed between the two never forgets a replacement.
      const status = computeClusterStatus(c, {
        plan,
        activeJobs,
        now: new Date(now),
        createError: this.createFailures.get(key)?.message,
      });
      current = await this.d.client.replaceStatus(CLUSTER_REF, { ...obj, status });
    }

    for (const del of plan.deletes) {
      try {
        await this.d.client.deletePod(c.metadata.namespace!, del.name, del.uid, del.force ? 0 : undefined);
        log.info('deleted pod', { pod: del.name, reason: del.reason });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e; // gone already, or a different pod by now
      }
    }
    for (const ev of plan.events) this.d.events.record(obj, ev.type, ev.reason, ev.message);

    const createError = await this.createPods(key, obj, plan.creates, now, c, log);

    const status = computeClusterStatus(
      { ...c, status: current.status },
      { plan, activeJobs, now: new Date(now), createError: createError ?? undefined },
    );
    if (!statusEqual(status, current.status)) {
      await this.d.client.replaceStatus(CLUSTER_REF, { ...current, status });
    }

    const due = [plan.wakeAt, this.createFailures.get(key)?.retryAt]
      .filter((t): t is number => t !== undefined)
      .map((t) => Math.max(0, t - Date.now()) + 50);
    return { requeueAfterMs: Math.min(this.d.resyncMs, ...due) };
  }

  /** Server-side apply of both Services when what we own differs from the cache. */
  private async ensureServices(c: ComputeCluster): Promise<void> {
    for (const desired of [buildMasterService(c), buildWorkersService(c)]) {
      const existing = this.d.services.get(`${c.metadata.namespace}/${desired.metadata!.name}`);
      if (existing && serviceMatches(existing, desired)) continue;
      await this.d.client.applyService(c.metadata.namespace!, desired);
    }
  }

  /**
   * Creates pods in doubling batches (1, 2, 4, ...) and stops at the first refusal, so a
   * quota or admission denial costs one request, not hundreds. Returns the refusal message.
   */
  private async createPods(
    key: string,
    obj: any,
    pods: V1Pod[],
    now: number,
    c: ComputeCluster,
    log: ReconcileContext['log'],
  ): Promise<string | undefined> {
    const failure = this.createFailures.get(key);
    if (!pods.length) {
      this.createFailures.delete(key);
      return undefined;
    }
    if (failure && now < failure.retryAt) return failure.message;
    let batch = 1;
    for (let i = 0; i < pods.length; i += batch, batch *= 2) {
      const results = await Promise.allSettled(
        pods.slice(i, i + batch).map((p) => this.d.client.createPod(c.metadata.namespace!, p)),
      );
      const refused = results.find((r) => r.status === 'rejected' && !isAlreadyExists(r.reason));
      if (refused && refused.status === 'rejected') {
        if (!isRefused(refused.reason)) throw refused.reason;
        const failures = (failure?.failures ?? 0) + 1;
        const message = errorMessage(refused.reason);
        this.createFailures.set(key, {
          failures,
          retryAt: now + backoffSeconds(failures, c.spec.podRecovery?.backoff ?? {}) * 1000,
          message,
        });
        log.warn('the API server refused a pod', { error: message, failures });
        this.d.events.record(obj, 'Warning', 'FailedCreate', message);
        return message;
      }
    }
    this.createFailures.delete(key);
    return undefined;
  }
}

/** Whether the fields Gaffer sets on a Service are as desired (server defaults ignored). */
export function serviceMatches(existing: V1Service, desired: V1Service): boolean {
  const ports = (s: V1Service, withNodePort: boolean) =>
    (s.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: String(p.targetPort ?? p.port),
      protocol: p.protocol ?? 'TCP',
      ...(withNodePort && p.nodePort ? { nodePort: p.nodePort } : {}),
    }));
  const wantNodePorts = (desired.spec?.ports ?? []).some((p) => p.nodePort);
  return (
    JSON.stringify(ports(existing, wantNodePorts)) === JSON.stringify(ports(desired, wantNodePorts)) &&
    (existing.spec?.type ?? 'ClusterIP') === (desired.spec?.type ?? 'ClusterIP') &&
    JSON.stringify(existing.spec?.selector ?? {}) === JSON.stringify(desired.spec?.selector ?? {}) &&
    !!existing.spec?.publishNotReadyAddresses === !!desired.spec?.publishNotReadyAddresses &&
    Object.entries(desired.metadata?.labels ?? {}).every(([k, v]) => existing.metadata?.labels?.[k] === v) &&
    (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === desired.metadata?.ownerReferences?.[0]?.uid)
  );
}

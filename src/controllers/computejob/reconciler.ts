// ComputeJob reconcile: decide from the caches, write status (the intent) first, then act.
import {
  GROUP,
  KINDS,
  VERSION,
  validateStoredJob,
  type ComputeCluster,
  type ComputeJob,
  type ValidComputeCluster,
  type ValidComputeJob,
} from '../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import { LABELS } from '../../builders/labels.ts';
import { isControlledBy } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { labelOf, nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1Node, V1Pod } from '../../kube/types.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import { CLUSTER_REF } from '../computecluster/reconciler.ts';
import { LiveNodeCheck } from '../common/nodecheck.ts';
import {
  readNodeLive,
  stallInvalidSpec,
  statusEqual,
  tolerated,
  writeStatus,
  type ApiErrorTest,
} from '../common/writes.ts';
import type { JobAction } from './actions.ts';
import { decideJob } from './decide.ts';
import { DepartedDrivers } from './departed.ts';
import { jobKeyOf } from './watches.ts';

export const JOB_REF = { group: GROUP, version: VERSION, plural: KINDS.ComputeJob.plural };

export interface JobDeps {
  client: KubeClient;
  clusters: Cache<ComputeCluster>;
  jobs: Cache<ComputeJob>;
  pods: Cache<V1Pod>;
  nodes: Cache<V1Node>;
  events: EventRecorder;
  resyncMs: number;
}

/**
 * How each action treats API errors: `done` lists those that mean it is done already;
 * `report` says a refusal of the object itself (admission, validation, quota) becomes a
 * FailedCreate event and the job goes on (the startup deadline then decides the attempt).
 */
const ERRORS: Record<JobAction['kind'], { done: readonly ApiErrorTest[]; report?: boolean }> = {
  // NotFound: the namespace is going away with the job.
  createCluster: { done: [isAlreadyExists, isNotFound], report: true },
  createDriver: { done: [isAlreadyExists, isNotFound], report: true },
  // Conflict: the uid precondition failed, the object of that name is another one by now.
  deleteCluster: { done: [isNotFound, isConflict] },
  deleteDriver: { done: [isNotFound, isConflict] },
  deleteJob: { done: [isNotFound, isConflict] },
  event: { done: [] },
};

/** How long a disrupted driver's last state is kept after its deletion, for its job's reconcile. */
const DEPARTED_KEEP_MS = 15 * 60_000;

export class ComputeJobReconciler implements Reconciler {
  private readonly departed = new DepartedDrivers(DEPARTED_KEEP_MS);
  /** A driver's node absent from the cache is confirmed gone live before the driver is judged lost. */
  private readonly nodeCheck: LiveNodeCheck;

  constructor(private readonly d: JobDeps) {
    this.nodeCheck = new LiveNodeCheck(d.nodes);
    d.pods.on((e) => {
      if (e.type !== 'delete') return;
      for (const key of jobKeyOf(e.obj)) this.departed.record(key, e.obj, Date.now());
    });
  }

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.jobs.get(key);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const checked = validateStoredJob(obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, JOB_REF, obj, checked.errors);
    const job = checked.value;
    const clusterName = job.spec.clusterRef?.name ?? nameOf(job);
    // The API server applies the CRD's defaults whenever it serves an object (also to objects
    // stored before a default was added), so a cached cluster has every defaulted field: the
    // validated type says so without re-validating the cluster on every job reconcile.
    const cluster = this.d.clusters.get(namespacedKey(namespaceOf(job), clusterName)) as
      ValidComputeCluster | undefined;
    const drivers = this.d.pods
      .byIndex('job', key)
      .filter((p) => isControlledBy(p, uidOf(job)) && labelOf(p, LABELS.role) === 'driver');
    const now = Date.now();
    const gone = this.departed.of(key, now);
    const nodes = await this.nodeCheck.lookup(drivers, now, (n) => readNodeLive(this.d.client, n, log));
    const { status, actions, wakeAt } = decideJob(job, cluster, drivers, nodes, now, gone);

    if (!statusEqual(status, obj.status)) await writeStatus(this.d.client, JOB_REF, obj, status);
    for (const a of actions) {
      const done = await this.run(obj, job, a, log);
      if (done && a.kind === 'deleteJob') return; // the job is gone: nothing left to requeue
    }
    const due = wakeAt !== undefined ? Math.max(0, wakeAt - Date.now()) + 50 : this.d.resyncMs;
    return { requeueAfterMs: Math.min(due, this.d.resyncMs) };
  }

  /** Carries out one action; API errors it lists as done are; a refusal it reports is. */
  private async run(
    obj: ComputeJob,
    job: ValidComputeJob,
    a: JobAction,
    log: ReconcileContext['log'],
  ): Promise<boolean> {
    try {
      await this.perform(obj, job, a, log);
      return true;
    } catch (e) {
      const policy = ERRORS[a.kind];
      if (tolerated(e, policy.done)) return false;
      if (!policy.report || !isRefused(e)) throw e;
      this.d.events.record(obj, 'Warning', JOB_REASONS.FailedCreate, errorMessage(e));
      log.warn('the API server refused an object', { kind: a.kind, error: errorMessage(e) });
      return false;
    }
  }

  private async perform(obj: ComputeJob, job: ValidComputeJob, a: JobAction, log: ReconcileContext['log']) {
    const ns = namespaceOf(job);
    switch (a.kind) {
      case 'createCluster':
        await this.d.client.createCustom(CLUSTER_REF, ns, a.cluster);
        return log.info('created ephemeral cluster', { cluster: nameOf(a.cluster) });
      case 'deleteCluster':
        await this.d.client.deleteCustom(CLUSTER_REF, ns, a.name, a.uid);
        return log.info('deleted ephemeral cluster', { cluster: a.name });
      case 'createDriver':
        await this.d.client.createPod(ns, a.pod);
        return log.info('created driver pod', { pod: nameOf(a.pod) });
      case 'deleteDriver':
        await this.d.client.deletePod(ns, a.name, a.uid, a.gracePeriodSeconds);
        return log.info('deleted driver pod', { pod: a.name });
      case 'deleteJob':
        await this.d.client.deleteCustom(JOB_REF, ns, nameOf(job), uidOf(job));
        return log.info('deleted finished job (ttlSecondsAfterFinished)');
      case 'event':
        return this.d.events.record(obj, a.type, a.reason, a.message);
    }
  }
}

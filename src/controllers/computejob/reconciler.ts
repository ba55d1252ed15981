// ComputeJob reconcile: decide from the caches, write status (the intent) first, then act.
import {
  API_VERSION,
  GROUP,
  KINDS,
  VERSION,
  validateStoredJob,
  type ComputeCluster,
  type ComputeJob,
  type ComputeJobStatus,
  type ValidComputeCluster,
  type ValidComputeJob,
} from '../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import { LABELS, names } from '../../builders/labels.ts';
import { controllerRef, isControlledBy } from '../../builders/owner.ts';
import type { KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { labelOf, nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { V1Node, V1Pod } from '../../kube/types.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { namespacedKey } from '../../runtime/keys.ts';
import { CLUSTER_REF } from '../computecluster/reconciler.ts';
import { conflictMessage } from '../common/claim.ts';
import { Expectations } from '../common/expectations.ts';
import { LiveNodeCheck } from '../common/nodecheck.ts';
import {
  adoptPod,
  claimTakenName,
  readNodeLive,
  stallInvalidSpec,
  statusEqual,
  tolerated,
  writeStatus,
  type ApiErrorTest,
} from '../common/writes.ts';
import type { JobAction } from './actions.ts';
import type { Refused } from './context.ts';
import { JobMemories, type JobMemory } from './memory.ts';
import { whyDriverNotAdoptable } from './claim.ts';
import { decideJob } from './decide.ts';
import { DepartedDrivers } from './departed.ts';
import { jobKeyOf } from './watches.ts';
import { KueueWorkloads, type KueueCaches, type WorkloadOwner } from '../common/workloads.ts';
import { heldToQueue, runningUnqueued, SUSPENDED_MESSAGE, type Queue } from '../common/queue.ts';
import { jobPodSets, queueOf, type Workload } from '../../builders/workload.ts';
import { hasExited } from '../../kube/meta.ts';

export const JOB_REF = { group: GROUP, version: VERSION, plural: KINDS.ComputeJob.plural };

export interface JobDeps {
  client: KubeClient;
  clusters: Cache<ComputeCluster>;
  jobs: Cache<ComputeJob>;
  pods: Cache<V1Pod>;
  nodes: Cache<V1Node>;
  events: EventRecorder;
  resyncMs: number;
  /** With the Kueue integration on (--kueue): the Workloads and ResourceFlavors. */
  kueue?: KueueCaches;
}

/**
 * How each action treats API errors: `done` lists those that mean it is done already. A refusal
 * of a create (REFUSABLE: admission, validation, quota) is reported on the job and retried with
 * its backoff; no failure is counted (as the Job controller does with pods it cannot create):
 * activeDeadlineSeconds bounds the wait.
 */
const ERRORS: Record<JobAction['kind'], { done: readonly ApiErrorTest[] }> = {
  // NotFound: the namespace is going away with the job.
  createCluster: { done: [isAlreadyExists, isNotFound] },
  // AlreadyExists is not done: the pod of that name is claimed (createDriver), ours or not.
  createDriver: { done: [isNotFound] },
  // Conflict: the uid precondition failed, the object of that name is another one by now.
  deleteCluster: { done: [isNotFound, isConflict] },
  deleteDriver: { done: [isNotFound, isConflict] },
  deleteJob: { done: [isNotFound, isConflict] },
  event: { done: [] },
};

const REFUSABLE = ['createCluster', 'createDriver'] as const;
type Refusable = (typeof REFUSABLE)[number];
const isRefusable = (kind: JobAction['kind']): kind is Refusable => (REFUSABLE as readonly string[]).includes(kind);

/** How long a disrupted driver's last state is kept after its deletion, for its job's reconcile. */
const DEPARTED_KEEP_MS = 15 * 60_000;

export class ComputeJobReconciler implements Reconciler {
  private readonly departed = new DepartedDrivers(DEPARTED_KEEP_MS);
  /** Driver creates and deletes sent and not yet seen in the cache, per job (watches.ts lowers them). */
  readonly expectations = new Expectations();
  /** Refusals, a conflict, the last driver created: per job (memory.ts). */
  private readonly memories = new JobMemories();
  /** A driver's node absent from the cache is confirmed gone live before the driver is judged lost. */
  private readonly nodeCheck: LiveNodeCheck;
  /** The Kueue Workloads of queued jobs, when the integration is on. */
  private readonly workloads?: KueueWorkloads;

  constructor(private readonly d: JobDeps) {
    this.nodeCheck = new LiveNodeCheck(d.nodes);
    if (d.kueue) this.workloads = new KueueWorkloads(d.client, d.kueue, d.events);
    d.pods.on((e) => {
      if (e.type !== 'delete') return;
      for (const key of jobKeyOf(e.obj)) this.departed.record(key, e.obj, Date.now());
    });
  }

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileResult | void> {
    const obj = this.d.jobs.get(key);
    if (!obj || obj.metadata.deletionTimestamp) return this.forget(key);
    let mem = this.memories.get(key);
    if (mem?.uid !== uidOf(obj)) {
      this.forget(key); // another job under this name: its predecessor's expectations go too
      mem = this.memories.start(key, uidOf(obj));
    }
    const checked = validateStoredJob(obj);
    if (!checked.ok) return stallInvalidSpec(this.d.client, JOB_REF, obj, checked.errors);
    const job = checked.value;
    // While its own driver creates or deletes are not in the cache, the job decides nothing:
    // a stale cache would plan the same delete again, or the next driver before the old one
    // is seen going (ReplicaSet and Job controllers wait for their expectations the same way).
    const waiting = this.expectations.satisfied(key) ? undefined : this.expectations.waitingFor(key);
    if (waiting) {
      log.debug('waiting for the cache to show driver writes', { creates: waiting.creates, deletes: waiting.deletes });
      return { requeueAfterMs: Math.max(0, waiting.expiresAt - Date.now()) + 50 };
    }
    const workload = this.workloads?.of({ kind: 'ComputeJob', obj: job, key });
    const queue = this.standingOf(key, job, workload);
    const { status, actions, wakeAt } = await this.decide(key, mem, job, log, queue);
    // A conflict lasts while the job still wants that driver: each create tries the name again.
    if (!actions.some((a) => a.kind === 'createDriver')) mem.clearConflict();
    if (!statusEqual(status, obj.status)) await writeStatus(this.d.client, JOB_REF, obj, status);
    for (const a of actions) {
      const done = await this.run(key, mem, obj, job, a, log);
      if (done && a.kind === 'deleteJob') return; // the job is gone: nothing left to requeue
    }
    const owner = { ...this.asOwner(key, job, status), unqueued: queue === runningUnqueued };
    const workloadWake = await this.workloads?.sync(owner, workload, log);
    // A create refused (or its name taken) just now is said on the job's conditions by the next reconcile, at once.
    if (mem.reportNow) {
      mem.reportNow = false;
      return { requeueAfterMs: 0 };
    }
    const due = [wakeAt, mem.conflictRetryAt, workloadWake]
      .filter((t): t is number => t !== undefined)
      .map((t) => Math.max(0, t - Date.now()) + 50);
    return { requeueAfterMs: Math.min(this.d.resyncMs, ...due) };
  }

  /**
   * Where a labelled job stands with Kueue (none when the integration is off or it is not queued).
   * A suspended job is not queued: it asks for no quota (its Workload is removed). One labelled
   * while it ran runs on unqueued (common/queue.ts heldToQueue).
   */
  private standingOf(key: string, job: ValidComputeJob, workload: Workload | undefined): Queue | undefined {
    if (!this.workloads || !queueOf(job)) return undefined;
    // Suspended: decided as suspended; the standing only keeps its Queued condition (status.ts).
    if (job.spec.suspend) return { admitted: false, reason: JOB_REASONS.Suspended, message: SUSPENDED_MESSAGE };
    if (!workload && !heldToQueue(job.status?.conditions, this.running(key, job))) return runningUnqueued;
    return this.workloads.standing(job, workload);
  }

  /** The job as its Kueue Workload sees it (common/workloads.ts): its pod sets, whether it is done or still runs. */
  private asOwner(key: string, job: ValidComputeJob, status: ComputeJobStatus): WorkloadOwner {
    const done = status.phase === 'Succeeded' || status.phase === 'Failed';
    return {
      kind: 'ComputeJob',
      obj: job,
      key,
      podSets: () => jobPodSets(job, this.clusterOf(job)),
      suspended: job.spec.suspend,
      ...(done ? { done: { succeeded: status.phase === 'Succeeded', message: status.message ?? status.phase! } } : {}),
      active: this.running(key, job),
    };
  }

  /** The job's cluster from the cache: its clusterRef, or its ephemeral cluster of the job's name. */
  private clusterOf(job: ValidComputeJob): ComputeCluster | undefined {
    return this.d.clusters.get(namespacedKey(namespaceOf(job), job.spec.clusterRef?.name ?? nameOf(job)));
  }

  /**
   * Whether pods of the job may still run, as the cache shows: a driver that has not exited, or its
   * ephemeral cluster (or its pods) not gone yet. Kueue's quota is released only once none does.
   */
  private running(key: string, job: ValidComputeJob): boolean {
    const drivers = this.d.pods.byIndex('job', key).filter((p) => isControlledBy(p, uidOf(job)) && !hasExited(p));
    if (drivers.length || !job.spec.clusterTemplate) return drivers.length > 0;
    const cluster = this.clusterOf(job);
    const ownCluster = !!cluster && isControlledBy(cluster, uidOf(job));
    // A same-named cluster that is not the job's (ClusterConflict): its pods are not the job's.
    const foreign = cluster && !ownCluster ? uidOf(cluster) : undefined;
    const clusterPods = this.d.pods
      .byIndex('cluster', namespacedKey(namespaceOf(job), nameOf(job)))
      .filter((p) => labelOf(p, LABELS.role) !== 'driver' && !hasExited(p) && !(foreign && isControlledBy(p, foreign)));
    return ownCluster || clusterPods.length > 0;
  }

  /** The job is gone: what was kept for it goes too. */
  private forget(key: string): void {
    const uid = this.memories.get(key)?.uid;
    if (uid) this.workloads?.forget(uid);
    this.expectations.forget(key);
    this.memories.forget(key);
  }

  /**
   * The refused creates of the job, for its decision: due again when their backoff has passed,
   * or at once when the spec changed since (the fix may be in it).
   */
  private refusedOf(mem: JobMemory, generation: number | undefined, now: number): Refused {
    const out: Refused = {};
    for (const kind of REFUSABLE) {
      const message = mem.refusals.message(kind);
      if (message === undefined) continue;
      out[kind] = { message, retryAt: mem.refusals.pending(kind, now, generation)?.retryAt ?? now };
    }
    return out;
  }

  /** The decision from the caches: the job's cluster, drivers, its master pod and the drivers' nodes. */
  private async decide(key: string, mem: JobMemory, job: ValidComputeJob, log: ReconcileContext['log'], queue?: Queue) {
    const clusterName = job.spec.clusterRef?.name ?? nameOf(job);
    // The API server applies the CRD's defaults whenever it serves an object (also to objects
    // stored before a default was added), so a cached cluster has every defaulted field: the
    // validated type says so without re-validating the cluster on every job reconcile.
    const cluster = this.d.clusters.get(namespacedKey(namespaceOf(job), clusterName)) as
      ValidComputeCluster | undefined;
    const drivers = this.d.pods
      .byIndex('job', key)
      .filter((p) => isControlledBy(p, uidOf(job)) && labelOf(p, LABELS.role) === 'driver');
    const master = this.d.pods.get(namespacedKey(namespaceOf(job), names.master(clusterName)));
    const now = Date.now();
    const nodes = await this.nodeCheck.lookup(drivers, now, (n) => readNodeLive(this.d.client, n, log));
    return decideJob(job, cluster, drivers, nodes, now, {
      gone: this.departed.of(key, now),
      masters: master ? [master] : [],
      driverConflict: mem.driverConflict,
      refused: this.refusedOf(mem, job.metadata.generation, now),
      createdDriver: mem.created,
      queue,
    });
  }

  /** Carries out one action; API errors it lists as done are; a refusal it reports is. */
  private async run(
    key: string,
    mem: JobMemory,
    obj: ComputeJob,
    job: ValidComputeJob,
    a: JobAction,
    log: ReconcileContext['log'],
  ): Promise<boolean> {
    try {
      await this.perform(key, mem, obj, job, a, log);
      if (isRefusable(a.kind)) mem.refusals.clear(a.kind);
      return true;
    } catch (e) {
      const policy = ERRORS[a.kind];
      if (tolerated(e, policy.done)) return false;
      if (!isRefusable(a.kind) || !isRefused(e)) throw e;
      this.refused(mem, obj, job, a.kind, errorMessage(e), log);
      return false;
    }
  }

  /**
   * A create the API server refused: remembered with the job's backoff (the next reconcile says
   * it on the job's conditions and sends nothing until the backoff passes), a Warning event when
   * the server's message changes.
   */
  private refused(
    mem: JobMemory,
    obj: ComputeJob,
    job: ValidComputeJob,
    kind: Refusable,
    message: string,
    log: ReconcileContext['log'],
  ): void {
    if (mem.refusals.message(kind) !== message) {
      this.d.events.record(obj, 'Warning', JOB_REASONS.FailedCreate, message);
      log.warn('the API server refused an object', { kind, error: message });
    }
    const r = mem.refusals.record(kind, message, Date.now(), job.spec.backoff, job.metadata.generation);
    mem.reportNow = true;
    log.debug('create refused; retrying after backoff', { kind, retryAt: new Date(r.retryAt).toISOString() });
  }

  private async perform(
    key: string,
    mem: JobMemory,
    obj: ComputeJob,
    job: ValidComputeJob,
    a: JobAction,
    log: ReconcileContext['log'],
  ) {
    const ns = namespaceOf(job);
    switch (a.kind) {
      case 'createCluster':
        await this.d.client.createCustom(CLUSTER_REF, ns, a.cluster);
        return log.info('created ephemeral cluster', { cluster: nameOf(a.cluster) });
      case 'deleteCluster':
        await this.d.client.deleteCustom(CLUSTER_REF, ns, a.name, a.uid);
        return log.info('deleted ephemeral cluster', { cluster: a.name });
      case 'createDriver':
        return this.createDriver(key, mem, obj, job, a.pod, log);
      case 'deleteDriver':
        return this.deleteDriver(key, ns, a, log);
      case 'deleteJob':
        await this.d.client.deleteCustom(JOB_REF, ns, nameOf(job), uidOf(job));
        return log.info('deleted finished job (ttlSecondsAfterFinished)');
      case 'event':
        return this.d.events.record(obj, a.type, a.reason, a.message);
    }
  }

  /** A driver create, expected until the cache shows it; a name already taken is claimed. */
  private async createDriver(
    key: string,
    mem: JobMemory,
    obj: ComputeJob,
    job: ValidComputeJob,
    pod: V1Pod,
    log: ReconcileContext['log'],
  ): Promise<void> {
    this.expectations.expectCreate(key, nameOf(pod));
    try {
      const made = await this.d.client.createPod(namespaceOf(job), pod);
      mem.created = { name: nameOf(pod), uid: uidOf(made) };
      log.info('created driver pod', { pod: nameOf(pod) });
    } catch (e) {
      this.expectations.createObserved(key, nameOf(pod)); // no watch event will come for it
      if (!isAlreadyExists(e)) throw e;
      return this.driverNameTaken(mem, obj, job, nameOf(pod), log);
    }
    mem.clearConflict();
  }

  /**
   * The driver's name is taken: by the job's own pod (the cache lags), by an orphan with the
   * labels the job would give it (adopted), or by another pod: a PodConflict on the job (a
   * Warning event when it changes), never deleted, tried again with the job's backoff.
   */
  private async driverNameTaken(
    mem: JobMemory,
    obj: ComputeJob,
    job: ValidComputeJob,
    name: string,
    log: ReconcileContext['log'],
  ): Promise<void> {
    const clusterName = job.spec.clusterRef?.name ?? nameOf(job);
    const conflict = await claimTakenName(this.d.client, this.d.pods, {
      namespace: namespaceOf(job),
      name,
      ownerUid: uidOf(job),
      whyNot: (p) => whyDriverNotAdoptable(job, clusterName, p),
      adopt: async (p) => {
        if (await this.adoptDriver(obj, p, log)) mem.created = { name, uid: uidOf(p) };
      },
      // Our own earlier create went through though its answer was lost: remembered as a create.
      own: (p) => (mem.created = { name, uid: uidOf(p) }),
    });
    if (!conflict) return mem.clearConflict();
    const message = conflictMessage('ComputeJob', [conflict]);
    if (mem.isNewConflict(conflict)) {
      this.d.events.record(obj, 'Warning', JOB_REASONS.PodConflict, message);
      log.warn('a pod the job cannot adopt holds its driver name', { pod: name, why: conflict.why });
    }
    mem.recordConflict(conflict, message, Date.now(), job.spec.backoff);
  }

  /** Sets the job as the orphan driver's controller (uid precondition). */
  /** Whether the orphan is the job's now; an adopted driver is remembered as a create (see `created`). */
  private async adoptDriver(obj: ComputeJob, p: V1Pod, log: ReconcileContext['log']): Promise<boolean> {
    const adopted = await adoptPod(
      this.d.client,
      namespaceOf(obj),
      p,
      controllerRef(obj, API_VERSION, KINDS.ComputeJob.kind),
    );
    if (!adopted) return false;
    log.info('adopted driver pod', { pod: nameOf(p) });
    this.d.events.record(obj, 'Normal', JOB_REASONS.PodAdopted, `adopted orphan driver pod ${nameOf(p)}`);
    return true;
  }

  /** A driver delete, expected until the cache shows the pod terminating or gone. */
  private async deleteDriver(
    key: string,
    ns: string,
    a: Extract<JobAction, { kind: 'deleteDriver' }>,
    log: ReconcileContext['log'],
  ): Promise<void> {
    this.expectations.expectDelete(key, a.uid);
    try {
      await this.d.client.deletePod(ns, a.name, a.uid, a.gracePeriodSeconds);
    } catch (e) {
      this.expectations.deleteObserved(key, a.uid); // no watch event will come for a delete that did not happen
      throw e;
    }
    log.info('deleted driver pod', { pod: a.name });
  }
}

// The Kueue Workload of a queued ComputeJob (the reconcile's step after the job's own): created
// from the job's pod sets, replaced while it holds no quota if the job's needs changed, its quota
// released once an evicted job has stopped, and marked finished with the job. What Kueue's Go
// jobframework does for its own integrations; Gaffer's reconciler calls it (README "Queueing with Kueue").
import type { ComputeCluster, ComputeJob, ComputeJobStatus, ValidComputeJob } from '../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import {
  buildWorkload,
  jobPodSets,
  KUEUE,
  podSetsMatch,
  priorityClassOf,
  queueOf,
  workloadName,
  type PodSet,
  type PriorityClassRef,
  type ResourceFlavor,
  type Workload,
} from '../../builders/workload.ts';
import type { CustomResourceRef, KubeClient } from '../../kube/client.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isRefused } from '../../kube/errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { nameOf, namespaceOf, uidOf } from '../../kube/meta.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { Cache } from '../../runtime/informer.ts';
import { tolerated } from '../common/writes.ts';
import { finishedStatus, hasQuota, isFinished, queueOfWorkload, releasedStatus, WL, type Queue } from './queue.ts';

const kueueRef = (plural: string): CustomResourceRef => ({ group: KUEUE.group, version: KUEUE.version, plural });
export const WORKLOAD_REF = kueueRef('workloads');
export const FLAVOR_REF = kueueRef('resourceflavors');
const WPC_REF = kueueRef('workloadpriorityclasses');
const PC_REF: CustomResourceRef = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' };

/** The Kueue caches: Gaffer's Workloads (by the job they are for) and the ResourceFlavors. */
export interface KueueCaches {
  workloads: Cache<Workload>;
  flavors: Cache<ResourceFlavor>;
}

/** A Workload create the API server refused (or its priority class missing): said on the job, retried. */
interface Refusal {
  message: string;
  retryAt: number;
  generation?: number;
}

/** How long a refused Workload create waits before it is tried again (a spec change retries at once). */
const REFUSAL_RETRY_MS = 30_000;

type Log = ReconcileContext['log'];

export class JobWorkloads {
  private readonly refusals = new Map<string, Refusal>();

  constructor(
    private readonly client: KubeClient,
    private readonly caches: KueueCaches,
    private readonly events: EventRecorder,
  ) {}

  /** The job's Workload, from the cache: controlled by this job (its uid), under the job's Workload name. */
  of(jobKey: string, job: ComputeJob): Workload | undefined {
    const owned = this.caches.workloads
      .byIndex('job', jobKey)
      .filter((w) => w.metadata.ownerReferences?.some((r) => r.controller && r.uid === uidOf(job)));
    return owned.find((w) => nameOf(w) === workloadName(job as ValidComputeJob)) ?? owned[0];
  }

  /** Where the queued job stands (for its decision); a refused Workload create is why it waits. */
  standing(job: ValidComputeJob, w: Workload | undefined): Queue {
    const refusal = this.refusals.get(uidOf(job));
    if (!w && refusal) return { admitted: false, reason: JOB_REASONS.FailedCreate, message: refusal.message };
    return queueOfWorkload(w, queueOf(job)!, (n) => this.caches.flavors.get(n));
  }

  forget(uid: string): void {
    this.refusals.delete(uid);
  }

  /**
   * The Workload's step, after the job's status is written and its actions sent: what Kueue's
   * protocol asks of the job's controller now. `active`: pods of the job may still run (its
   * drivers, its ephemeral cluster). Returns when to look again, if a refusal waits for its retry.
   */
  async sync(
    job: ValidComputeJob,
    status: ComputeJobStatus,
    w: Workload | undefined,
    cluster: ComputeCluster | undefined,
    active: boolean,
    log: Log,
  ): Promise<number | undefined> {
    const queue = queueOf(job);
    const done = status.phase === 'Succeeded' || status.phase === 'Failed';
    if (!queue) return w && this.remove(w, 'the job is no longer queued', log);
    if (done) return w && !isFinished(w) ? this.finish(w, status, log) : undefined;
    if (!w) return this.create(job, cluster, log);
    const want = jobPodSets(job, cluster);
    if (!hasQuota(w) && (w.spec.queueName !== queue || !podSetsMatch(w, want)))
      return this.remove(w, 'its pod sets or queue changed while it held no quota', log);
    if (hasQuota(w) && isEvicted(w) && !active) return this.release(w, log);
    return undefined;
  }

  private async create(job: ValidComputeJob, cluster: ComputeCluster | undefined, log: Log) {
    const uid = uidOf(job);
    const refused = this.refusals.get(uid);
    const now = Date.now();
    if (refused && refused.generation === job.metadata.generation && now < refused.retryAt) return refused.retryAt;
    const podSets = jobPodSets(job, cluster);
    try {
      const priority = await this.priorityOf(job, podSets);
      await this.client.createCustom(WORKLOAD_REF, namespaceOf(job), buildWorkload(job, podSets, priority));
      this.refusals.delete(uid);
      log.info('created Kueue Workload', { workload: workloadName(job), queue: queueOf(job) });
    } catch (e) {
      if (isAlreadyExists(e)) return undefined; // the cache has not shown it yet
      if (!isRefused(e) && !(e instanceof MissingPriorityClass)) throw e;
      return this.refused(job, e, now, log);
    }
    return undefined;
  }

  private refused(job: ValidComputeJob, e: unknown, now: number, log: Log): number {
    const message = `the Workload for Kueue was not created: ${errorMessage(e)}`;
    if (this.refusals.get(uidOf(job))?.message !== message) {
      this.events.record(job, 'Warning', JOB_REASONS.FailedCreate, message);
      log.warn('the Workload was refused', { error: errorMessage(e) });
    }
    const retryAt = now + REFUSAL_RETRY_MS;
    this.refusals.set(uidOf(job), { message, retryAt, generation: job.metadata.generation });
    return now; // reconciled again at once, to say it on the job
  }

  /** Kueue's priority of the job: the WorkloadPriorityClass of its label, else its pods' PriorityClass, else 0. */
  private async priorityOf(
    job: ValidComputeJob,
    podSets: PodSet[],
  ): Promise<{ ref?: PriorityClassRef; value: number }> {
    const ref = priorityClassOf(job, podSets);
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

  /** An evicted Workload whose job has stopped: its quota released, so that Kueue may queue it again. */
  private async release(w: Workload, log: Log): Promise<undefined> {
    await this.writeStatus(w, releasedStatus(w, Date.now()));
    log.info('released the quota of the evicted Workload', { workload: nameOf(w) });
    return undefined;
  }

  private async finish(w: Workload, status: ComputeJobStatus, log: Log): Promise<undefined> {
    const succeeded = status.phase === 'Succeeded';
    await this.writeStatus(w, finishedStatus(w, succeeded, status.message ?? status.phase ?? '', Date.now()));
    log.info('marked the Kueue Workload finished', { workload: nameOf(w), phase: status.phase });
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

const isEvicted = (w: Workload) => w.status?.conditions?.some((c) => c.type === WL.Evicted && c.status === 'True');

/** The job's PriorityClass or WorkloadPriorityClass does not exist: the Workload cannot be made yet. */
class MissingPriorityClass extends Error {}

// What every step of a ComputeJob decision reads (JobContext) and writes (Outcome: the new
// status, built on a copy, the actions and the wake time).
import type { Attempt, ComputeJobStatus, ValidComputeCluster, ValidComputeJob } from '../../api/v1alpha1/index.ts';
import { JOB_REASONS, type Reason } from '../../api/v1alpha1/reasons.ts';
import { isControlledBy } from '../../builders/owner.ts';
import { nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { PodConflict } from '../common/claim.ts';
import type { NodeLookup } from '../common/podhealth.ts';
import { iso, soonest } from '../common/time.ts';
import type { JobAction } from './actions.ts';
import type { Queue } from '../common/queue.ts';

type CreateAction = Extract<JobAction, { kind: 'createCluster' | 'createDriver' }>;

export interface JobContext {
  job: ValidComputeJob;
  /** The cluster the job runs on (clusterRef, or its ephemeral cluster), schema defaults applied. */
  cluster?: ValidComputeCluster;
  /** The ephemeral cluster, when the job's own (controlled by it). */
  ownedCluster?: ValidComputeCluster;
  clusterName: string;
  ephemeral: boolean;
  /** The job's driver pods, all attempts. */
  drivers: V1Pod[];
  /** The last state of the job's driver pods that were disrupted and are gone (DepartedDrivers). */
  gone: V1Pod[];
  /**
   * The cached pods of the cluster's master name (none or one), when looked up: an attempt's
   * master (by uid) that is not among them alive is lost, even before the cluster's status says so.
   */
  masters?: V1Pod[];
  /**
   * A pod of the active attempt's driver name that the job cannot adopt (found by the last
   * create), and when the create may be tried again (its backoff).
   */
  driverConflict?: DriverConflict;
  /** Creates the API server refused (admission, validation, quota): reported, retried after `retryAt`. */
  refused: Refused;
  /**
   * The last driver this operator created for the job, with the uid the API server gave it
   * (memory only): a pod of that name the cache never showed, or showed too late to record
   * its podUID, is known to have existed; once missing it is gone, not still to create.
   */
  createdDriver?: CreatedDriver;
  /** A job queued with Kueue (labelled kueue.x-k8s.io/queue-name): where its Workload stands. */
  queue?: Queue;
  nodes: NodeLookup;
  now: number;
}

/** The API server's refusal of a create: its message, and when the create may be sent again. */
export interface CreateRefusal {
  message: string;
  retryAt: number;
}

/** A pod the job cannot adopt holding its driver's name; the create is tried again after `retryAt`. */
export type DriverConflict = PodConflict & { retryAt?: number };

/** Refused creates of the job's objects, by action. */
export type Refused = Partial<Record<'createCluster' | 'createDriver', CreateRefusal>>;

/** A driver pod as its create returned it: its name and uid. */
export interface CreatedDriver {
  name: string;
  uid: string;
}

/** What the reconciler saw besides the job, its cluster, drivers and nodes. */
export interface Observed {
  gone?: V1Pod[];
  masters?: V1Pod[];
  driverConflict?: DriverConflict;
  refused?: Refused;
  createdDriver?: CreatedDriver;
  queue?: Queue;
}

export function jobContext(
  job: ValidComputeJob,
  cluster: ValidComputeCluster | undefined,
  drivers: V1Pod[],
  nodes: NodeLookup,
  now: number,
  seen: Observed = {},
): JobContext {
  const ephemeral = !!job.spec.clusterTemplate;
  const owned = ephemeral && cluster && isControlledBy(cluster, uidOf(job)) ? cluster : undefined;
  const clusterName = job.spec.clusterRef?.name ?? nameOf(job);
  const { gone = [], masters, driverConflict, refused = {}, createdDriver, queue } = seen;
  return {
    job,
    cluster,
    ownedCluster: owned,
    clusterName,
    ephemeral,
    drivers,
    gone,
    masters,
    driverConflict,
    refused,
    createdDriver,
    queue,
    nodes,
    now,
  };
}

export type Status = ComputeJobStatus & { attempts: Attempt[]; attemptCount: number; failed: number };

/**
 * A create the job needs: sent, unless the API server refused it and its backoff has not passed
 * (then only waited for); a refusal is said on Ready and Reconciling (FailedCreate, the server's
 * message) until the create goes through, so it is never a silent retry loop.
 */
export function createUnlessRefused(ctx: JobContext, out: Outcome, action: CreateAction): void {
  const refusal = ctx.refused[action.kind];
  if (refusal) {
    out.progress = { reason: JOB_REASONS.FailedCreate, message: `the API server refused it: ${refusal.message}` };
    if (refusal.retryAt > out.now) return out.wake(refusal.retryAt);
  }
  out.act(action);
}

/** The decision being made: status on a copy, the actions in order, the soonest due time. */
export class Outcome {
  readonly status: Status;
  readonly actions: JobAction[] = [];
  wakeAt?: number;
  /** What an unfinished job waits for, when its phase alone does not say (Ready and Reconciling). */
  progress?: { reason: Reason; message: string };

  constructor(
    prev: ComputeJobStatus | undefined,
    readonly now: number,
  ) {
    const st = structuredClone(prev ?? {});
    this.status = {
      ...st,
      attempts: [...(st.attempts ?? [])],
      attemptCount: st.attemptCount ?? 0,
      failed: st.failed ?? 0,
    };
  }

  wake(t: number | undefined): void {
    this.wakeAt = soonest(this.wakeAt, t);
  }

  act(a: JobAction): void {
    this.actions.push(a);
  }

  event(type: 'Normal' | 'Warning', reason: Reason, message: string): void {
    this.actions.push({ kind: 'event', type, reason, message });
  }

  get finished(): boolean {
    return this.status.phase === 'Succeeded' || this.status.phase === 'Failed';
  }

  /** The attempt that has started and not ended, if any. */
  get active(): Attempt | undefined {
    const last = this.status.attempts[this.status.attempts.length - 1];
    return last && !last.finishTime ? last : undefined;
  }

  endAttempt(a: Attempt, fields: Partial<Attempt>): void {
    Object.assign(a, { finishTime: iso(this.now), ...fields });
  }
}

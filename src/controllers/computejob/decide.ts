// Decides a ComputeJob's next status and actions from what is observed (pure; no I/O): a
// switch over the job's phase, each phase in its own file under phases/. The reconciler
// writes the status first, then acts: intent survives a crash.
import {
  KINDS,
  type ComputeJobStatus,
  type ValidComputeCluster,
  type ValidComputeJob,
} from '../../api/v1alpha1/index.ts';
import { external, JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import { buildEphemeralCluster } from '../../builders/cluster.ts';
import { placeCluster } from '../../builders/workload.ts';
import { hasExited, isTerminating, nameOf, uidOf } from '../../kube/meta.ts';
import type { Queue } from '../common/queue.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { NodeLookup } from '../common/podhealth.ts';
import { iso } from '../common/time.ts';
import type { JobAction } from './actions.ts';
import { createUnlessRefused, jobContext, Outcome, type JobContext, type Observed } from './context.ts';
import { activeDeadlineExceeded } from './deadlines.ts';
import { finished } from './phases/finished.ts';
import { running } from './phases/running.ts';
import { queued, queueEvents } from './phases/queued.ts';
import { suspended } from './phases/suspended.ts';
import { waiting } from './phases/waiting.ts';
import { finalStatus, finish } from './status.ts';

export { ruleAction } from './failure-policy.ts';
export type { JobAction } from './actions.ts';

export interface JobDecision {
  /** The status to write before acting. */
  status: ComputeJobStatus;
  actions: JobAction[];
  wakeAt?: number;
}

/** How often a job waiting for a same-named cluster to go looks again (its deletion also wakes it). */
const CLUSTER_DELETION_RECHECK_MS = 10_000;

/**
 * Why a same-named cluster that is not ours is on its way out, if it is: being deleted, or
 * controlled by a previous ComputeJob of this name (deleted, so the garbage collector deletes
 * it: `kubectl replace --force`, Argo CD Replace). Names are unique, so an owner with this
 * name and another uid is that previous job.
 */
function leavingCluster(ctx: JobContext, c: ValidComputeCluster): string | undefined {
  const name = ctx.clusterName;
  if (isTerminating(c)) return `ComputeCluster ${name} is being deleted; waiting for it to go to create this job's`;
  const owner = c.metadata.ownerReferences?.find((r) => r.controller);
  if (owner?.kind === KINDS.ComputeJob.kind && owner.name === nameOf(ctx.job) && owner.uid !== uidOf(ctx.job)) {
    return `ComputeCluster ${name} belongs to a deleted ComputeJob ${owner.name} (uid ${owner.uid}); waiting for the garbage collector to delete it`;
  }
  return undefined;
}

/**
 * The ephemeral cluster: created when missing; one of the same name that is going away is
 * waited for (WaitingForCluster, reason WaitingForClusterDeletion); any other that is not
 * ours fails the job (ClusterConflict), as nobody is going to remove it.
 */
function ensureCluster(ctx: JobContext, out: Outcome): void {
  if (!ctx.ephemeral || ctx.ownedCluster) return;
  if (!ctx.cluster) {
    const built = buildEphemeralCluster(ctx.job);
    // Admitted by Kueue: its pods go where the flavors Kueue assigned them say.
    const ps = ctx.queue?.admitted ? ctx.queue.placements : undefined;
    const cluster = built && ps ? placeCluster(built, ps) : built;
    if (cluster) createUnlessRefused(ctx, out, { kind: 'createCluster', cluster });
    return;
  }
  const leaving = leavingCluster(ctx, ctx.cluster);
  if (leaving) {
    out.progress = { reason: JOB_REASONS.WaitingForClusterDeletion, message: leaving };
    return out.wake(out.now + CLUSTER_DELETION_RECHECK_MS);
  }
  const message = `a ComputeCluster named ${ctx.clusterName} already exists and is not owned by this job`;
  finish(out, 'Failed', JOB_REASONS.ClusterConflict, message);
}

/** A job that is neither finished nor suspended: Pending, WaitingForCluster, Running or Retrying. */
function unfinished(ctx: JobContext, out: Outcome): void {
  out.status.startTime ??= iso(out.now);
  if (activeDeadlineExceeded(ctx, out)) return;
  ensureCluster(ctx, out);
  if (out.finished) return;
  const active = out.active;
  if (active) running(ctx, out, active);
  if (!out.finished && !out.active) waiting(ctx, out);
}

/**
 * Not admitted (or evicted) by Kueue. A driver that ended before the eviction is judged first, as
 * Kueue's jobframework reads a finished job before an eviction: a success is not thrown away.
 */
function evicted(ctx: JobContext, out: Outcome, q: Extract<Queue, { admitted: false }>): void {
  const a = out.active;
  if (a && ctx.drivers.some((p) => nameOf(p) === a.podName && hasExited(p))) running(ctx, out, a);
  if (!out.finished) queued(ctx, out, q);
}

/** How soon a job whose creates wait for a ResourceFlavor looks again (flavor events also wake it). */
const FLAVOR_RECHECK_MS = 5_000;

/**
 * Admitted, but a flavor the admission names is not known yet. A running attempt goes on (a
 * driver it would create again waits); no attempt starts and no cluster is made, and no deadline
 * runs meanwhile: the job waits in phase Queued, saying which flavor, until the flavor is seen.
 */
function waitForFlavor(ctx: JobContext, out: Outcome, why: { reason: string; message: string } | undefined): void {
  const active = out.active;
  if (active) {
    running(ctx, out, active);
    const kept = out.actions.filter((a) => a.kind !== 'createDriver' && a.kind !== 'createCluster');
    out.actions.splice(0, out.actions.length, ...kept);
  }
  if (out.finished) return;
  if (!out.active) out.status.phase = 'Queued';
  out.progress = { reason: external(why?.reason ?? 'FlavorNotFound'), message: why?.message ?? '' };
  out.wake(out.now + FLAVOR_RECHECK_MS);
}

export function decideJob(
  job: ValidComputeJob,
  cluster: ValidComputeCluster | undefined,
  drivers: V1Pod[],
  nodes: NodeLookup,
  now: number,
  seen: Observed = {},
): JobDecision {
  const ctx = jobContext(job, cluster, drivers, nodes, now, seen);
  const out = new Outcome(job.status, now);
  out.status.clusterName = ctx.clusterName;
  out.status.observedGeneration = job.metadata.generation;
  if (!out.finished) {
    if (job.spec.suspend) suspended(ctx, out);
    else if (ctx.queue && !ctx.queue.admitted) evicted(ctx, out, ctx.queue);
    else if (ctx.queue?.admitted && !ctx.queue.placements) waitForFlavor(ctx, out, ctx.queue.note);
    else unfinished(ctx, out);
    queueEvents(ctx, out);
  }
  if (out.finished) finished(ctx, out);
  return { status: finalStatus(ctx, out), actions: out.actions, wakeAt: out.wakeAt };
}

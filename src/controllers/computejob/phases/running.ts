// Phase Running: one attempt is under way. It ends when its driver exits, is deleted, loses
// its node or its master, or does not start in time; otherwise the driver is (re)created. A
// failure while its master was lost is the master's (failure-policy.ts). Drivers of ended
// attempts still alive are deleted (strays.ts).
import type { Attempt } from '../../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { isTerminating, nameOf, uidOf } from '../../../kube/meta.ts';
import type { V1Pod } from '../../../kube/types.ts';
import { nodeLoss } from '../../common/podhealth.ts';
import { conflictMessage } from '../../common/claim.ts';
import { disruptionOf, exitOf } from '../attempts.ts';
import { createUnlessRefused, type JobContext, type Outcome } from '../context.ts';
import { clusterReadyTimeout, startupDeadline } from '../deadlines.ts';
import { attemptFailed } from '../failure-policy.ts';
import { masterLoss } from '../master.ts';
import { finish } from '../status.ts';
import { nodeLossSecondsOf, stopStrayDrivers } from '../strays.ts';
import { clusterForAttempt, driverPodFor } from './waiting.ts';

/**
 * The uid of the attempt's driver, once known: recorded when the cache showed it, else the one
 * this operator's create returned (the cache may never show a pod deleted right after it was
 * created: its ADDED and DELETED read in one go, or a watch gap).
 */
function driverUid(ctx: JobContext, a: Attempt): string | undefined {
  if (a.podUID) return a.podUID;
  const made = ctx.createdDriver;
  return made && made.name === a.podName ? made.uid : undefined;
}

/**
 * A driver never created (its create refused or not yet sent) while the attempt's master was
 * lost: built now, it would talk to the current master but be judged against the old one
 * (MasterRestarted at once). The attempt is moved to the current master when the cluster is
 * Ready for it; until then nothing is created (within clusterReadyTimeoutSeconds). True when
 * the driver may be created.
 */
function retargetUncreated(ctx: JobContext, out: Outcome, a: Attempt): boolean {
  const loss = masterLoss(ctx, a);
  if (!loss) return true;
  const cluster = clusterForAttempt(ctx);
  if (cluster) {
    a.masterUID = cluster.status?.master?.uid;
    delete out.status.clusterWaitStartTime;
    return true;
  }
  const message = `${loss} before driver ${a.podName} was created; waiting for ComputeCluster ${ctx.clusterName} to be Ready`;
  out.progress = { reason: JOB_REASONS.WaitingForMaster, message };
  clusterReadyTimeout(ctx, out);
  return false;
}

/**
 * No driver (or only a terminating one): deleted after it was seen, or still to be created.
 * Deleted by Kubernetes itself (eviction, preemption, a taint: its DisruptionTarget condition,
 * on the terminating pod or its last state before it went) ends the attempt with that reason.
 */
function driverMissing(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod | undefined): void {
  const uid = driverUid(ctx, a);
  if (uid && (!pod || uidOf(pod) === uid)) {
    a.podUID = uid;
    const last = pod ?? ctx.gone.find((p) => uidOf(p) === uid);
    const disruption = disruptionOf(last);
    if (disruption) return attemptFailed(ctx, out, a, disruption);
    return attemptFailed(ctx, out, a, {
      reason: JOB_REASONS.PodDeleted,
      message: `driver pod ${a.podName} was deleted`,
    });
  }
  if (!pod && ctx.cluster && retargetUncreated(ctx, out, a)) {
    // Another's pod holds the name: said on Ready and Reconciling until it goes; the create is
    // tried again once its backoff has passed, not at every reconcile (its deletion wakes nothing:
    // a pod not Gaffer's is not in the cache).
    const conflict = ctx.driverConflict?.pod === a.podName ? ctx.driverConflict : undefined;
    const retryAt = conflict?.retryAt;
    const waitOut = retryAt !== undefined && retryAt > out.now;
    if (!waitOut) {
      createUnlessRefused(ctx, out, { kind: 'createDriver', pod: driverPodFor(ctx, ctx.cluster, a.index) });
    }
    // After the create: the conflict is what the job says, not a refusal of a create it retries.
    if (conflict)
      out.progress = { reason: JOB_REASONS.PodConflict, message: conflictMessage('ComputeJob', [conflict]) };
    if (waitOut) out.wake(retryAt);
  }
}

/** The driver exited: the attempt's result is the job's (success) or goes to failurePolicy. */
function driverEnded(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod): void {
  if (pod.status?.phase === 'Succeeded') {
    out.endAttempt(a, { exitCode: 0, reason: JOB_REASONS.Succeeded, counted: false });
    return finish(out, 'Succeeded', JOB_REASONS.Succeeded, `attempt ${a.index} succeeded`);
  }
  const e = exitOf(pod);
  attemptFailed(ctx, out, a, { ...e, message: e.message ?? `driver pod ${a.podName} failed` });
}

/** The attempt ran against one master: a new master (or none), or that master pod failed or gone, ends it. */
function masterChanged(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod): boolean {
  const loss = masterLoss(ctx, a);
  if (!loss) return false;
  out.act({ kind: 'deleteDriver', name: nameOf(pod), uid: uidOf(pod) });
  attemptFailed(ctx, out, a, { reason: JOB_REASONS.MasterRestarted, message: `${loss} during attempt ${a.index}` });
  return true;
}

/** The driver's node is lost: force it out (no kubelet will confirm) and end the attempt. */
function driverNodeLost(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod): boolean {
  const { problem, nodeLossAt } = nodeLoss(pod, ctx.nodes, nodeLossSecondsOf(ctx), out.now);
  out.wake(nodeLossAt);
  if (!problem) return false;
  out.act({ kind: 'deleteDriver', name: nameOf(pod), uid: uidOf(pod), gracePeriodSeconds: 0 });
  attemptFailed(ctx, out, a, { reason: JOB_REASONS.NodeLost, message: problem.message });
  return true;
}

export function running(ctx: JobContext, out: Outcome, a: Attempt): void {
  const pod = ctx.drivers.find((p) => nameOf(p) === a.podName);
  if (pod && !a.podUID) a.podUID = uidOf(pod);
  out.status.phase = 'Running';
  if (!ctx.cluster && !ctx.ephemeral) {
    const message = `ComputeCluster ${ctx.clusterName} was deleted while attempt ${a.index} was running`;
    return finish(out, 'Failed', JOB_REASONS.ClusterDeleted, message);
  }
  stopStrayDrivers(ctx, out, a.podName);
  if (!pod || isTerminating(pod)) return driverMissing(ctx, out, a, pod);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return driverEnded(ctx, out, a, pod);
  if (masterChanged(ctx, out, a, pod) || driverNodeLost(ctx, out, a, pod)) return;
  if (phase !== 'Running') startupDeadline(ctx, out, a, pod);
}

// Phase Running: one attempt is under way. It ends when its driver exits, is deleted, loses
// its node or its master, or does not start in time; otherwise the driver is (re)created. A
// failure while its master was lost is the master's (failure-policy.ts).
import { podRecoverySchema } from '../../../api/v1alpha1/computecluster.ts';
import type { Attempt } from '../../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { buildDriverPod } from '../../../builders/pods.ts';
import { isTerminating, nameOf, uidOf } from '../../../kube/meta.ts';
import type { V1Pod } from '../../../kube/types.ts';
import { desiredWorkerCount } from '../../computecluster/workers.ts';
import { nodeLoss } from '../../common/podhealth.ts';
import { conflictMessage } from '../../common/claim.ts';
import { disruptionOf, exitOf } from '../attempts.ts';
import { createUnlessRefused, type JobContext, type Outcome } from '../context.ts';
import { startupDeadline } from '../deadlines.ts';
import { attemptFailed } from '../failure-policy.ts';
import { masterLoss } from '../master.ts';
import { finish } from '../status.ts';

/**
 * No driver (or only a terminating one): deleted after it was seen, or still to be created.
 * Deleted by Kubernetes itself (eviction, preemption, a taint: its DisruptionTarget condition,
 * on the terminating pod or its last state before it went) ends the attempt with that reason.
 */
function driverMissing(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod | undefined): void {
  if (a.podUID && (!pod || uidOf(pod) === a.podUID)) {
    const last = pod ?? ctx.gone.find((p) => uidOf(p) === a.podUID);
    const disruption = disruptionOf(last);
    if (disruption) return attemptFailed(ctx, out, a, disruption);
    return attemptFailed(ctx, out, a, {
      reason: JOB_REASONS.PodDeleted,
      message: `driver pod ${a.podName} was deleted`,
    });
  }
  if (!pod && ctx.cluster) {
    const driver = buildDriverPod(ctx.job, ctx.cluster, a.index, desiredWorkerCount(ctx.cluster));
    createUnlessRefused(ctx, out, { kind: 'createDriver', pod: driver });
    // Another's pod holds the name: said on Ready and Reconciling until it goes (tried again each time).
    const conflict = ctx.driverConflict;
    if (conflict && conflict.pod === a.podName) {
      out.progress = { reason: JOB_REASONS.PodConflict, message: conflictMessage('ComputeJob', [conflict]) };
    }
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

/** spec.podRecovery.nodeLossSeconds of a cluster that does not set it (the schema's default). */
const DEFAULT_NODE_LOSS_SECONDS = Number(
  (podRecoverySchema.properties.nodeLossSeconds as { default?: number }).default,
);

/** The driver's node is lost: force it out (no kubelet will confirm) and end the attempt. */
function driverNodeLost(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod): boolean {
  // The cluster's setting; an ephemeral cluster gone from the cache counts as one that does not set it.
  const seconds = ctx.cluster?.spec.podRecovery.nodeLossSeconds ?? DEFAULT_NODE_LOSS_SECONDS;
  const { problem, nodeLossAt } = nodeLoss(pod, ctx.nodes, seconds, out.now);
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
  if (!pod || isTerminating(pod)) return driverMissing(ctx, out, a, pod);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return driverEnded(ctx, out, a, pod);
  if (masterChanged(ctx, out, a, pod) || driverNodeLost(ctx, out, a, pod)) return;
  if (phase !== 'Running') startupDeadline(ctx, out, a, pod);
}

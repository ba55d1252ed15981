// The job's clocks: activeDeadlineSeconds (the whole job), startupDeadlineSeconds (one
// attempt until Running) and clusterReadyTimeoutSeconds (waiting for the cluster).
import type { Attempt } from '../../api/v1alpha1/index.ts';
import { JOB_REASONS } from '../../api/v1alpha1/reasons.ts';
import { nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { iso, ms } from '../common/time.ts';
import { blockerOf } from './attempts.ts';
import type { JobContext, Outcome } from './context.ts';
import { attemptFailed } from './failure-policy.ts';
import { finish } from './status.ts';

/** activeDeadlineSeconds, counted from the job's start (retries included). True when it failed the job. */
export function activeDeadlineExceeded(ctx: JobContext, out: Outcome): boolean {
  const seconds = ctx.job.spec.activeDeadlineSeconds;
  if (!seconds) return false;
  const deadline = (ms(out.status.startTime) ?? out.now) + seconds * 1000;
  if (out.now < deadline) {
    out.wake(deadline);
    return false;
  }
  finish(out, 'Failed', JOB_REASONS.DeadlineExceeded, `the job ran longer than activeDeadlineSeconds ${seconds}`);
  return true;
}

/** An attempt not Running within startupDeadlineSeconds fails with what blocks it as its reason. */
export function startupDeadline(ctx: JobContext, out: Outcome, a: Attempt, pod: V1Pod): void {
  const seconds = ctx.job.spec.startupDeadlineSeconds;
  const startBy = (ms(a.startTime) ?? out.now) + seconds * 1000;
  if (out.now < startBy) return out.wake(startBy);
  const b = blockerOf(pod);
  out.act({ kind: 'deleteDriver', name: nameOf(pod), uid: uidOf(pod) });
  const message = `attempt ${a.index} did not start within startupDeadlineSeconds ${seconds}: ${b.message}`;
  attemptFailed(ctx, out, a, { reason: b.reason, message });
}

/** clusterReadyTimeoutSeconds, counted from when the job started waiting (kept across restarts). */
export function clusterReadyTimeout(ctx: JobContext, out: Outcome): void {
  const st = out.status;
  const seconds = ctx.job.spec.clusterReadyTimeoutSeconds;
  st.clusterWaitStartTime ??= iso(out.now);
  const timeoutAt = (ms(st.clusterWaitStartTime) ?? out.now) + seconds * 1000;
  if (out.now < timeoutAt) return out.wake(timeoutAt);
  const state = ctx.cluster ? 'was not Ready' : 'did not exist';
  const message = `ComputeCluster ${ctx.clusterName} ${state} within clusterReadyTimeoutSeconds ${seconds}`;
  finish(out, 'Failed', JOB_REASONS.ClusterNotReady, message);
}

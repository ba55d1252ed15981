// Reading a driver pod: how its attempt ended, or why it has not started (pure).
import { ATTEMPT_END_REASONS, external, type Reason } from '../../api/v1alpha1/reasons.ts';
import { nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';

export interface AttemptEnd {
  exitCode?: number;
  reason: Reason;
  message?: string;
}

/** A failed driver's end: the first non-zero container exit (the kubelet's reason), or the pod's. */
export function exitOf(pod: V1Pod): AttemptEnd {
  const terms = (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated).filter((t) => !!t);
  const bad = terms.find((t) => t.exitCode !== 0) ?? terms[0];
  if (pod.status?.reason === 'Evicted') {
    return { exitCode: bad?.exitCode, reason: ATTEMPT_END_REASONS.Evicted, message: pod.status.message };
  }
  const reason = bad?.reason ?? pod.status?.reason;
  return {
    exitCode: bad?.exitCode,
    reason: reason !== undefined ? external(reason) : ATTEMPT_END_REASONS.Failed,
    message: bad?.message ?? pod.status?.message,
  };
}

/** Why a driver pod has not started: the container's waiting reason, or Unschedulable. */
export function blockerOf(pod: V1Pod | undefined): { reason: Reason; message: string } {
  const waiting = pod?.status?.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason);
  if (waiting?.reason) return { reason: external(waiting.reason), message: waiting.message ?? waiting.reason };
  const sched = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) {
    return {
      reason: sched.reason !== undefined ? external(sched.reason) : ATTEMPT_END_REASONS.Unschedulable,
      message: sched.message ?? 'the driver pod could not be scheduled',
    };
  }
  const message = pod ? `driver pod ${nameOf(pod)} did not start` : 'the driver pod was not created';
  return { reason: ATTEMPT_END_REASONS.StartupTimeout, message };
}

// Reading a driver pod: how its attempt ended, or why it has not started (pure).
import { ATTEMPT_END_REASONS, DISRUPTION_REASONS, external, type Reason } from '../../api/v1alpha1/reasons.ts';
import { nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { startupBlocker } from '../common/startup.ts';

export interface AttemptEnd {
  exitCode?: number;
  reason: Reason;
  message?: string;
  /** When the driver's last container stopped (ms), when the kubelet said: not stored, for blame. */
  finishedAt?: number;
}

/** When the last of the pod's containers terminated (ms since the epoch), if any did and said when. */
export function finishedAtOf(pod: V1Pod | undefined): number | undefined {
  const times = (pod?.status?.containerStatuses ?? [])
    .map((c) => Date.parse(String(c.state?.terminated?.finishedAt ?? '')))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : undefined;
}

/** The pod condition Kubernetes sets on a pod it is taking away (eviction, preemption, taint, kubelet). */
const DISRUPTION_TARGET = 'DisruptionTarget';
const KNOWN_DISRUPTIONS = new Set<string>(Object.values(DISRUPTION_REASONS));

/**
 * Why Kubernetes took the pod away, if it did: its DisruptionTarget condition. A reason not
 * known here (a newer Kubernetes) is passed on as it is.
 */
export function disruptionOf(pod: V1Pod | undefined): { reason: Reason; message: string } | undefined {
  const c = pod?.status?.conditions?.find((x) => x.type === DISRUPTION_TARGET && x.status === 'True');
  if (!c || !pod) return undefined;
  const reason = c.reason ?? '';
  const message = `driver pod ${nameOf(pod)} was disrupted: ${c.message ?? reason}`;
  return {
    reason: KNOWN_DISRUPTIONS.has(reason) ? (reason as Reason) : external(reason || DISRUPTION_TARGET),
    message,
  };
}

/**
 * A failed driver's end: Evicted by the kubelet, a disruption (DisruptionTarget), else the
 * first non-zero container exit (the kubelet's reason), or the pod's.
 */
export function exitOf(pod: V1Pod): AttemptEnd {
  const terms = (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated).filter((t) => !!t);
  const bad = terms.find((t) => t.exitCode !== 0) ?? terms[0];
  if (pod.status?.reason === 'Evicted') {
    return { exitCode: bad?.exitCode, reason: ATTEMPT_END_REASONS.Evicted, message: pod.status.message };
  }
  const disruption = disruptionOf(pod);
  if (disruption) return { exitCode: bad?.exitCode, ...disruption };
  const reason = bad?.reason ?? pod.status?.reason;
  return {
    exitCode: bad?.exitCode,
    reason: reason !== undefined ? external(reason) : ATTEMPT_END_REASONS.Failed,
    message: bad?.message ?? pod.status?.message,
    finishedAt: finishedAtOf(pod),
  };
}

/** Why a driver pod has not started: the container's waiting reason, or Unschedulable. */
export function blockerOf(pod: V1Pod | undefined): { reason: Reason; message: string } {
  const b = pod && startupBlocker(pod);
  if (b) return { reason: external(b.reason), message: b.message };
  const message = pod ? `driver pod ${nameOf(pod)} did not start` : 'the driver pod was not created';
  return { reason: ATTEMPT_END_REASONS.StartupTimeout, message };
}

// Why a pod has not started, in the words of the component that knows: a container's waiting
// reason from its kubelet (ImagePullBackOff, CreateContainerConfigError, ...), else the
// scheduler's PodScheduled=False (Unschedulable, with "0/3 nodes are available: ...").
import type { V1Pod } from '../../kube/types.ts';

export interface StartupBlocker {
  /** The kubelet's or scheduler's reason, passed on as it is. */
  reason: string;
  message: string;
  /** The waiting container, when the kubelet said it. */
  container?: { name: string; image?: string };
}

/** What keeps the pod from starting, if anything says so (init containers first, as they run first). */
export function startupBlocker(pod: V1Pod): StartupBlocker | undefined {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const c = statuses.find((s) => s.state?.waiting?.reason);
  const waiting = c?.state?.waiting;
  if (c && waiting?.reason)
    return {
      reason: waiting.reason,
      message: waiting.message ?? waiting.reason,
      container: { name: c.name, image: c.image },
    };
  const sched = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
  if (sched)
    return { reason: sched.reason || 'Unschedulable', message: sched.message ?? 'the pod could not be scheduled' };
  return undefined;
}

// spec.podRecovery.startupDeadlineSeconds: a pod that does not start is said on the cluster, with
// what blocks it, instead of only WorkersReady=False. It is reported, never recreated: a new pod
// meets the same blocker (an image that cannot be pulled, a Secret that is missing, no node that
// fits), while the kubelet and the scheduler keep retrying the one there is. (pure)
//
// The reason and message are kept stable while the blocker lasts (each change is a status write):
// the kubelet's alternating ErrImagePull/ImagePullBackOff are one reason, a crash-looping init
// container is named by its last exit rather than by its changing back-off message.
import { CLUSTER_REASONS } from '../../api/v1alpha1/reasons.ts';
import { isTerminating, nameOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { startupBlocker, type StartupBlocker } from '../common/startup.ts';
import { ms } from '../common/time.ts';
import type { Observed } from './observe.ts';

/** The kubelet alternates these while it retries a pull: one reason on the cluster. */
const PULL_ERRORS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff']);
/** Image errors reported at once: waiting does not fix them (a tag pushed later is the exception). */
export const IMAGE_ERRORS: ReadonlySet<string> = new Set([...PULL_ERRORS, 'InvalidImageName', 'ErrImageNeverPull']);
/** Waiting reasons that are progress, not a blocker: past the deadline they are a StartupTimeout. */
const PROGRESS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);
/** Held back on purpose until something (a queue such as Kueue) removes its scheduling gates. */
const GATED = 'SchedulingGated';
/** Condition messages are bounded as Event notes are. */
const MAX_MESSAGE = 1024;

export interface StartupBlocked extends StartupBlocker {
  /** The pods blocked, master first, then workers by index. */
  pods: string[];
}

export interface StartupCheck {
  blocked?: StartupBlocked;
  /** When the next pod reaches its deadline (to look again then). */
  wakeAt?: number;
}

/** A pod that has not started yet and is not going away. */
const starting = (p: V1Pod): boolean => !isTerminating(p) && (p.status?.phase ?? 'Pending') === 'Pending';

/** An init container that failed and is being restarted (its waiting message changes with each back-off). */
function initCrashLoop(p: V1Pod): StartupBlocker | undefined {
  const c = p.status?.initContainerStatuses?.find((s) => s.restartCount > 0 && s.lastState?.terminated);
  const t = c?.lastState?.terminated;
  if (!c || !t) return undefined;
  const how = `${t.reason ?? 'Error'} (exit code ${t.exitCode})`;
  return { reason: 'CrashLoopBackOff', message: `init container ${c.name} keeps failing: ${how}` };
}

/** What blocks the pod, in a stable form; 'gated' for a pod held on purpose; undefined: nothing specific. */
function blockerOf(p: V1Pod): StartupBlocker | 'gated' | undefined {
  const crash = initCrashLoop(p);
  if (crash) return crash;
  const b = startupBlocker(p);
  if (!b || PROGRESS.has(b.reason)) return undefined;
  if (b.reason === GATED) return 'gated';
  if (!PULL_ERRORS.has(b.reason)) return b;
  const what = `image ${JSON.stringify(b.container?.image ?? '')} of container ${b.container?.name ?? ''}`;
  return { reason: 'ImagePullBackOff', message: `${what} cannot be pulled (kubectl describe pod ${nameOf(p)})` };
}

/** The blocker of one pod if it is to be reported now, else when it would be. */
function judge(p: V1Pod, deadlineSeconds: number, now: number): { blocker?: StartupBlocker; dueAt?: number } {
  const blocker = blockerOf(p);
  if (blocker === 'gated') return {};
  const pod = nameOf(p);
  if (blocker && IMAGE_ERRORS.has(blocker.reason))
    return { blocker: { reason: blocker.reason, message: `pod ${pod} cannot start: ${blocker.message}` } };
  // The API server always sets creationTimestamp; without any time the pod is judged from now on.
  const since = ms(p.metadata?.creationTimestamp) ?? ms(p.status?.startTime) ?? now;
  const dueAt = since + deadlineSeconds * 1000;
  if (now < dueAt) return { dueAt };
  const why = blocker ?? { reason: CLUSTER_REASONS.StartupTimeout, message: 'it is still Pending' };
  const message = `pod ${pod} did not start within startupDeadlineSeconds ${deadlineSeconds}: ${why.message}`;
  return { blocker: { reason: why.reason, message } };
}

/** The first blocked pod's reason and message (with how many more are blocked), and when to look again. */
export function startupDeadline(obs: Observed, deadlineSeconds: number, now: number): StartupCheck {
  const pods = [obs.master, ...obs.workers];
  const blocked: { pod: string; blocker: StartupBlocker }[] = [];
  let wakeAt: number | undefined;
  for (const p of pods) {
    if (!p || !starting(p)) continue;
    const { blocker, dueAt } = judge(p, deadlineSeconds, now);
    if (blocker) blocked.push({ pod: nameOf(p), blocker });
    if (dueAt !== undefined) wakeAt = Math.min(wakeAt ?? dueAt, dueAt);
  }
  const first = blocked[0];
  if (!first) return { wakeAt };
  const more = blocked.length > 1 ? ` (and ${blocked.length - 1} more pod(s) not started)` : '';
  const message = first.blocker.message.slice(0, MAX_MESSAGE - more.length) + more;
  return { blocked: { reason: first.blocker.reason, message, pods: blocked.map((b) => b.pod) }, wakeAt };
}

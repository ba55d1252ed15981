// spec.scheduling.gang: whether the gang is placed, as the Scheduled condition (pure).
import type { ValidComputeCluster } from '../../api/v1alpha1/index.ts';
import { CLUSTER_REASONS as R, CONDITIONS } from '../../api/v1alpha1/reasons.ts';
import { gangMinCount, isGangMember } from '../../builders/gang.ts';
import { isTerminating } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import type { ConditionInput } from '../common/conditions.ts';
import { ms } from '../common/time.ts';
import type { Observed } from './observe.ts';

export interface GangCheck {
  condition?: ConditionInput;
  /** When the oldest unbound pod's wait passes timeoutSeconds: look again then. */
  wakeAt?: number;
}

/** The scheduler's own word on why a pod is not bound: its PodScheduled=False condition. */
const unschedulable = (p: V1Pod) =>
  p.status?.conditions?.find((k) => k.type === 'PodScheduled' && k.status === 'False' && k.reason);

/**
 * Scheduled=True once at least minCount of the gang's pods (the master and workers) are bound
 * to nodes. Until then False: reason Scheduling while the oldest unbound pod has waited less
 * than timeoutSeconds, then the scheduler's reason and message (Unschedulable: "0/3 nodes are
 * available: ..."), else GangTimeout. A PodGroup the API server refused says so first.
 */
export function gangScheduled(
  c: ValidComputeCluster,
  obs: Observed,
  podGroupError: string | undefined,
  now: number,
): GangCheck {
  const gang = c.spec.scheduling?.gang;
  const type = CONDITIONS.Scheduled;
  // Also without a gang: a PodGroup that could not be deleted keeps the condition (and the retry).
  if (podGroupError) return { condition: { type, status: 'False', reason: R.PodGroupRefused, message: podGroupError } };
  if (!gang) return {};
  if (c.spec.suspend)
    return { condition: { type, status: 'False', reason: R.Suspended, message: 'the cluster is suspended' } };
  const min = gangMinCount(c);
  // Only the gang's members: pods made before it was turned on are placed on their own.
  const pods = [obs.master, ...obs.workers].filter((p): p is V1Pod => !!p && !isTerminating(p) && isGangMember(c, p));
  const bound = pods.filter((p) => !!p.spec?.nodeName).length;
  const exist = pods.length < min ? `, ${pods.length} exist` : '';
  const counts = `${bound} of the gang's ${min} pod(s) bound${exist} (minMember ${gang.minMember})`;
  if (bound >= min) return { condition: { type, status: 'True', reason: R.GangScheduled, message: counts } };
  const waiting = pods.filter((p) => !p.spec?.nodeName);
  const since = Math.min(...waiting.map((p) => ms(p.metadata?.creationTimestamp) ?? now), now);
  const dueAt = since + gang.timeoutSeconds * 1000;
  if (now < dueAt) {
    return {
      condition: { type, status: 'False', reason: R.Scheduling, message: `${counts}; waiting for the scheduler` },
      wakeAt: dueAt,
    };
  }
  const why = waiting.map(unschedulable).find((k) => k);
  const reason = why?.reason ?? R.GangTimeout;
  const message = `${counts} after timeoutSeconds ${gang.timeoutSeconds}${why?.message ? `: ${why.message}` : ''}`;
  return { condition: { type, status: 'False', reason, message: message.slice(0, 1024) } };
}

// The master an attempt ran against (by uid; status.attempts[].masterUID): replaced or lost, it
// ended the attempt. The cluster's status says so once the cluster controller has caught up;
// the master pod in the cache says so as soon as the pod fails or goes, which a job reconciling
// on its driver's failure may see first (pure).
import type { Attempt } from '../../api/v1alpha1/index.ts';
import { names } from '../../builders/labels.ts';
import { hasExited, isTerminating, uidOf } from '../../kube/meta.ts';
import { finishedAtOf } from './attempts.ts';
import type { JobContext } from './context.ts';

/** Why the master pod `uid` is lost by the cache's account, if it is (unknown when the masters were not looked up). */
export function masterPodLoss(ctx: JobContext, uid: string | undefined): string | undefined {
  if (!ctx.masters || !uid) return undefined;
  const pod = `master pod ${names.master(ctx.clusterName)} (uid ${uid})`;
  const m = ctx.masters.find((p) => uidOf(p) === uid);
  if (!m) return `${pod} is gone`;
  if (isTerminating(m)) return `${pod} is being deleted`;
  if (m.status?.phase === 'Failed') return `${pod} failed`;
  if (m.status?.phase === 'Succeeded') return `${pod} exited`;
  return undefined;
}

/**
 * Why the attempt's master is no longer the cluster's live master, if it is not: another (or
 * no) master in the cluster's status, or that master pod failed or gone.
 */
export function masterLoss(ctx: JobContext, a: Attempt): string | undefined {
  if (!ctx.cluster) return undefined; // deleted: ClusterDeleted, or an ephemeral cluster gone from the cache
  const current = ctx.cluster.status?.master?.uid;
  if (current !== a.masterUID)
    return `the master of ${ctx.clusterName} changed (${a.masterUID} -> ${current || 'none'})`;
  return masterPodLoss(ctx, a.masterUID);
}

/**
 * When the master pod `uid` was lost, if the cache still shows it lost: the delete request
 * (deletionTimestamp less the grace period) or its containers' end. Unknown once it is gone.
 */
export function masterPodLostAt(ctx: JobContext, uid: string | undefined): number | undefined {
  const m = ctx.masters?.find((p) => uidOf(p) === uid);
  if (!m) return undefined;
  if (m.metadata?.deletionTimestamp) {
    const grace = (m.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    return Date.parse(String(m.metadata.deletionTimestamp)) - grace;
  }
  return hasExited(m) ? finishedAtOf(m) : undefined;
}

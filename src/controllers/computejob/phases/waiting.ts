// Phases Pending, WaitingForCluster and Retrying: no attempt is under way. The next one
// starts once the backoff has passed and the cluster is Ready, within clusterReadyTimeoutSeconds.
import type { ValidComputeCluster } from '../../../api/v1alpha1/index.ts';
import { CONDITIONS, JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { names } from '../../../builders/labels.ts';
import { buildDriverPod } from '../../../builders/pods.ts';
import { nameOf } from '../../../kube/meta.ts';
import { desiredWorkerCount } from '../../computecluster/workers.ts';
import { iso, ms } from '../../common/time.ts';
import type { JobContext, Outcome } from '../context.ts';
import { clusterReadyTimeout } from '../deadlines.ts';
import { masterPodLoss } from '../master.ts';

/** Ready for the spec it was given, with a master: a driver started now has a master to talk to. */
export function clusterReady(c: ValidComputeCluster | undefined): c is ValidComputeCluster {
  if (!c?.status?.master?.uid) return false;
  return !!c.status.conditions?.some(
    (x) => x.type === CONDITIONS.Ready && x.status === 'True' && x.observedGeneration === c.metadata.generation,
  );
}

function startAttempt(ctx: JobContext, out: Outcome, cluster: ValidComputeCluster): void {
  const st = out.status;
  const index = st.attemptCount;
  const podName = names.driver(nameOf(ctx.job), index);
  st.attempts.push({ index, podName, masterUID: cluster.status?.master?.uid, startTime: iso(out.now) });
  st.attemptCount = index + 1;
  st.phase = 'Running';
  delete st.nextAttemptTime;
  delete st.clusterWaitStartTime;
  out.act({ kind: 'createDriver', pod: buildDriverPod(ctx.job, cluster, index, desiredWorkerCount(cluster)) });
  out.event('Normal', JOB_REASONS.AttemptStarted, `attempt ${index} started on ${ctx.clusterName} (driver ${podName})`);
}

export function waiting(ctx: JobContext, out: Outcome): void {
  const next = ms(out.status.nextAttemptTime);
  if (next !== undefined && out.now < next) {
    out.status.phase = 'Retrying';
    return out.wake(next);
  }
  const cluster = ctx.ephemeral ? ctx.ownedCluster : ctx.cluster;
  // Not against a master the cache shows failed or gone while the cluster's status catches up.
  if (clusterReady(cluster) && !masterPodLoss(ctx, cluster.status?.master?.uid)) return startAttempt(ctx, out, cluster);
  out.status.phase = 'WaitingForCluster';
  clusterReadyTimeout(ctx, out);
}

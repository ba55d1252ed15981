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
import { stopStrayDrivers } from '../strays.ts';

/** Ready for the spec it was given, with a master: a driver started now has a master to talk to. */
export function clusterReady(c: ValidComputeCluster | undefined): c is ValidComputeCluster {
  if (!c?.status?.master?.uid) return false;
  return !!c.status.conditions?.some(
    (x) => x.type === CONDITIONS.Ready && x.status === 'True' && x.observedGeneration === c.metadata.generation,
  );
}

/**
 * The cluster an attempt may start on (or its driver be created for) now: Ready, and not with
 * a master the cache shows failed or gone while the cluster's status catches up.
 */
export function clusterForAttempt(ctx: JobContext): ValidComputeCluster | undefined {
  const cluster = ctx.ephemeral ? ctx.ownedCluster : ctx.cluster;
  return clusterReady(cluster) && !masterPodLoss(ctx, cluster.status?.master?.uid) ? cluster : undefined;
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
  stopStrayDrivers(ctx, out); // no attempt is under way: no driver may run
  const next = ms(out.status.nextAttemptTime);
  if (next !== undefined && out.now < next) {
    out.status.phase = 'Retrying';
    return out.wake(next);
  }
  const cluster = clusterForAttempt(ctx);
  if (cluster) return startAttempt(ctx, out, cluster);
  out.status.phase = 'WaitingForCluster';
  clusterReadyTimeout(ctx, out);
}

// Phases Pending, WaitingForCluster and Retrying: no attempt is under way. The next one
// starts once the backoff has passed and the cluster is Ready, within clusterReadyTimeoutSeconds.
import type { ValidComputeCluster } from '../../../api/v1alpha1/index.ts';
import { CONDITIONS, JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { names } from '../../../builders/labels.ts';
import { buildDriverPod } from '../../../builders/pods.ts';
import { placeSpec, POD_SETS } from '../../../builders/workload.ts';
import { nameOf } from '../../../kube/meta.ts';
import type { V1Pod } from '../../../kube/types.ts';
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

/** How soon a job waiting for an earlier driver to stop looks again (its pod events wake it sooner). */
const STRAY_RECHECK_MS = 5_000;

/** The driver pod of an attempt; admitted by Kueue, it goes where the flavor of its pod set says. */
export function driverPodFor(ctx: JobContext, cluster: ValidComputeCluster, index: number): V1Pod {
  const pod = buildDriverPod(ctx.job, cluster, index, desiredWorkerCount(cluster));
  if (ctx.queue?.admitted) pod.spec = placeSpec(pod.spec!, ctx.queue.placements?.get(POD_SETS.driver));
  return pod;
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
  out.act({ kind: 'createDriver', pod: driverPodFor(ctx, cluster, index) });
  out.event('Normal', JOB_REASONS.AttemptStarted, `attempt ${index} started on ${ctx.clusterName} (driver ${podName})`);
}

export function waiting(ctx: JobContext, out: Outcome): void {
  const strays = stopStrayDrivers(ctx, out); // no attempt is under way: no driver may run
  const next = ms(out.status.nextAttemptTime);
  if (next !== undefined && out.now < next) {
    out.status.phase = 'Retrying';
    return out.wake(next);
  }
  // At most one driver runs per job: the next attempt starts once an earlier one's driver is
  // seen stopping (its delete may have been refused, 429, and is sent again meanwhile).
  if (strays.length) {
    out.status.phase = out.status.attemptCount ? 'Retrying' : 'Pending';
    out.progress = {
      reason: JOB_REASONS.WaitingForDriverStop,
      message: `waiting for driver ${strays.join(', ')} of an earlier attempt to stop before the next attempt starts`,
    };
    return out.wake(out.now + STRAY_RECHECK_MS);
  }
  const cluster = clusterForAttempt(ctx);
  if (cluster) return startAttempt(ctx, out, cluster);
  out.status.phase = 'WaitingForCluster';
  clusterReadyTimeout(ctx, out);
}

// Phase Queued (a job labelled kueue.x-k8s.io/queue-name whose Workload Kueue has not admitted,
// or has evicted): nothing of the job runs. A running attempt ends uncounted (Preempted when Kueue
// preempted it, else Requeued), its driver stops and the ephemeral cluster goes, as on suspend;
// the deadlines restart at the next admission, as Kueue's own integrations restart a Job's.
import { CONDITIONS, external, JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { ADMITTED } from '../status.ts';
import { deleteOwnedCluster } from '../cleanup.ts';
import { stopStrayDrivers } from '../strays.ts';
import type { JobContext, Outcome } from '../context.ts';
import { WL, type Queue } from '../../common/queue.ts';

/** How soon an evicted job whose pods are stopping looks again, to release its quota. */
const RELEASE_RECHECK_MS = 2_000;

export function queued(ctx: JobContext, out: Outcome, q: Extract<Queue, { admitted: false }>): void {
  const st = out.status;
  const active = out.active;
  if (active) {
    const reason = q.evicted?.reason === WL.Preempted ? JOB_REASONS.Preempted : JOB_REASONS.Requeued;
    const message = `Kueue evicted the job's Workload (${q.evicted?.reason ?? q.reason}): ${q.evicted?.message ?? q.message}`;
    out.endAttempt(active, { reason, message, counted: false });
    out.event('Normal', reason, `attempt ${active.index} stopped, not counted: ${message}`);
  }
  // As strays: one on a lost node is forced out, else the quota it holds would wait for the node.
  stopStrayDrivers(ctx, out);
  deleteOwnedCluster(ctx, out);
  // Its quota is released once nothing of it runs: the last pod's going may wake nothing (a worker's).
  if (q.releasing) out.wake(out.now + RELEASE_RECHECK_MS);
  st.phase = 'Queued';
  out.progress = { reason: JOB_REASONS.Queued, message: q.message };
  delete st.startTime;
  delete st.nextAttemptTime;
  delete st.clusterWaitStartTime;
}

/**
 * Events of a queued job's standing, when it changes: Queued with Kueue's message (each new one:
 * which queue, what quota is missing), Admitted once Kueue admits it.
 */
export function queueEvents(ctx: JobContext, out: Outcome): void {
  const q = ctx.queue;
  if (!q || out.finished || ctx.job.spec.suspend) return;
  const prev = ctx.job.status?.conditions?.find((c) => c.type === CONDITIONS.Queued);
  if (!q.admitted && (prev?.status !== 'True' || prev.message !== q.message))
    out.event('Normal', JOB_REASONS.Queued, q.message);
  if (!q.admitted) return;
  const [reason, message] = q.note ? [external(q.note.reason), q.note.message] : [JOB_REASONS.Admitted, ADMITTED];
  if (prev?.status !== 'False' || prev.reason !== reason) out.event('Normal', reason, message);
}

// Phase Suspended (spec.suspend): the running attempt ends uncounted, drivers stop, the
// ephemeral cluster goes; the deadlines restart on resume, as batch/v1 Job does.
import { JOB_REASONS } from '../../../api/v1alpha1/reasons.ts';
import { deleteOwnedCluster, stopDrivers } from '../cleanup.ts';
import type { JobContext, Outcome } from '../context.ts';

export function suspended(ctx: JobContext, out: Outcome): void {
  const st = out.status;
  const active = out.active;
  if (active) {
    out.endAttempt(active, { reason: JOB_REASONS.Suspended, message: 'the job was suspended', counted: false });
    out.event('Normal', JOB_REASONS.Suspended, 'the job was suspended; its driver is stopped');
  }
  stopDrivers(ctx, out);
  deleteOwnedCluster(ctx, out);
  st.phase = 'Suspended';
  delete st.startTime;
  delete st.nextAttemptTime;
  delete st.clusterWaitStartTime;
}

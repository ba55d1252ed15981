// Phases Succeeded and Failed: nothing runs any more; the ephemeral cluster per
// cleanupPolicy, and the job itself after ttlSecondsAfterFinished.
import { cleanupCluster, stopDrivers } from '../cleanup.ts';
import type { JobContext, Outcome } from '../context.ts';
import { ttlAfterFinished } from '../ttl.ts';

export function finished(ctx: JobContext, out: Outcome): void {
  for (const a of out.status.attempts)
    if (!a.finishTime) out.endAttempt(a, { reason: out.status.reason, counted: false });
  stopDrivers(ctx, out);
  cleanupCluster(ctx, out);
  ttlAfterFinished(ctx, out);
}

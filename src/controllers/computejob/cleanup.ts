// spec.cleanupPolicy, and stopping drivers: what a job leaves running when it stops.
import { hasExited, isTerminating, nameOf, uidOf } from '../../kube/meta.ts';
import type { JobContext, Outcome } from './context.ts';

/** Deletes every driver pod still running (a finished or suspended job runs nothing). */
export function stopDrivers(ctx: JobContext, out: Outcome): void {
  for (const p of ctx.drivers) {
    if (!isTerminating(p) && !hasExited(p)) out.act({ kind: 'deleteDriver', name: nameOf(p), uid: uidOf(p) });
  }
}

/** Deletes the job's ephemeral cluster (uid precondition: never another job's cluster of the same name). */
export function deleteOwnedCluster(ctx: JobContext, out: Outcome): void {
  if (ctx.ownedCluster && !isTerminating(ctx.ownedCluster))
    out.act({ kind: 'deleteCluster', name: ctx.clusterName, uid: uidOf(ctx.ownedCluster) });
}

/** A finished job's ephemeral cluster: Delete always, KeepOnFailure only after success, Keep never. */
export function cleanupCluster(ctx: JobContext, out: Outcome): void {
  const policy = ctx.job.spec.cleanupPolicy;
  const owned = ctx.ownedCluster;
  if (!owned || owned.metadata.deletionTimestamp) return;
  if (policy === 'Delete' || (policy === 'KeepOnFailure' && out.status.phase === 'Succeeded')) {
    deleteOwnedCluster(ctx, out);
  }
}

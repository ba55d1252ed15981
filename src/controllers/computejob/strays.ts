// Drivers an unfinished job no longer wants: the pods of attempts that ended while their pod
// still runs. An attempt's end is written (the intent) before its driver is deleted; when that
// delete does not land (the write fence, a crash, a 5xx), the retried reconcile reads an ended
// attempt and would never plan that delete again. So every reconcile of an unfinished job
// deletes them, as the Job controller removes active pods beyond the one it wants (pure).
import { podRecoverySchema } from '../../api/v1alpha1/computecluster.ts';
import { hasExited, isTerminating, nameOf, uidOf } from '../../kube/meta.ts';
import type { V1Pod } from '../../kube/types.ts';
import { nodeLoss } from '../common/podhealth.ts';
import type { JobContext, Outcome } from './context.ts';

/** spec.podRecovery.nodeLossSeconds of a cluster that does not set it (the schema's default). */
const DEFAULT_NODE_LOSS_SECONDS = Number(
  (podRecoverySchema.properties.nodeLossSeconds as { default?: number }).default,
);

/** The cluster's nodeLossSeconds; an ephemeral cluster gone from the cache counts as one that does not set it. */
export const nodeLossSecondsOf = (ctx: JobContext): number =>
  ctx.cluster?.spec.podRecovery.nodeLossSeconds ?? DEFAULT_NODE_LOSS_SECONDS;

/** A pod that still runs (or may): neither exited nor already being deleted. */
const alive = (p: V1Pod): boolean => !isTerminating(p) && !hasExited(p);

/**
 * Deletes every driver of the job that is alive and is not `keep` (the active attempt's pod
 * name), unless this decision already deletes it. Ended drivers are kept for their logs. One on
 * a lost node is forced out (grace 0), as driverNodeLost would have: no kubelet will confirm.
 * Returns the names of those alive: being deleted, but not yet seen terminating.
 */
export function stopStrayDrivers(ctx: JobContext, out: Outcome, keep?: string): string[] {
  const planned = new Set(out.actions.flatMap((a) => (a.kind === 'deleteDriver' ? [a.uid] : [])));
  const strays: string[] = [];
  for (const p of ctx.drivers) {
    if (nameOf(p) === keep || planned.has(uidOf(p))) continue;
    if (alive(p)) strays.push(nameOf(p));
    else if (!terminatingGracefully(p)) continue;
    const { problem, nodeLossAt } = nodeLoss(p, ctx.nodes, nodeLossSecondsOf(ctx), out.now);
    out.wake(nodeLossAt);
    if (!alive(p) && !problem) continue; // terminating: its kubelet will finish it
    out.act({ kind: 'deleteDriver', name: nameOf(p), uid: uidOf(p), ...(problem ? { gracePeriodSeconds: 0 } : {}) });
  }
  return strays;
}

/**
 * A stray already terminating with a grace period, not yet exited: gone once its kubelet
 * confirms, or forced out (grace 0) once its node counts as lost, since then no kubelet will
 * (a graceful delete sent while the node's loss was not yet due would otherwise leave it
 * terminating until the node comes back).
 */
const terminatingGracefully = (p: V1Pod): boolean =>
  isTerminating(p) && p.metadata?.deletionGracePeriodSeconds !== 0 && !hasExited(p);
